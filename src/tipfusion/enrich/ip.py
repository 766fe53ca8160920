"""Who operates an IP address, what kind of network it is, and where the databases *estimate* it to be.

Sources, in order of authority: built-in rules (private, loopback, CGNAT shared space, documentation), the
unit's warninglist (VPN, hosting, relays), the unit's ISP table (prefix, then ASN), and MaxMind-format
databases (ASN, then City for a location estimate). City-level geolocation is never evidence of a place:
every location field is named as an estimate, with the database's accuracy radius.
"""

from __future__ import annotations

import ipaddress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tipfusion.enrich.isp_table import IspTable, load_isp_table
from tipfusion.enrich.mmdb import IpDatabase, open_database
from tipfusion.enrich.warninglist import Warninglist, load_warninglist
from tipfusion.normalise.ip import classify

RULES_VERSION = "rules:1"
NO_ISP_TYPES = {
    "loopback": "reserved",
    "link_local": "private",
    "multicast": "reserved",
    "reserved": "reserved",
    "private": "private",
    "cgnat": "private",
}


@dataclass(slots=True)
class IpInfo:
    ip: str
    ip_version: int
    ip_class: str
    network_type: str  # fixed | mobile_cgnat | mobile | hosting_vpn | private | reserved | unknown
    asn: int | None = None
    as_org: str | None = None
    isp_name: str | None = None
    isp_source: str | None = None  # isp_table_prefix | isp_table_asn | asn_database
    cgnat: bool = False
    country_estimate: str | None = None
    region_estimate: str | None = None
    city_estimate: str | None = None
    accuracy_radius_km: int | None = None
    latitude_estimate: float | None = None
    longitude_estimate: float | None = None
    warning: str | None = None
    log_timezone: str | None = None
    sources: str = ""

    def answer(self) -> dict[str, Any]:
        """The facts, without the version stamp (to tell whether a new database changed anything)."""
        data = asdict(self)
        data.pop("sources")
        return data


class IpEnricher:
    def __init__(self, databases: list[IpDatabase], isp_table: IspTable, warninglist: Warninglist):
        self.asn_dbs = [d for d in databases if d.kind == "asn"]
        self.city_dbs = [d for d in databases if d.kind == "city"]
        self.isp_table = isp_table
        self.warninglist = warninglist
        self.signature = "+".join(
            [RULES_VERSION, warninglist.version, isp_table.version, *sorted(d.version for d in databases)]
        )

    @classmethod
    def from_paths(cls, databases: list[Path], isp_table: Path | None, warninglist: Path | None) -> IpEnricher:
        return cls([open_database(p) for p in databases], load_isp_table(isp_table), load_warninglist(warninglist))

    @property
    def problems(self) -> list[str]:
        return [str(p) for p in self.isp_table.problems + self.warninglist.problems]

    def close(self) -> None:
        for db in self.asn_dbs + self.city_dbs:
            db.close()

    def lookup(self, ip: str) -> IpInfo:
        address = ipaddress.ip_address(ip)
        ip_class = classify(address)
        info = IpInfo(ip, address.version, ip_class, "unknown", sources=self.signature)
        if ip_class in NO_ISP_TYPES:
            info.network_type = NO_ISP_TYPES[ip_class]
            return info
        warning = self.warninglist.table.lookup(address)
        if warning is not None:
            info.warning = f"{warning.category}: {warning.note}" if warning.note else warning.category
        for db in self.asn_dbs:
            record = db.get(ip)
            if record:
                info.asn = record.get("autonomous_system_number")
                info.as_org = record.get("autonomous_system_organization")
                break
        rule = self.isp_table.prefixes.lookup(address)
        isp = rule.isp if rule else (self.isp_table.by_asn.get(info.asn) if info.asn is not None else None)
        if isp is not None:
            info.isp_name, info.log_timezone = isp.name, isp.log_timezone
            info.isp_source = "isp_table_prefix" if rule else "isp_table_asn"
            info.cgnat = address.version == 4 and (rule.cgnat if rule else isp.cgnat)
            info.network_type = {"fixed": "fixed", "mobile": "mobile", "hosting": "hosting_vpn"}[isp.network_type]
        elif info.as_org:
            info.isp_name, info.isp_source = info.as_org, "asn_database"
        if info.cgnat:
            info.network_type = "mobile_cgnat"
        if warning is not None and warning.category in {"vpn", "hosting", "relay", "public_dns"}:
            info.network_type = "hosting_vpn"
        for db in self.city_dbs:
            record = db.get(ip)
            if record:
                _location(info, record)
                break
        if info.network_type == "unknown" and ip_class == "documentation" and info.isp_name is None:
            info.network_type = "reserved"  # a documentation range no database covers
        return info


def _location(info: IpInfo, record: dict[str, Any]) -> None:
    country = record.get("country") or record.get("registered_country") or {}
    info.country_estimate = country.get("iso_code")
    info.city_estimate = ((record.get("city") or {}).get("names") or {}).get("en")
    subdivisions = record.get("subdivisions") or []
    if subdivisions:
        info.region_estimate = (subdivisions[0].get("names") or {}).get("en") or subdivisions[0].get("iso_code")
    location = record.get("location") or {}
    info.accuracy_radius_km = location.get("accuracy_radius")
    info.latitude_estimate = location.get("latitude")
    info.longitude_estimate = location.get("longitude")
