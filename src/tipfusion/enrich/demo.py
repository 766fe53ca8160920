"""Synthetic reference data for the demo and the tests: small MaxMind-format databases and an ISP table.

tipfusion ships no real IP database (GeoLite2's licence requires keeping it current and forbids locating
people). These files cover only the reserved ranges the synthetic generator uses, mapped to fictional ISPs
on documentation AS numbers (RFC 5398): a fixed-line ISP, a mobile ISP behind carrier-grade NAT, and a
hosting provider with a VPN exit range. A unit replaces them with its own files, in the same formats.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from unittest.mock import patch

import mmdb_writer
from mmdb_writer import MmdbF64, MmdbU16, MmdbU32, MMDBWriter
from netaddr import IPNetwork, IPSet

FIXED = (64500, "Example Fixed Broadband (synthetic)")
MOBILE = (64501, "Example Mobile (synthetic)")
HOSTING = (64502, "Example Hosting (synthetic)")
CITIES = [
    ("Exampleton", 28.61, 77.21),
    ("Sampleganj", 28.70, 77.10),
    ("Demopur", 28.52, 77.28),
    ("Testnagar", 28.66, 77.32),
    ("Mockabad", 28.57, 77.05),
    ("Fictiva", 28.74, 77.18),
]


@dataclass(frozen=True, slots=True)
class DemoReference:
    asn_database: Path
    city_database: Path
    isp_table: Path
    warninglist: Path

    @property
    def databases(self) -> list[Path]:
        return [self.asn_database, self.city_database]


def _asn(number: int, org: str) -> dict[str, object]:
    return {"autonomous_system_number": MmdbU32(number), "autonomous_system_organization": org}


def _city(name: str | None, lat: float, lon: float, radius: int, country: str = "IN") -> dict[str, object]:
    record: dict[str, object] = {
        "country": {"iso_code": country, "names": {"en": {"IN": "India", "NL": "Netherlands"}.get(country, country)}},
        "location": {"accuracy_radius": MmdbU16(radius), "latitude": MmdbF64(lat), "longitude": MmdbF64(lon)},
    }
    if name:
        record["city"] = {"names": {"en": name}}
        record["subdivisions"] = [{"iso_code": "EX", "names": {"en": "Example State"}}]
    return record


DEMO_BUILD_EPOCH = 1767225600  # 2026-01-01T00:00:00Z: the demo databases' stated build time, the same every time


def _write(writer: MMDBWriter, path: Path) -> None:
    """Write with a fixed build time: mmdb-writer stamps the clock's second, so two batches generated from one seed
    differed in it (and in the reference's version, which names the build date) whenever a second ticked between
    them."""
    with patch.object(mmdb_writer, "time", SimpleNamespace(time=lambda: DEMO_BUILD_EPOCH)):
        writer.to_db_file(str(path))


def build_demo_reference(out: Path) -> DemoReference:
    out.mkdir(parents=True, exist_ok=True)
    asn = MMDBWriter(
        ip_version=6,
        ipv4_compatible=True,
        database_type="tipfusion-demo-ASN",
        description="SYNTHETIC demo ASN database (reserved ranges only)",
    )
    for network, owner in [
        ("198.18.0.0/16", FIXED),
        ("192.0.2.0/24", FIXED),
        ("198.19.0.0/16", MOBILE),
        ("203.0.113.0/24", HOSTING),
        ("2001:db8::/33", MOBILE),
        ("2001:db8:8000::/33", FIXED),
    ]:
        asn.insert_network(IPSet([network]), _asn(*owner))
    asn_path = out / "demo-asn.mmdb"
    _write(asn, asn_path)

    city = MMDBWriter(
        ip_version=6,
        ipv4_compatible=True,
        database_type="tipfusion-demo-City",
        description="SYNTHETIC demo City database (reserved ranges only)",
    )
    for index, subnet in enumerate(IPNetwork("198.18.0.0/16").subnet(20)):
        name, lat, lon = CITIES[index % len(CITIES)]
        city.insert_network(IPSet([str(subnet)]), _city(name, lat, lon, 20))
    city.insert_network(IPSet(["198.19.0.0/16"]), _city("Exampleton", 28.61, 77.21, 200))
    city.insert_network(IPSet(["192.0.2.0/24"]), _city("Demopur", 28.52, 77.28, 50))
    city.insert_network(IPSet(["2001:db8::/32"]), _city(None, 22.0, 79.0, 1000))
    city.insert_network(IPSet(["203.0.113.0/24"]), _city("Example Datacentre", 52.37, 4.90, 100, "NL"))
    city_path = out / "demo-city.mmdb"
    _write(city, city_path)

    isp_path = out / "demo-isps.csv"
    with isp_path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "name",
                "asn",
                "prefix",
                "network_type",
                "cgnat",
                "nodal_officer",
                "nodal_email",
                "postal_address",
                "log_timezone",
            ]
        )
        writer.writerow(
            [
                FIXED[1],
                FIXED[0],
                "",
                "fixed",
                "no",
                "Nodal Officer (synthetic)",
                "nodal@fixed.example.com",
                "1 Example Road, Exampleton",
                "Asia/Kolkata",
            ]
        )
        writer.writerow(
            [
                MOBILE[1],
                MOBILE[0],
                "",
                "mobile",
                "yes",
                "Nodal Officer (synthetic)",
                "nodal@mobile.example.net",
                "2 Example Road, Exampleton",
                "Asia/Kolkata",
            ]
        )
        writer.writerow([MOBILE[1], "", "198.19.0.0/24", "mobile", "yes", "", "", "", ""])
        writer.writerow(
            [
                HOSTING[1],
                HOSTING[0],
                "",
                "hosting",
                "no",
                "Abuse Desk (synthetic)",
                "abuse@hosting.example.org",
                "3 Example Road, Example Datacentre",
                "UTC",
            ]
        )
    warn_path = out / "demo-warninglist.csv"
    warn_path.write_text("prefix,category,note\n203.0.113.0/25,vpn,Example VPN exit (synthetic)\n")
    return DemoReference(asn_path, city_path, isp_path, warn_path)
