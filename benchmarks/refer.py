"""Referral packages: seconds per package (suspects and networks) and for a batch of N, against a floor measured in
the same run (a one-page PDF with the same fonts, and an empty Word file — what any package costs at least).

    .venv/bin/python benchmarks/refer.py --reports 3000 --packages 200 --networks 10

A synthetic batch goes through every stage up to routing once (`pipeline.through_routing`, not timed); then the
queue's top N suspects get a package each in one batch (`refer.build_many`, as `tipfusion refer build --top N`
does), then the largest networks one by one. Each package is Word + PDF + JSON + Excel annex + s.63 certificate
(Word + PDF), sealed as a BagIt bag (unsigned here: no key is configured), written and recorded (referral, case,
audit events).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from pathlib import Path

from docx import Document
from sqlalchemy import select

from tipfusion.config import Settings
from tipfusion.documents.render import render_pdf
from tipfusion.pipeline import through_routing
from tipfusion.refer.service import build_many, build_referral, top_subjects
from tipfusion.store.db import make_engine, upgrade
from tipfusion.store.tables import networks
from tipfusion.synth import generate


def floor(workdir: Path, repeat: int) -> float:
    times = []
    for n in range(repeat):
        started = time.perf_counter()
        render_pdf(
            "<html><body style='font-family: \"Noto Sans\"'><h1>Referral सारांश</h1><p>x</p></body></html>",
            workdir / f"floor-{n}.pdf",
        )
        Document().save(str(workdir / f"floor-{n}.docx"))
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=3000)
    parser.add_argument("--packages", type=int, default=200)
    parser.add_argument("--networks", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tf-refer-"))
    url = f"sqlite:///{work / 'store.db'}"
    engine = make_engine(url)
    upgrade(engine)
    settings = Settings(database_url=url)
    prepared = time.perf_counter()
    through_routing(engine, settings, "bench", generate(work / "batch", args.reports, seed=args.seed))
    print(f"{args.reports:,} synthetic reports prepared in {time.perf_counter() - prepared:.1f} s (not timed below)")

    base = floor(work, 5)
    targets = top_subjects(engine, args.packages)
    started = time.perf_counter()
    built = build_many(engine, settings, "bench", targets, work / "referrals")
    batch = time.perf_counter() - started
    per = [b.seconds for b in built]
    with engine.connect() as conn:
        largest = [
            r[0]
            for r in conn.execute(
                select(networks.c.network_id).order_by(networks.c.suspects.desc()).limit(args.networks)
            )
        ]
    network_times = [build_referral(engine, settings, "bench", n, work / "referrals").seconds for n in largest]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"floor (one-page PDF + empty Word file, median of 5): {base:.3f} s")
    if built:
        print(
            f"suspect packages: {len(built)} in {batch:.1f} s ({len(built) / batch:.2f}/s); per package median "
            f"{statistics.median(per):.2f} s, p90 {sorted(per)[int(len(per) * 0.9)]:.2f} s, max {max(per):.2f} s"
        )
    if network_times:
        print(
            f"network packages: {len(network_times)}; per package median {statistics.median(network_times):.2f} s, "
            f"max {max(network_times):.2f} s"
        )
    print(f"peak RSS {peak:,.0f} MB; packages in {work / 'referrals'}")


if __name__ == "__main__":
    main()
