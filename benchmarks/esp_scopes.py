"""The ESPs a store holds, as every search asks them: loose index scan vs DISTINCT over every version.

    .venv/bin/python benchmarks/esp_scopes.py --versions 1000000

Fills a fresh SQLite store's report_versions with --versions minimal rows over 12 ESPs, then prints the median of 7
calls of `search.lookup.esp_scopes` (index seeks) against the plain DISTINCT with the index and without it.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tipfusion.search.lookup import esp_scopes
from tipfusion.store.db import make_engine, upgrade

INSERT = (
    "INSERT INTO report_versions (report_id, version, content_hash, ingested_at, run_id, format, esp_scope, "
    "incident_type_known, additional_info) VALUES (?, 1, ?, '2026-01-01 00:00:00', 1, 'esp_xml', ?, 1, ?)"
)


def _ms(call: Callable[[], object]) -> float:
    times = []
    for _ in range(7):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--versions", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "store.db"
        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine)
        raw = sqlite3.connect(path)
        raw.executemany(INSERT, ((i, "x" * 64, f"esp{i % 12}.test", "A" * 200) for i in range(args.versions)))
        raw.commit()
        distinct = "SELECT DISTINCT esp_scope FROM report_versions"
        with engine.connect() as conn:
            seeks = _ms(lambda: esp_scopes(conn))
        indexed = _ms(lambda: raw.execute(distinct).fetchall())
        raw.execute("DROP INDEX ix_report_versions_esp_scope")
        plain = _ms(lambda: raw.execute(distinct).fetchall())
        raw.close()
        engine.dispose()
    print(f"{args.versions:,} versions, 12 ESPs, median of 7 (ms)")
    print(f"loose index scan (esp_scopes)      {seeks:8.2f}")
    print(f"DISTINCT, with the index           {indexed:8.2f}")
    print(f"DISTINCT, no index (before)        {plain:8.2f}")


if __name__ == "__main__":
    main()
