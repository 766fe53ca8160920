"""The work queue's total at a million-report size, without building a million-report store: main's COUNT of the
level against the sum over the counts triage keeps (`store.priority_counts`).

    PYTHONPATH=src .venv/bin/python benchmarks/queue_total.py --suspects 350000 --reports 1000000 --runs 15

Fills a scratch PostgreSQL schema (dropped at the end) with only the tables the queue's total reads: --suspects
suspect and --reports report priorities with synthetic scores (uniform -10..160, every 997th pinned), no routing
decisions or links (the COUNT's outer joins are on primary keys and PostgreSQL removes them), then `refresh`es the
kept counts as triage does and VACUUM ANALYZEs (an index-only scan, as a store analysts use has). Times, --runs times
each, medians: the COUNT main ran on every queue page (`select count(*) from (the queue's query)`) and the kept sum
(`workplace.queue._kept_total`), for the whole level and one band, and checks they give the same number first.
A build of a 1 M-report store takes hours on the shared box (benchmarks/RESULTS-1M.md); the total's cost depends
only on the priorities, which this reproduces at that size (about 350,000 suspects for 1,000,000 reports).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid

from sqlalchemy import func, select, text

PG_URL = os.environ.get("TIPFUSION_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suspects", type=int, default=350_000)
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    from tipfusion.store import priority_counts as kept
    from tipfusion.store.db import make_engine
    from tipfusion.store.tables import metadata, priorities, priority_counts, report_links, routing_decisions
    from tipfusion.workplace.queue import BANDS, _base, _kept_total

    schema = f"bench_qt_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine = make_engine(f"{PG_URL}?options=-csearch_path%3D{schema}")
    try:
        metadata.create_all(engine, tables=[priorities, priority_counts, routing_decisions, report_links])
        fill = """INSERT INTO priorities SELECT :level, {key}, round((random() * 170 - 10)::numeric, 2), i % 997 = 0,
                  '[]', 0 FROM generate_series(1, :n) i"""
        with engine.begin() as conn:
            suspect_key = "'S' || lpad(i::text, 9, '0')"
            conn.execute(text(fill.format(key=suspect_key)), {"level": "suspect", "n": args.suspects})
            conn.execute(text(fill.format(key="i::text")), {"level": "report", "n": args.reports})
            started = time.perf_counter()
            kept.refresh(conn)
            print(f"refresh of the kept counts (what triage now adds): {(time.perf_counter() - started) * 1000:.0f} ms")
        with admin.connect() as conn:
            conn.execute(text(f"VACUUM ANALYZE {schema}.priorities, {schema}.priority_counts"))
        with engine.connect() as conn:
            for level in ("suspect", "report"):
                for band in (None, "high"):
                    query = _base(level) if band is None else _base(level).where(BANDS.clause(band))
                    count = select(func.count()).select_from(query.subquery())
                    counted, summed = [], []
                    for _ in range(args.runs):
                        started = time.perf_counter()
                        total = conn.execute(count).scalar_one()
                        counted.append((time.perf_counter() - started) * 1000)
                        started = time.perf_counter()
                        same = _kept_total(conn, level, band, BANDS)  # type: ignore[arg-type]
                        summed.append((time.perf_counter() - started) * 1000)
                        if same != total:
                            raise SystemExit(f"{level} {band}: kept {same} ≠ counted {total}")
                    print(
                        f"{level:<8} band {band or 'any':<5} {total:>10,} rows: COUNT median "
                        f"{statistics.median(counted):6.1f} ms, kept sum median {statistics.median(summed):5.2f} ms"
                    )
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


if __name__ == "__main__":
    main()
