"""Enrichment throughput: IP look-ups/s (against a bare maxminddb loop as the floor) and reports/s end to end.

    .venv/bin/python benchmarks/enrich.py --ips 200000 --reports 20000 --repeat 3

Look-ups use the synthetic demo databases and ISP table (the same code path real .mmdb files take). End to
end: a synthetic batch is ingested into a fresh SQLite store (not timed), then `EnrichService.run` is timed —
distinct IPs looked up and stored, every IP sighting assessed, phones and emails described.
"""

from __future__ import annotations

import argparse
import ipaddress
import random
import statistics
import tempfile
import time
from pathlib import Path

from tipfusion.config import Settings
from tipfusion.enrich.demo import build_demo_reference
from tipfusion.enrich.ip import IpEnricher
from tipfusion.enrich.service import EnrichConfig, EnrichService
from tipfusion.ingest import IngestService
from tipfusion.store.db import make_engine, upgrade
from tipfusion.synth import generate

HERE = Path(__file__).resolve().parent


def sample_ips(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    nets = [ipaddress.ip_network(n) for n in ("198.18.0.0/16", "198.19.0.0/24", "203.0.113.0/24", "2001:db8::/32")]
    out = set()
    while len(out) < count:
        net = rng.choice(nets)
        out.add(str(net.network_address + rng.randrange(net.num_addresses)))
    return sorted(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ips", type=int, default=200_000)
    parser.add_argument("--reports", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tf-enrich-", dir=HERE / "out" if (HERE / "out").exists() else None))
    reference = build_demo_reference(work / "reference")
    enricher = IpEnricher.from_paths(reference.databases, reference.isp_table, reference.warninglist)
    ips = sample_ips(args.ips, 7)

    floor, ours = [], []
    readers = [db.reader for db in enricher.databases]
    for _ in range(args.repeat):
        started = time.perf_counter()
        for ip in ips:
            for reader in readers:
                reader.get(ip)
        floor.append(len(ips) / (time.perf_counter() - started))
        started = time.perf_counter()
        for ip in ips:
            enricher.lookup(ip)
        ours.append(len(ips) / (time.perf_counter() - started))
    enricher.close()

    batch = work / "batch"
    generate(batch, args.reports, 2026)
    end_to_end = []
    for attempt in range(args.repeat):
        url = f"sqlite:///{work / f'store-{attempt}.db'}"
        engine = make_engine(url)
        upgrade(engine)
        IngestService(engine, Settings(database_url=url), "benchmark").ingest_paths([batch])
        config = EnrichConfig(tuple(reference.databases), reference.isp_table, reference.warninglist)
        summary = EnrichService(engine, config, "benchmark").run()
        end_to_end.append(
            (args.reports / summary.seconds, summary.seconds, summary.ips_looked_up, summary.sightings_assessed)
        )
        engine.dispose()

    print(f"\nIP look-ups over {len(ips):,} distinct addresses (ASN + City databases), medians of {args.repeat}")
    print(f"  bare maxminddb reads (2 databases): {statistics.median(floor):>10,.0f} IPs/s")
    print(
        f"  tipfusion IpEnricher.lookup:        {statistics.median(ours):>10,.0f} IPs/s "
        f"({statistics.median(ours) / statistics.median(floor):.2f} of the floor)"
    )
    rate, seconds, looked_up, assessed = sorted(end_to_end)[len(end_to_end) // 2]
    print(
        f"End to end on SQLite, {args.reports:,} reports: {seconds:.1f} s = {rate:,.0f} reports/s "
        f"({looked_up:,} distinct IPs, {assessed:,} IP sightings assessed)"
    )


if __name__ == "__main__":
    main()
