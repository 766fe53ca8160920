"""Linking at scale: seconds per stage and peak memory for N synthetic reports already in the store.

    .venv/bin/python benchmarks/link_scale.py --reports 1000000 --repeat 3

Setup (not timed): generate the batch (or reuse benchmarks/out/ingest-N-2026), ingest it into a SQLite store,
enrich it with the demo reference data. Then `tipfusion link` runs --repeat times, each in a fresh process
(clean peak RSS); the figures printed are medians, split by stage (extract from the store, suspects,
networks, store the result).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


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

    summary = LinkService(make_engine(url), "benchmark").run()
    print(
        json.dumps(
            {
                "seconds": summary.seconds,
                "suspects": summary.suspects,
                "networks": summary.networks,
                "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    url = setup(args.reports)
    runs = []
    for attempt in range(args.repeat):
        out = subprocess.run([sys.executable, __file__, "--child", url], check=True, capture_output=True, text=True)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"run {attempt + 1}/{args.repeat}: {sum(runs[-1]['seconds'].values()):.1f} s", flush=True)
    stages = runs[0]["seconds"].keys()
    print(
        f"\nlink {args.reports:,} reports: medians of {args.repeat} runs "
        f"({runs[0]['suspects']:,} suspects, {runs[0]['networks']:,} networks)"
    )
    for stage in stages:
        print(f"  {stage:10} {statistics.median(r['seconds'][stage] for r in runs):8.2f} s")
    print(
        f"  {'total':10} {statistics.median(sum(r['seconds'].values()) for r in runs):8.2f} s, "
        f"peak {statistics.median(r['peak_mb'] for r in runs):,.0f} MB"
    )


if __name__ == "__main__":
    main()
