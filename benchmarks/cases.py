"""Case checks at scale: `track.service.refresh_flags` (run after every link run and ISP answer file) and
`cases overdue`, for N open cases, against a floor measured in the same run (reading the open cases alone).

    .venv/bin/python benchmarks/cases.py --reports 3000 --cases 1000 --repeat 3

A synthetic batch goes through every stage up to routing once; then N suspects get a referral row and an open case
directly (no documents: this measures the checks, not the packages), each snapshot missing one of the suspect's
reports so that every case is flagged.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, select, update

from tipfusion.config import Settings
from tipfusion.pipeline import through_routing
from tipfusion.store.db import make_engine, upgrade
from tipfusion.store.repository import now
from tipfusion.store.tables import cases, referrals, report_links
from tipfusion.synth import generate
from tipfusion.track.service import OPEN, open_case, overdue, refresh_flags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=3000)
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tf-cases-"))
    url = f"sqlite:///{work / 'store.db'}"
    engine = make_engine(url)
    upgrade(engine)
    settings = Settings(database_url=url)
    through_routing(engine, settings, "bench", generate(work / "batch", args.reports, seed=7))
    stamp = now()
    with engine.begin() as conn:
        held: dict[str, list[int]] = {}
        for report, suspect in conn.execute(select(report_links.c.report_id, report_links.c.suspect_id)):
            held.setdefault(suspect, []).append(int(report))
        chosen = sorted(held)[: args.cases]
        for n, suspect in enumerate(chosen):
            snapshot = {"suspects": [suspect], "reports": sorted(held[suspect])[1:], "answers": []}
            referral = conn.execute(
                insert(referrals)
                .values(
                    reference=f"BENCH/{n}",
                    subject_type="suspect",
                    subject_id=suspect,
                    suspects=[suspect],
                    kind="initial",
                    built_at=stamp,
                    output_dir="-",
                    files={},
                    manifest_sha256="-",
                    snapshot=snapshot,
                    actor="bench",
                )
                .returning(referrals.c.id)
            ).scalar_one()
            open_case(conn, "bench", int(referral), None, None, 1, stamp)
    floor, flags, quiet, late = [], [], [], []
    for _ in range(args.repeat):
        with engine.begin() as conn:
            conn.execute(update(cases).values(needs_update=None))
        started = time.perf_counter()
        with engine.connect() as conn:
            conn.execute(select(cases).where(cases.c.state.in_(OPEN))).all()
        floor.append(time.perf_counter() - started)
        started = time.perf_counter()
        flagged = refresh_flags(engine, "bench")
        flags.append(time.perf_counter() - started)
        started = time.perf_counter()
        refresh_flags(engine, "bench")  # again: nothing new, nothing written — the usual case after a link run
        quiet.append(time.perf_counter() - started)
        started = time.perf_counter()
        overdue(engine, settings)
        late.append(time.perf_counter() - started)
    print(
        f"{len(chosen):,} open cases over {args.reports:,} reports; {len(flagged):,} flagged; medians of {args.repeat}"
    )
    print(f"  floor (read the open cases):  {statistics.median(floor):8.3f} s")
    print(f"  refresh_flags, all flagged:   {statistics.median(flags):8.3f} s")
    print(f"  refresh_flags, nothing new:   {statistics.median(quiet):8.3f} s")
    print(f"  cases overdue:                {statistics.median(late):8.3f} s")


if __name__ == "__main__":
    main()
