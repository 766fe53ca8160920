"""Who operates an IP address, what kind of network it is, and where the databases *estimate* it to be.

Sources, in order of authority: built-in rules (private, loopback, CGNAT shared space, documentation), the
unit's warninglist (VPN, hosting, relays), the unit's ISP table (prefix, then ASN), and MaxMind-format
databases, each used for what its type holds (`mmdb.HOLDS`). Among the databases, the one built for a field
answers first and an Enterprise database fills in: the AS from ASN, then ISP, then Enterprise; the ISP name
from ISP, then Enterprise (an ISP name beats the AS organisation, which is only a fallback); the location
from City/Country, then Enterprise. Each group of fields comes whole from one record, and `answered_by` names
the source of each (a database by its type; its exact version is in `sources`).

City-level geolocation is never evidence of a place: every location field is named as an estimate, with the
database's accuracy radius.
"""

from __future__ import annotations

import ipaddress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tipfusion.enrich.isp_table import IspTable, load_isp_table
from tipfusion.enrich.mmdb import IpDatabase, open_database
from tipfusion.enrich.warninglist import Warninglist, load_warninglist
from tipfusion.normalise.ip import classify

RULES_VERSION = "rules:2"  # 2: ISP and Enterprise databases are read
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
    isp_source: str | None = None  # isp_table_prefix | isp_table_asn | isp_database | asn_database (AS org)
    cgnat: bool = False
    country_estimate: str | None = None
    region_estimate: str | None = None
    city_estimate: str | None = None
    accuracy_radius_km: int | None = None
    latitude_estimate: float | None = None
    longitude_estimate: float | None = None
    warning: str | None = None
    log_timezone: str | None = None
    organization: str | None = None  # who uses the address (ISP/Enterprise databases): often not the ISP
    connection_type: str | None = None  # Enterprise: Cable/DSL, Cellular, Corporate, Satellite, …
    user_type: str | None = None  # Enterprise: residential, business, hosting, cellular, …
    mobile_country_code: str | None = None
    mobile_network_code: str | None = None
    answered_by: dict[str, str] = field(default_factory=dict)  # field (or "location") → source that gave it
    sources: str = ""

    def answer(self) -> dict[str, Any]:
        """The facts, without the version stamp (to tell whether a new database changed anything)."""
        data = asdict(self)
        data.pop("sources")
        return data


# the database kinds that answer each group of fields, in order of precedence
PRECEDENCE = {
    "asn": ("asn", "isp", "enterprise"),
    "isp": ("isp", "enterprise"),
    "connection": ("enterprise",),
    "location": ("city", "enterprise"),
}
ISP_FIELDS = ("organization", "mobile_country_code", "mobile_network_code")
CONNECTION_FIELDS = ("connection_type", "user_type")
LOCATION_KEYS = ("country", "registered_country", "city", "subdivisions", "location")


class IpEnricher:
    def __init__(self, databases: list[IpDatabase], isp_table: IspTable, warninglist: Warninglist):
        # by type, so the answer never depends on the order the files were given in (the signature does not)
        self.databases = sorted((d for d in databases if d.holds), key=lambda d: d.database_type)
        self.unused = [d for d in databases if not d.holds]
        self.order = {
            group: [d for kind in kinds for d in self.databases if d.kind == kind]
            for group, kinds in PRECEDENCE.items()
        }
        self.isp_table = isp_table
        self.warninglist = warninglist
        self.signature = "+".join(
            [RULES_VERSION, warninglist.version, isp_table.version, *sorted(d.version for d in self.databases)]
        )

    @classmethod
    def from_paths(cls, databases: list[Path], isp_table: Path | None, warninglist: Path | None) -> IpEnricher:
        opened: list[IpDatabase] = []
        try:
            for path in databases:
                opened.append(open_database(path))
        except Exception:
            for db in opened:
                db.close()
            raise
        return cls(opened, load_isp_table(isp_table), load_warninglist(warninglist))

    @property
    def problems(self) -> list[str]:
        unused = [
            f"{d.path}: database type {d.database_type!r} holds nothing tipfusion reads "
            "(it reads ASN, ISP, City, Country and Enterprise databases)"
            for d in self.unused
        ]
        return [str(p) for p in self.isp_table.problems + self.warninglist.problems] + unused

    def close(self) -> None:
        for db in self.databases + self.unused:
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
            info.answered_by["warning"] = "warninglist"
        found = _Records(self.order, ip)
        _asn(info, found)
        _isp_details(info, found)
        self._isp_table(info, address)
        if info.cgnat:
            info.network_type = "mobile_cgnat"
        if warning is not None and warning.category in {"vpn", "hosting", "relay", "public_dns"}:
            info.network_type = "hosting_vpn"
        _location(info, found)
        if info.network_type == "unknown" and ip_class == "documentation" and info.isp_name is None:
            info.network_type = "reserved"  # a documentation range no database covers
        return info

    def _isp_table(self, info: IpInfo, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
        """The unit's own table (prefix, then AS number) names the ISP over any database; without it, a database's
        ISP name stands, and the AS organisation is the last resort."""
        rule = self.isp_table.prefixes.lookup(address)
        isp = rule.isp if rule else (self.isp_table.by_asn.get(info.asn) if info.asn is not None else None)
        if isp is None:
            if info.isp_name is None and info.as_org:
                info.isp_name, info.isp_source = info.as_org, "asn_database"
                info.answered_by["isp_name"] = info.answered_by["as_org"]
            return
        info.isp_name, info.log_timezone = isp.name, isp.log_timezone
        info.isp_source = "isp_table_prefix" if rule else "isp_table_asn"
        info.answered_by["isp_name"] = "isp_table"
        if isp.log_timezone:
            info.answered_by["log_timezone"] = "isp_table"
        info.cgnat = address.version == 4 and (rule.cgnat if rule else isp.cgnat)
        info.network_type = {"fixed": "fixed", "mobile": "mobile", "hosting": "hosting_vpn"}[isp.network_type]


class _Records:
    """Each database's record for one address, read at most once per look-up."""

    def __init__(self, order: dict[str, list[IpDatabase]], ip: str):
        self.order = order
        self.ip = ip
        self.cache: dict[str, dict[str, Any] | None] = {}

    def first(self, group: str, keys: tuple[str, ...]) -> tuple[IpDatabase, dict[str, Any]] | None:
        """The first database, by precedence for `group`, whose record has any of `keys`; with the part of the
        record that holds them (Enterprise keeps network facts under `traits`)."""
        for db in self.order[group]:
            if db.version not in self.cache:
                self.cache[db.version] = db.get(self.ip)
            part = self.cache[db.version] or {}
            if db.kind == "enterprise" and group != "location":
                part = part.get("traits") or {}
            if any(part.get(key) is not None for key in keys):
                return db, part
        return None


def _asn(info: IpInfo, found: _Records) -> None:
    answer = found.first("asn", ("autonomous_system_number",))
    if answer is None:
        return
    db, part = answer
    info.asn = part.get("autonomous_system_number")
    info.as_org = part.get("autonomous_system_organization")
    info.answered_by["asn"] = db.database_type
    if info.as_org is not None:
        info.answered_by["as_org"] = db.database_type


def _isp_details(info: IpInfo, found: _Records) -> None:
    """ISP name, organisation and mobile codes from an ISP (or Enterprise) database; connection and user type
    from an Enterprise database. The ISP name here is overridden by the unit's ISP table when that answers."""
    answer = found.first("isp", ("isp", *ISP_FIELDS))
    if answer is not None:
        db, part = answer
        if part.get("isp") is not None:
            info.isp_name, info.isp_source = str(part["isp"]), "isp_database"
            info.answered_by["isp_name"] = db.database_type
        for name in ISP_FIELDS:
            if part.get(name) is not None:
                setattr(info, name, str(part[name]))
                info.answered_by[name] = db.database_type
    answer = found.first("connection", CONNECTION_FIELDS)
    if answer is not None:
        db, part = answer
        for name in CONNECTION_FIELDS:
            if part.get(name) is not None:
                setattr(info, name, str(part[name]))
                info.answered_by[name] = db.database_type


def _location(info: IpInfo, found: _Records) -> None:
    answer = found.first("location", LOCATION_KEYS)
    if answer is None:
        return
    db, record = answer
    info.answered_by["location"] = db.database_type
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
