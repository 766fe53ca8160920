"""Linking at scale: seconds per stage and peak memory for N synthetic reports already in the store.

    .venv/bin/python benchmarks/link_scale.py --reports 1000000 --repeat 3
    .venv/bin/python benchmarks/link_scale.py --store URL --repeat 3 --baseline-src ../before/src   # before/after
    .venv/bin/python benchmarks/link_scale.py --store URL --repeat 3 --empty-results   # each run a first link

Setup (not timed): generate the batch (or reuse benchmarks/out/ingest-N-2026), ingest it into a SQLite store,
enrich it with the demo reference data; or take an existing store as it is (--store: any URL, e.g. a PostgreSQL
store `benchmarks/build_store.py` built). Then `tipfusion link` runs --repeat times, each in a fresh process
(clean peak RSS); the figures printed are medians, split by stage (extract from the store, suspects,
networks, store the result). `--baseline-src` also links with another checkout's code in the same rounds,
alternating, so that both meet the same machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.memory import high_water_mb  # noqa: E402


def setup(reports: int) -> str:
    from tipfusion.config import load_settings
    from tipfusion.enrich.demo import build_demo_reference
    from tipfusion.enrich.service import EnrichConfig, EnrichService
    from tipfusion.ingest import IngestService
    from tipfusion.store.db import make_engine, upgrade
    from tipfusion.synth import generate

    batch = HERE / "out" / f"ingest-{reports}-2026"
    if not (batch / "truth.csv").exists():
        print(f"generating {reports:,} reports …", flush=True)
        generate(batch, reports, 2026)
    store = HERE / "out" / f"link-{reports}.db"
    url = f"sqlite:///{store}"
    if not store.exists():
        print("ingesting and enriching (not timed) …", flush=True)
        engine = make_engine(url)
        upgrade(engine)
        IngestService(engine, load_settings().with_database(url), "benchmark").ingest_paths([batch])
        reference = build_demo_reference(HERE / "out" / "reference")
        EnrichService(
            engine, EnrichConfig(tuple(reference.databases), reference.isp_table, reference.warninglist), "benchmark"
        ).run()
    return url


def child(url: str) -> None:
    from tipfusion.link.service import LinkService
    from tipfusion.store.db import make_engine

    engine = make_engine(url)
    if os.environ.get("LINK_SCALE_EMPTY_RESULTS"):  # a store's first link: every result row is new (not timed)
        from tipfusion.store.tables import link_explanations, networks, report_links, suppressed_values, suspects

        with engine.begin() as conn:
            for table in (report_links, suspects, networks, link_explanations, suppressed_values):
                conn.execute(table.delete())
    started = time.perf_counter()
    summary = LinkService(engine, "benchmark").run()
    wall = time.perf_counter() - started  # the stages' sum leaves out what runs between them
    print(
        json.dumps(
            {
                "seconds": summary.seconds,
                "wall": wall,
                "reports": summary.reports,
                "suspects": summary.suspects,
                "networks": summary.networks,
                "peak_mb": high_water_mb(),
                "rows_written": getattr(summary, "rows_written", None),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--store", help="link this store as it is (no setup)")
    parser.add_argument("--baseline-src", type=Path, help="another checkout's src/ to link with in the same rounds")
    parser.add_argument(
        "--empty-results",
        action="store_true",
        help="empty linking's result tables before each run (not timed), so that every run writes them whole, as a "
        "store's first link does; without it a run after the first writes only what changed",
    )
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    url = args.store or setup(args.reports)
    variants: list[tuple[str, Path | None]] = [("this checkout", None)]
    if args.baseline_src:
        variants.insert(0, ("baseline", args.baseline_src.resolve()))
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in variants}
    for attempt in range(args.repeat):
        for name, src in variants:
            paths = [str(src)] if src else []
            env = dict(os.environ, PYTHONPATH=os.pathsep.join([*paths, str(HERE.parent / "src")]))
            if args.empty_results:
                env["LINK_SCALE_EMPTY_RESULTS"] = "1"
            command = [sys.executable, __file__, "--child", url]
            out = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
            runs[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(
                f"run {attempt + 1}/{args.repeat}, {name}: {sum(runs[name][-1]['seconds'].values()):.1f} s "
                f"(the whole run {runs[name][-1]['wall']:.1f} s)",
                flush=True,
            )
    for name, found in runs.items():
        print(
            f"\nlink {found[0]['reports']:,} reports, {name}: medians of {args.repeat} runs "
            f"({found[0]['suspects']:,} suspects, {found[0]['networks']:,} networks)"
        )
        print_stages(found)


def print_stages(found: list[dict[str, Any]]) -> None:
    """The medians of link runs' children's figures, stage by stage (`link_incremental.py` prints the same)."""
    for stage in found[0]["seconds"]:
        print(f"  {stage:10} {statistics.median(r['seconds'][stage] for r in found):8.2f} s")
    print(
        f"  {'total':10} {statistics.median(sum(r['seconds'].values()) for r in found):8.2f} s, "
        f"peak {statistics.median(r['peak_mb'] for r in found):,.0f} MB"
    )
    print(f"  {'whole run':10} {statistics.median(r['wall'] for r in found):8.2f} s (LinkService.run)")
    if found[-1].get("rows_written"):
        written = ", ".join(f"{table} -{d:,} +{i:,}" for table, (d, i) in found[-1]["rows_written"].items())
        print(f"  rows written by the last run: {written}")


if __name__ == "__main__":
    main()
