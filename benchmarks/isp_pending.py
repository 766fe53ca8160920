"""The ISP requests overview's numbers: a full recount of the pending sightings against the kept counts.

    PYTHONPATH=src .venv/bin/python benchmarks/isp_pending.py --reports 2000 --runs 7
    PYTHONPATH=src .venv/bin/python benchmarks/isp_pending.py --sqlite

Builds a store of --reports synthetic reports through routing (as benchmarks/web.py does; PostgreSQL in a fresh
schema dropped at the end, or --sqlite), then times, --runs times each, median printed with min and max:
`pending_counts` (the grouped recount over every IP sighting the page used to run per view: the baseline of the
run), `pending_summary` once the counts are kept (what /requests now reads), and the whole overview service
(`workplace.isp_requests.requests_overview`: kept counts, a page of requests, state counts, audit entry). Checks the
kept numbers equal the recount before printing anything.

Measured on the shared 2-core box (load average ~20, medians): PostgreSQL, 2,000 reports, 11 runs: recount 113.4 ms,
kept 1.3 ms, overview service 33.9 ms; 10,000 reports, 7 runs: recount 400.2 ms, kept 2.8 ms, overview 30.6 ms.
SQLite, 2,000 reports, 11 runs: recount 44.2 ms, kept 0.2 ms, overview 11.0 ms. The recount grows with the
sightings; the kept counts and the overview do not.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.web import _build, _drop_schema, _fresh_schema


def _timed(call: Callable[[], object], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--sqlite", action="store_true")
    args = parser.parse_args()

    from tipfusion.accounts.principal import Principal, Role
    from tipfusion.requests.service import pending_counts, pending_summary
    from tipfusion.store.db import make_engine
    from tipfusion.workplace.isp_requests import requests_overview

    with tempfile.TemporaryDirectory(prefix="tipfusion-pending-bench-") as tmp:
        work = Path(tmp)
        schema = None
        if args.sqlite:
            url = f"sqlite:///{work / 'store.db'}"
        else:
            url, schema = _fresh_schema()
        try:
            built = _build(url, args.reports, args.seed, work)
            engine = make_engine(url)
            analyst = Principal("bench-analyst", Role.ANALYST)
            assert pending_summary(engine) == pending_counts(engine), "the kept counts differ from a recount"
            timings = {
                "pending_counts (full recount, baseline)": _timed(lambda: pending_counts(engine), args.runs),
                "pending_summary (kept counts)": _timed(lambda: pending_summary(engine), args.runs),
                "requests_overview (the page's service)": _timed(lambda: requests_overview(engine, analyst), args.runs),
            }
            isps = len(pending_counts(engine))
            engine.dispose()
        finally:
            if schema:
                _drop_schema(schema)
    backend = url.split(":", 1)[0]
    print(f"{backend}, {args.reports:,} reports (built in {built:.0f} s), {isps} ISPs pending, {args.runs} runs")
    print(f"{'':<42}{'median ms':>10}{'min':>9}{'max':>9}")
    for name, values in timings.items():
        print(f"{name:<42}{statistics.median(values):>10.1f}{min(values):>9.1f}{max(values):>9.1f}")


if __name__ == "__main__":
    main()
