"""Linking quality on synthetic batches with planted truth: B-cubed precision, recall, F1 — tipfusion beside
tipfusion without issue 17's evidence rules, a Splink model, and the naive baseline, in one run.

    .venv/bin/python benchmarks/link_quality.py --reports 3000 --seeds 3
    .venv/bin/python benchmarks/link_quality.py --reports 1500 --seeds 3 --scenarios "default" "households"
    .venv/bin/python benchmarks/link_quality.py --reports 1000 --seeds 3 --scenarios "ring strays"

For each scenario (noise level) and seed: generate a batch, ingest it into a fresh SQLite store, enrich it with
the demo reference data, link it, and score suspects (reports clustered by person) and networks (reports
clustered by ring; a person in no ring is a cluster of their own) against truth.csv. On the same store:
- "no §1": tipfusion with display names weighing nothing and no contradiction penalty (the rules before issue 17);
- Splink (`benchmarks/splink_model.py`, installed with `pip install -e .[bench]`; skipped with a note when absent):
  its person clusters, scored as suspects and as networks, at the match weight that scored best on a calibration
  batch of the same scenario (seed 1000, never scored);
- naive: a MISP-style union of every exact shared value (all kinds, no caps, no weights, no time).
Prints medians over seeds.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tipfusion.config import Settings
from tipfusion.enrich.service import EnrichConfig, EnrichService
from tipfusion.ingest import IngestService
from tipfusion.link.quality import bcubed, naive_baseline
from tipfusion.link.service import LinkService
from tipfusion.link.settings import LinkSettings
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
    # issue 17: ESPs that give no real name, one person's accounts on several services held together by a home line
    # and a display name, two people on one home line, and a relative's mailbox beside a phone of one's own
    "households": Noise(
        mobile_share=0.35, display_name_share=0.7, nameless_share=0.7, household_share=0.3, shared_email_share=0.15
    ),
    # issue 17 §3: rings with a member seen once, tied by one ring file and a hub account known only as a recipient;
    # lone offenders holding two of a few moderately common files (some pairs the same two)
    "ring strays": Noise(stray_share=0.6, lone_pair_share=0.12),
}
CURRENT = LinkSettings()
BEFORE = replace(CURRENT, weights={**CURRENT.weights, "display_name": 0.0}, disagreement_bound=0.0)
Scores = dict[str, tuple[float, float, float]]


def splink_available() -> bool:
    try:
        import splink  # noqa: F401
    except ImportError:
        return False
    return True


def prepare(reports: int, seed: int, noise: Noise, work: Path) -> tuple[Any, Path]:
    """A generated batch ingested and enriched into a fresh SQLite store: (engine, batch folder)."""
    batch = work / f"batch-{seed}"
    result = generate(batch, reports, seed, noise=noise)
    url = f"sqlite:///{work / f'store-{seed}.db'}"
    engine = make_engine(url)
    upgrade(engine)
    IngestService(engine, Settings(database_url=url), "benchmark").ingest_paths([batch])
    ref = result.reference
    EnrichService(engine, EnrichConfig(tuple(ref.databases), ref.isp_table, ref.warninglist), "benchmark").run()
    return engine, batch


def truth_of(batch: Path) -> tuple[dict[int, object], dict[int, object]]:
    """(report → person, report → ring or the person alone)."""
    truth = {
        int(r["report_id"]): (r["person_id"], r["network_id"]) for r in csv.DictReader((batch / "truth.csv").open())
    }
    return {k: v[0] for k, v in truth.items()}, {k: v[1] or f"solo:{v[0]}" for k, v in truth.items()}


def calibrate(reports: int, noise: Noise, work: Path) -> float:
    """The Splink match weight with the best suspects F1 on a batch of this scenario that is never scored."""
    from benchmarks import splink_model

    engine, batch = prepare(reports, 1000, noise, work)
    person, _ = truth_of(batch)
    linker, predicted = splink_model.predictions(splink_model.records(engine))
    engine.dispose()
    return max(splink_model.THRESHOLDS, key=lambda w: bcubed(splink_model.clusters(linker, predicted, w), person)[2])


def score(reports: int, seed: int, noise: Noise, work: Path, splink_weight: float | None) -> Scores:
    engine, batch = prepare(reports, seed, noise, work)
    person, ring = truth_of(batch)
    found: Scores = {}
    for label, settings in (("before", BEFORE), ("", CURRENT)):
        LinkService(engine, "benchmark", settings).run()
        with engine.connect() as conn:
            links = {r.report_id: (r.suspect_id, r.network_id) for r in conn.execute(select(report_links))}
        found[f"{label}suspects"] = bcubed({r: s for r, (s, _) in links.items()}, person)
        found[f"{label}networks"] = bcubed({r: n or f"solo:{s}" for r, (s, n) in links.items()}, ring)
    with engine.connect() as conn:
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
    naive = naive_baseline(sorted(links), values)
    found["naive suspects"] = bcubed(naive, person)
    found["naive networks"] = bcubed(naive, ring)
    if splink_weight is not None:
        from benchmarks import splink_model

        linker, predicted = splink_model.predictions(splink_model.records(engine))
        clustered = splink_model.clusters(linker, predicted, splink_weight)
        found["splink suspects"] = bcubed(clustered, person)
        found["splink networks"] = bcubed(clustered, ring)
    engine.dispose()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=3000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--scenarios", nargs="+", choices=sorted(SCENARIOS), default=list(SCENARIOS))
    parser.add_argument("--no-splink", action="store_true", help="tipfusion and the naive baseline only")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tf-link-quality-"))
    with_splink = not args.no_splink and splink_available()
    if not args.no_splink and not with_splink:
        print("Splink is not installed (pip install -e .[bench]): its columns are left out")
    print(f"{args.reports:,} reports per batch, seeds 1..{args.seeds}, medians; B-cubed precision / recall / F1")
    columns = ["tipfusion", "no §1"] + (["Splink"] if with_splink else []) + ["naive"]
    keys = ["", "before"] + (["splink "] if with_splink else []) + ["naive "]
    header = " ".join(f"{c:>23}" for c in columns)
    rows: dict[str, list[str]] = {"suspects": [], "networks": []}
    for name in args.scenarios:
        noise = SCENARIOS[name]
        folder = work / name.replace(" ", "-")
        weight = calibrate(args.reports, noise, folder) if with_splink else None
        runs = [score(args.reports, seed, noise, folder, weight) for seed in range(1, args.seeds + 1)]

        def med(key: str, runs: list[Scores] = runs) -> str:
            p, r, f = (statistics.median(run[key][i] for run in runs) for i in range(3))
            return f"{p:.4f}/{r:.4f}/{f:.4f}"

        note = f" (Splink threshold {weight:g})" if weight is not None else ""
        for table in rows:
            rows[table].append(f"{name:18} " + " ".join(f"{med(k + table):>23}" for k in keys) + note)
        print(f"{name}: done{note}", flush=True)
    for table, lines in rows.items():
        print(f"\n{table}\n{'scenario':18} {header}")
        print("\n".join(lines))


if __name__ == "__main__":
    main()
