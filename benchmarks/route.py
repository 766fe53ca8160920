"""Routing throughput: decisions per second for N suspects against the demo jurisdiction (30 station polygons).

    .venv/bin/python benchmarks/route.py --suspects 100000 --repeat 3

Each synthetic suspect carries one to three pieces of evidence (an ISP answer or report address as a point in or
near the city, an ESP or IP city estimate); the timed part is `route.routing.decide` for all of them, after the
STRtree is built. The floor is a bare shapely STRtree point query for the same points.

`--store URL` times the whole `tipfusion route` (`route_all`: evidence, decisions, deconfliction, the rows written)
on a kept store instead, one child process per run, and within it `deconflict` alone:

    PYTHONPATH=src .venv/bin/python benchmarks/build_store.py --reports 20000 --sqlite benchmarks/out/route-20k.db
    PYTHONPATH=src .venv/bin/python benchmarks/route.py --store sqlite:///benchmarks/out/route-20k.db \
        --batch benchmarks/out/ingest-20000-2026 --repeat 3 --baseline-src ../main/src

`--baseline-src` runs another checkout's route in the same runs, alternating with this one's, and compares what the
two wrote: every suspect's routing row (deconfliction notes included; evidence lists as sets: see `unordered`)
must be the same, or the command fails.
`--profile FILE` writes a cProfile of this checkout's last run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from shapely.geometry import Point, shape

from tipfusion.route.jurisdictions import DEMO_DISTRICTS, Jurisdiction, Station, demo_jurisdiction, read_layer
from tipfusion.route.routing import Evidence, decide


def make_evidence(count: int, seed: int) -> list[list[Evidence]]:
    rng = random.Random(seed)
    out = []
    for n in range(count):
        items = []
        roll = rng.random()
        if roll < 0.5:
            point = (rng.uniform(76.98, 77.27), rng.uniform(28.48, 28.82))
            kind = "isp_answer" if rng.random() < 0.5 else "report_address"
            items.append(Evidence(kind, f"suspect {n}", point))
        if rng.random() < 0.6:
            items.append(Evidence("ip_city", "estimate", place=rng.choice(DEMO_DISTRICTS)))
        if rng.random() < 0.2:
            items.append(Evidence("esp_location", "estimate", place=rng.choice(DEMO_DISTRICTS)))
        out.append(items)
    return out


def unordered(key: str, value: Any) -> Any:
    """A routing row's detail with what comes in scan order made order-free: on PostgreSQL the reads gather_evidence
    makes have no ORDER BY, so a suspect's evidence, the decided_by list and the two places a tie note names
    ("ip_city: points equally at A and B") vary from run to run (not the decision, not the deconfliction notes)."""
    if key in ("evidence", "decided_by"):
        return sorted(map(json.dumps, value))
    if key == "notes":
        return sorted(" ".join(sorted(note.split())) for note in value)
    return value


def route_child(url: str, batch: Path, profile: Path | None) -> None:
    """One `route_all` on the store at `url` (timed, `deconflict` apart); prints JSON with a digest of what it wrote."""
    import cProfile

    from sqlalchemy import select

    import tipfusion.route.service as service
    from tipfusion.config import Settings
    from tipfusion.store.db import make_engine
    from tipfusion.store.tables import routing_decisions

    engine = make_engine(url)
    inner = service.deconflict
    spent: list[float] = []

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - started)

    service.deconflict = timed  # route_all looks it up by name when it calls it
    tuning = Settings(database_url=url).tuning()
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    summary = service.route_all(engine, "benchmark", batch / "reference" / "demo-pins.csv", None, tuning.routing)
    if profiler:
        profiler.disable()
        profiler.dump_stats(str(profile))
    seconds = time.perf_counter() - started
    with engine.connect() as conn:
        rows = conn.execute(select(routing_decisions).order_by(routing_decisions.c.suspect_id)).all()
    written = [
        [
            *(r.suspect_id, r.district, r.station, r.basis, r.confidence, r.network_id, r.network_central),
            r.overridden,
            {k: unordered(k, v) for k, v in r.detail.items()},
        ]
        for r in rows
    ]
    digest = hashlib.sha256(json.dumps(written, sort_keys=True, default=str).encode()).hexdigest()
    flagged = sum(1 for r in rows if (r.detail or {}).get("deconfliction"))
    notes = sum(len((r.detail or {}).get("deconfliction") or []) for r in rows)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "deconflict": sum(spent),
                "digest": digest,
                "suspects": summary.suspects,
                "flagged": flagged,
                "notes": notes,
            }
        )
    )


def run_store(args: argparse.Namespace) -> None:
    variants: list[tuple[str, Path | None]] = [("candidate", None)]
    if args.baseline_src:
        variants.insert(0, ("baseline", args.baseline_src.resolve()))
    results: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in variants}
    for attempt in range(args.repeat):
        for name, src in variants:
            env = dict(os.environ, PYTHONPATH=str(src)) if src else None
            command = [sys.executable, __file__, "--child", "--store", args.store, "--batch", str(args.batch)]
            if args.profile and src is None and attempt == args.repeat - 1:
                command += ["--profile", str(args.profile)]
            out = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
            results[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(
            f"run {attempt + 1}/{args.repeat}: "
            + ", ".join(
                f"{k} {v[-1]['seconds']:.1f} s (deconflict {v[-1]['deconflict']:.1f} s)" for k, v in results.items()
            ),
            flush=True,
        )
    digests = {r["digest"] for runs in results.values() for r in runs}
    first = results["candidate"][0]
    print(
        f"\n{args.store}: {first['suspects']:,} suspects, {first['flagged']:,} flagged, {first['notes']:,} "
        f"deconfliction notes; medians of {args.repeat}"
    )
    for name, runs in results.items():
        print(
            f"  {name:10} route {statistics.median(r['seconds'] for r in runs):7.2f} s   "
            f"deconflict {statistics.median(r['deconflict'] for r in runs):7.2f} s"
        )
    print(f"  routing rows written: {'the same in every run' if len(digests) == 1 else 'DIFFERENT'}")
    if len(digests) != 1:
        raise SystemExit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suspects", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--store", help="time route_all on this kept store (a database URL) instead")
    parser.add_argument("--batch", type=Path, help="with --store: the batch folder the store was built from")
    parser.add_argument("--baseline-src", type=Path, help="with --store: another checkout's src/ to time alongside")
    parser.add_argument("--profile", type=Path, help="with --store: cProfile this checkout's last run into FILE")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.store:
        if args.batch is None:
            parser.error("--store needs --batch (its reference/demo-pins.csv)")
        if args.child:
            route_child(args.store, args.batch, args.profile)
        else:
            run_store(args)
        return
    layer, _ = demo_jurisdiction(Path(tempfile.mkdtemp(prefix="tf-route-")))
    stations, _ = read_layer(layer)
    jurisdiction = Jurisdiction(
        [Station(s.station_id, s.district, shape(s.geometry.__geo_interface__)) for s in stations]
    )
    evidence = make_evidence(args.suspects, 7)
    points = [Point(*e.point) for items in evidence for e in items if e.point]
    floor, ours = [], []
    for _ in range(args.repeat):
        started = time.perf_counter()
        for point in points:
            jurisdiction.tree.query(point, predicate="covered_by")
        floor.append(len(points) / (time.perf_counter() - started))
        started = time.perf_counter()
        for items in evidence:
            decide(items, jurisdiction)
        ours.append(len(evidence) / (time.perf_counter() - started))
    print(f"{args.suspects:,} suspects ({len(points):,} located points), medians of {args.repeat}")
    print(f"  bare STRtree point queries: {statistics.median(floor):>10,.0f} points/s")
    print(f"  route.routing.decide:       {statistics.median(ours):>10,.0f} suspects/s")


if __name__ == "__main__":
    main()
