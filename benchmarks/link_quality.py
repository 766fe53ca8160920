"""Linking quality on synthetic batches with planted truth: B-cubed precision, recall, F1 — tipfusion vs naive.

    .venv/bin/python benchmarks/link_quality.py --reports 3000 --seeds 3

For each scenario (noise level) and seed: generate a batch, ingest it into a fresh SQLite store, enrich it with
the demo reference data, link it, and score suspects (reports clustered by person) and networks (reports
clustered by ring; a person in no ring is a cluster of their own) against truth.csv. The naive baseline is a
MISP-style union of every exact shared value (all kinds, no caps, no weights, no time), scored the same way.
Prints medians over seeds.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import tempfile
from pathlib import Path

from sqlalchemy import select

from tipfusion.config import Settings
from tipfusion.enrich.service import EnrichConfig, EnrichService
from tipfusion.ingest import IngestService
from tipfusion.link.quality import bcubed, naive_baseline
from tipfusion.link.service import LinkService
from tipfusion.store.db import make_engine, upgrade
from tipfusion.store.tables import identifier_observations, report_links
from tipfusion.synth import Noise, generate

SCENARIOS = {
    "default": Noise(),
    "more CGNAT": Noise(mobile_share=0.85),
    "more viral": Noise(viral_share=0.30),
    "more known files": Noise(known_share=0.70),
    "all noise": Noise(
        mobile_share=0.85, viral_share=0.30, known_share=0.70, common_name_share=0.08, family_phone_share=0.10
    ),
}


def score(reports: int, seed: int, noise: Noise, work: Path) -> dict[str, tuple[float, float, float]]:
    batch = work / f"batch-{seed}"
    result = generate(batch, reports, seed, noise=noise)
    url = f"sqlite:///{work / f'store-{seed}.db'}"
    engine = make_engine(url)
    upgrade(engine)
    IngestService(engine, Settings(database_url=url), "benchmark").ingest_paths([batch])
    ref = result.reference
    EnrichService(engine, EnrichConfig(tuple(ref.databases), ref.isp_table, ref.warninglist), "benchmark").run()
    LinkService(engine, "benchmark").run()
    truth = {
        int(r["report_id"]): (r["person_id"], r["network_id"]) for r in csv.DictReader((batch / "truth.csv").open())
    }
    person = {k: v[0] for k, v in truth.items()}
    ring = {k: v[1] or f"solo:{v[0]}" for k, v in truth.items()}
    with engine.connect() as conn:
        links = {r.report_id: (r.suspect_id, r.network_id) for r in conn.execute(select(report_links))}
        values = [
            (r.report_id, r.kind, r.canonical)
            for r in conn.execute(
                select(
                    identifier_observations.c.report_id,
                    identifier_observations.c.kind,
                    identifier_observations.c.canonical,
                ).where(identifier_observations.c.is_current.is_(True))
            )
        ]
    engine.dispose()
    suspect = {r: s for r, (s, _) in links.items()}
    network = {r: n or f"solo:{s}" for r, (s, n) in links.items()}
    naive = naive_baseline(sorted(links), values)
    return {
        "suspects": bcubed(suspect, person),
        "networks": bcubed(network, ring),
        "naive suspects": bcubed(naive, person),
        "naive networks": bcubed(naive, ring),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=3000)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tf-link-quality-"))
    print(f"{args.reports:,} reports per batch, seeds 1..{args.seeds}, medians; B-cubed precision / recall / F1")
    print(f"{'scenario':18} {'suspects P/R/F1':>24} {'naive':>24} {'networks P/R/F1':>24} {'naive':>24}")
    for name, noise in SCENARIOS.items():
        runs = [score(args.reports, seed, noise, work / name.replace(" ", "-")) for seed in range(1, args.seeds + 1)]

        def med(key: str, runs: list[dict[str, tuple[float, float, float]]] = runs) -> str:
            p, r, f = (statistics.median(run[key][i] for run in runs) for i in range(3))
            return f"{p:.3f}/{r:.3f}/{f:.3f}"

        print(
            f"{name:18} {med('suspects'):>24} {med('naive suspects'):>24} {med('networks'):>24} "
            f"{med('naive networks'):>24}",
            flush=True,
        )


if __name__ == "__main__":
    main()
