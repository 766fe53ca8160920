"""How local is linking? The measurement an incremental link (issue 15, target 3) stands on.

    PYTHONPATH=src:. .venv/bin/python benchmarks/link_locality.py --store sqlite:///path/to/store.db
    PYTHONPATH=src:. .venv/bin/python benchmarks/link_locality.py --store URL --batch 0.01 --batch 0.001

Re-linking only what a batch touches can give the same answer as linking everything only if linking decides each
part of the store from that part alone. What a link decides between two reports depends on every tie between them,
strong or weak: a pair the suspects stage judged (any value both hold under its kind's cap, or a rare name), and
anything the networks stage weighed between two suspects (a group, a file, a message, a contact, a lead, a shared
line; weak ties too, since `attach` and `not_on_others_files` read them). This links the store once, keeps every such
tie, and prints:

- the connected components of that graph of ties (reports joined by any tie or by being one suspect): how many, how
  large, the largest one's share of the store: the least an exact incremental link must re-read for a batch that
  reaches the largest;
- for a batch of the newest reports (by report number; `--batch` as a share of the store), the share of the store in
  the components the batch's reports lie in: what a re-link after that batch must read at the least.

Nothing is written to the store. Peak memory is the process's.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.memory import high_water_mb  # noqa: E402


def measure(url: str, batches: list[float]) -> None:
    from tipfusion.link.extract import load_input
    from tipfusion.link.locality import suspect_regions, tie_components, within
    from tipfusion.link.networks import find_networks
    from tipfusion.link.settings import LinkSettings
    from tipfusion.link.suspects import resolve_suspects
    from tipfusion.store.db import make_engine, snapshot

    started = time.perf_counter()
    with snapshot(make_engine(url)) as conn:
        data = load_input(conn)
    settings = LinkSettings()
    judged: list[tuple[int, int]] = []
    weighed: list[tuple[int, int]] = []
    read = time.perf_counter() - started
    started = time.perf_counter()
    clustering = resolve_suspects(data, settings, ties=judged)
    networks, _ = find_networks(data, clustering.label_of, settings, ties=weighed)
    whole = time.perf_counter() - started
    print(f"{len(data.reports):,} reports: read {read:.1f} s, suspects and networks {whole:.1f} s")
    print(f"ties: {len(judged):,} pairs of accounts judged (suspects), {len(weighed):,} of suspects (networks)")

    started = time.perf_counter()
    component = tie_components(data.reports, clustering.label_of, [*judged, *weighed])
    reports = np.array(list(component), dtype=np.int64)
    _, label = np.unique(np.array(list(component.values()), dtype=np.int64), return_inverse=True)
    sizes = np.bincount(label)
    largest = int(sizes.max())
    print(f"components of ties: {len(sizes):,} ({time.perf_counter() - started:.2f} s)")
    print(f"  the largest: {largest:,} reports ({largest / len(reports):.2%} of the store); mean {sizes.mean():.1f}")
    for low, high in ((1, 1), (2, 10), (11, 100), (101, 1000), (1001, None)):
        chosen = (sizes >= low) & (sizes <= (high or largest))
        span = f"{low}–{high}" if high else f"{low}–"
        print(f"  {span:>10} reports: {int(chosen.sum()):>9,} components, {int(sizes[chosen].sum()):>9,} reports")
    order = np.argsort(reports)
    for share in batches:
        size = max(1, round(share * len(reports)))
        touched = np.unique(label[order[-size:]])
        reached = int(sizes[touched].sum())
        started = time.perf_counter()
        part = within(
            data, set(reports[np.isin(label, touched)].tolist()), [*clustering.suppressed, *networks.suppressed]
        )
        cut = time.perf_counter() - started
        started = time.perf_counter()
        alone = resolve_suspects(part, settings, clustering.model)
        alone_networks, _ = find_networks(part, alone.label_of, settings)
        took = time.perf_counter() - started
        held = set(alone.label_of.values())
        same = alone.label_of == {r: s for r, s in clustering.label_of.items() if r in alone.label_of} and (
            alone_networks.label_of == {s: n for s, n in networks.label_of.items() if s in held}
        )
        print(
            f"the newest {size:,} reports ({share:.1%}): in {len(touched):,} components of {reached:,} reports, "
            f"{reached / len(reports):.2%} of the store; cut out in {cut:.2f} s, linked alone in "
            f"{took:.2f} s (everything: {whole:.2f} s); suspects and networks as linking everything gave: "
            f"{'yes' if same else 'NO'}"
        )

    # the suspects stage's regions, found without linking (`suspect_regions`): what an incremental link would read
    assert clustering.model is not None
    started = time.perf_counter()
    region = suspect_regions(data, settings, clustering.model)
    found = time.perf_counter() - started
    region_of = np.array([region[r] for r in reports.tolist()], dtype=np.int64)
    _, region_label = np.unique(region_of, return_inverse=True)
    region_sizes = np.bincount(region_label)
    print(
        f"the suspects stage's regions (found without linking, {found:.2f} s): {len(region_sizes):,}, "
        f"the largest {int(region_sizes.max()):,} reports, mean {region_sizes.mean():.1f}"
    )
    for share in batches:
        size = max(1, round(share * len(reports)))
        touched = np.unique(region_label[order[-size:]])
        reached = int(region_sizes[touched].sum())
        print(f"  the newest {size:,} reports lie in regions of {reached:,} reports ({reached / len(reports):.2%})")
    print(f"peak {high_water_mb():,.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", required=True, help="a store's URL (SQLite or PostgreSQL), read only")
    parser.add_argument("--batch", type=float, action="append", help="a batch's share of the store (default 0.01)")
    args = parser.parse_args()
    measure(args.store, args.batch or [0.01])


if __name__ == "__main__":
    main()
