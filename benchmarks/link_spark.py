"""Linking on Spark beside the embedded engine: seconds per stage and peak memory, N synthetic reports.

    .venv/bin/python benchmarks/link_spark.py --reports 10000 20000 --repeat 3 [--master local[2]]
    .venv/bin/python benchmarks/link_spark.py --store postgresql://…?options=-csearch_path%3Dbench_1m --repeat 1

Setup (not timed): the store of `benchmarks/link_scale.py` (generate, ingest, enrich into SQLite), then a Parquet
snapshot of its linking inputs (`tipfusion export observations --format parquet`; its seconds are printed, since a
SQLite store needs one before Spark can read it). Each run is a fresh process (clean peak RSS): the embedded engine,
then the Spark engine reading the snapshot, both writing the result through the same store code. Figures are medians
of --repeat runs. With --store URL an existing PostgreSQL store (e.g. one `benchmarks/build_store.py` built and kept)
is linked instead, nothing set up: Spark reads it over JDBC (--partitions parallel reads of the sightings), the way
`tipfusion link --engine spark` does on PostgreSQL; each run rewrites that store's link result (the same suspects and
networks each time). Spark's peak is two numbers: the Python driver and the JVM (the JVM's own high-water mark, read
from /proc before the session stops); local mode's Python workers are not counted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.memory import high_water_mb  # noqa: E402


def snapshot(url: str, reports: int) -> tuple[Path, float]:
    from tipfusion.link.snapshot import write_snapshot
    from tipfusion.store.db import ensure_schema, make_engine

    folder = HERE / "out" / f"link-{reports}-snapshot"
    engine = make_engine(url)
    ensure_schema(engine)  # a store set up by an older tipfusion
    started = time.perf_counter()
    write_snapshot(engine, folder)
    return folder, time.perf_counter() - started


def _jvm_peak_mb(spark: object) -> float:
    return high_water_mb(spark._jvm.java.lang.ProcessHandle.current().pid())  # type: ignore[attr-defined]


def child(engine_name: str, url: str, folder: str, master: str, partitions: int, driver_memory: str) -> None:
    from tipfusion.link.service import LinkService
    from tipfusion.store.db import make_engine

    result: dict[str, object] = {}
    if engine_name == "spark":
        from tipfusion.link.spark.engine import SparkLinker
        from tipfusion.link.spark.session import make_session
        from tipfusion.link.spark.sources import JdbcSource, ParquetSource

        source = ParquetSource(Path(folder)) if folder else JdbcSource(url, partitions)
        started = time.perf_counter()
        spark = make_session(master, shuffle_partitions=partitions, driver_memory=driver_memory)
        result["session_start"] = time.perf_counter() - started
        summary = LinkService(make_engine(url), "benchmark").run(linker=SparkLinker(spark, source))
        result["jvm_peak_mb"] = _jvm_peak_mb(spark)
        spark.stop()
    else:
        summary = LinkService(make_engine(url), "benchmark").run()
    result.update(
        seconds=summary.seconds,
        suspects=summary.suspects,
        networks=summary.networks,
        peak_mb=high_water_mb(),
    )
    print(json.dumps(result))


def _run(engine_name: str, url: str, folder: Path | None, args: argparse.Namespace) -> dict[str, object]:
    command = [sys.executable, __file__, "--child", engine_name, url, str(folder or ""), args.master]
    command += [str(args.partitions), args.driver_memory]
    out = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, nargs="+", default=[10_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--driver-memory", default="4g", help="spark.driver.memory (local mode: the whole JVM)")
    parser.add_argument("--store", help="an existing PostgreSQL store to link (read over JDBC), instead of --reports")
    parser.add_argument("--child", nargs=6)
    args = parser.parse_args()
    if args.child:
        name, url, folder, master, partitions, driver_memory = args.child
        child(name, url, folder, master, int(partitions), driver_memory)
        return
    if args.store:
        if not args.store.startswith("postgresql"):
            parser.error("--store: a PostgreSQL URL (a SQLite store is linked through --reports and its snapshot)")
        _compare(args.store, _reports_in(args.store), None, None, args)
        return
    from benchmarks.link_scale import setup

    for reports in args.reports:
        url = setup(reports)
        folder, snapshot_seconds = snapshot(url, reports)
        _compare(url, reports, folder, snapshot_seconds, args)


def _reports_in(url: str) -> int:
    from sqlalchemy import func, select

    from tipfusion.store.db import make_engine
    from tipfusion.store.tables import reports

    engine = make_engine(url)
    with engine.connect() as conn:
        held = int(conn.execute(select(func.count()).select_from(reports)).scalar_one())
    engine.dispose()
    return held


def _compare(
    url: str, reports: int, folder: Path | None, snapshot_seconds: float | None, args: argparse.Namespace
) -> None:
    """Both engines --repeat times, interleaved, on one store; the table of medians."""
    runs: dict[str, list[dict[str, object]]] = {"embedded": [], "spark": []}
    for attempt in range(args.repeat):
        for name in runs:  # interleaved, so a change in the machine's load hits both alike
            runs[name].append(_run(name, url, folder, args))
            print(f"{reports:,} reports, {name} run {attempt + 1}/{args.repeat}: {runs[name][-1]}", flush=True)
    source = "its Parquet snapshot" if folder else "PostgreSQL over JDBC"
    print(
        f"\nlink {reports:,} reports, medians of {args.repeat} runs; "
        f"Spark {args.master}, {args.partitions} partitions, reading {source}, driver memory {args.driver_memory}"
    )
    if snapshot_seconds is not None:
        print(f"  Parquet snapshot of the SQLite store (once): {snapshot_seconds:.2f} s")
    stages = ["extract", "suspects", "networks", "store"]
    print(f"  {'stage':18} {'embedded':>10} {'spark':>10}")
    for stage in stages:
        cells = [statistics.median(r["seconds"][stage] for r in runs[n]) for n in runs]  # type: ignore[index]
        print(f"  {stage:18} {cells[0]:9.2f}s {cells[1]:9.2f}s")
    totals = [statistics.median(sum(r["seconds"].values()) for r in runs[n]) for n in runs]  # type: ignore[attr-defined]
    print(f"  {'total':18} {totals[0]:9.2f}s {totals[1]:9.2f}s")
    start = statistics.median(r["session_start"] for r in runs["spark"])  # type: ignore[misc]
    print(f"  {'+ Spark start':18} {'':>10} {start:9.2f}s")
    peaks = [statistics.median(r["peak_mb"] for r in runs[n]) for n in runs]  # type: ignore[misc]
    jvm = statistics.median(r["jvm_peak_mb"] for r in runs["spark"])  # type: ignore[misc]
    print(f"  {'peak MB':18} {peaks[0]:9.0f}  {peaks[1]:6.0f}+{jvm:.0f} (Python driver + JVM)")
    same = all(
        (r["suspects"], r["networks"]) == (runs["embedded"][0]["suspects"], runs["embedded"][0]["networks"])
        for n in runs
        for r in runs[n]
    )
    print(f"  same suspects and networks counts in every run: {same}")


if __name__ == "__main__":
    main()
