"""Routing throughput: decisions per second for N suspects against the demo jurisdiction (30 station polygons).

    .venv/bin/python benchmarks/route.py --suspects 100000 --repeat 3

Each synthetic suspect carries one to three pieces of evidence (an ISP answer or report address as a point in or
near the city, an ESP or IP city estimate); the timed part is `route.routing.decide` for all of them, after the
STRtree is built. The floor is a bare shapely STRtree point query for the same points.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suspects", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
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
