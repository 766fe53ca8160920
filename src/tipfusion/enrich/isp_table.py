"""The unit's own ISP table: who runs which ASN or prefix, whether it is behind carrier-grade NAT, whom to ask.

CSV (one row per ASN or prefix; rows with the same `name` make one ISP):

    name,asn,prefix,network_type,cgnat,nodal_officer,nodal_email,postal_address,log_timezone
    Example Mobile,64501,,mobile,yes,Nodal Officer,nodal@mobile.example.com,"1 Example Road, Exampleton",Asia/Kolkata
    Example Mobile,,198.19.0.0/24,mobile,yes,,,,

YAML: a list of ISPs, each `{name, asns: [...], prefixes: [{prefix, cgnat}], network_type, cgnat, nodal_officer,
nodal_email, postal_address, log_timezone}`.

`network_type` is fixed, mobile or hosting. `cgnat` (yes/no) says whether the ISP's IPv4 addresses are shared
by many subscribers (then the source port is needed to name one). `log_timezone` is the zone the ISP's logs
use (requests state times in it). Bad rows are reported with file, line and field; the good rows are used.
"""

from __future__ import annotations

import csv
import hashlib
import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from tipfusion.enrich.prefixes import Network, PrefixTable
from tipfusion.errors import ConfigurationError

NETWORK_TYPES = frozenset({"fixed", "mobile", "hosting"})
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0", ""}


@dataclass
class Isp:
    name: str
    network_type: str = "fixed"
    cgnat: bool = False
    nodal_officer: str | None = None
    nodal_email: str | None = None
    postal_address: str | None = None
    log_timezone: str = "UTC"
    asns: set[int] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class PrefixRule:
    isp: Isp
    cgnat: bool


@dataclass(frozen=True, slots=True)
class TableProblem:
    path: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: field {self.field}: {self.message}"


@dataclass
class IspTable:
    isps: dict[str, Isp] = field(default_factory=dict)
    by_asn: dict[int, Isp] = field(default_factory=dict)
    prefixes: PrefixTable[PrefixRule] = field(default_factory=PrefixTable)
    version: str = "none"
    problems: list[TableProblem] = field(default_factory=list)


def load_isp_table(path: Path | None) -> IspTable:
    """Read the table; rows that fail validation are listed in `problems` and left out."""
    if path is None:
        return IspTable()
    if not path.exists():
        raise ConfigurationError(f"{path}: ISP table not found (set TIPFUSION_ISP_TABLE or --isp-table)")
    data = path.read_bytes()
    table = IspTable(version=f"isp-table:{hashlib.sha256(data).hexdigest()[:12]}")
    rows = _yaml_rows(path, data) if path.suffix.lower() in {".yaml", ".yml"} else _csv_rows(data)
    for line, row in rows:
        _add_row(table, str(path), line, row)
    return table


def _csv_rows(data: bytes) -> list[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(data.decode("utf-8-sig").splitlines())
    return [
        (number, {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()})
        for number, row in enumerate(reader, start=2)
    ]


def _yaml_rows(path: Path, data: bytes) -> list[tuple[int, dict[str, Any]]]:
    try:
        loaded = yaml.safe_load(data)
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(loaded, list):
        raise ConfigurationError(f"{path}: expected a list of ISPs at the top level")
    rows: list[tuple[int, dict[str, Any]]] = []
    for index, item in enumerate(loaded, start=1):
        if not isinstance(item, dict):
            rows.append((index, {"name": "", "_error": "an ISP must be a mapping"}))
            continue
        base = {k: v for k, v in item.items() if k not in {"asns", "prefixes"}}
        rows.append((index, {**base, "asn": ""}))
        for asn in item.get("asns") or []:
            rows.append((index, {**base, "asn": asn}))
        for prefix in item.get("prefixes") or []:
            entry = prefix if isinstance(prefix, dict) else {"prefix": prefix}
            rows.append(
                (index, {**base, "prefix": entry.get("prefix"), "cgnat": entry.get("cgnat", base.get("cgnat"))})
            )
    return rows


def _add_row(table: IspTable, path: str, line: int, row: dict[str, Any]) -> None:
    problems: list[TableProblem] = []

    def problem(name: str, message: str) -> None:
        problems.append(TableProblem(path, line, name, message))

    name = str(row.get("name") or "").strip()
    if row.get("_error"):
        problem("name", str(row["_error"]))
    if not name:
        problem("name", "empty (expected the ISP's name)")
    network_type = str(row.get("network_type") or "fixed").strip().lower()
    if network_type not in NETWORK_TYPES:
        problem("network_type", f"{network_type!r} (expected fixed, mobile or hosting)")
    cgnat_raw = str(row.get("cgnat") if row.get("cgnat") is not None else "").strip().lower()
    if cgnat_raw not in _YES | _NO:
        problem("cgnat", f"{cgnat_raw!r} (expected yes or no)")
    asn: int | None = None
    asn_raw = str(row.get("asn") if row.get("asn") is not None else "").strip().upper().removeprefix("AS")
    if asn_raw:
        if not asn_raw.isdigit() or not 0 < int(asn_raw) < 2**32:
            problem("asn", f"{row.get('asn')!r} (expected an AS number such as 64501)")
        else:
            asn = int(asn_raw)
    network: Network | None = None
    prefix_raw = str(row.get("prefix") or "").strip()
    if prefix_raw:
        try:
            network = ipaddress.ip_network(prefix_raw, strict=False)
        except ValueError:
            problem("prefix", f"{prefix_raw!r} (expected a network such as 198.19.0.0/24)")
    zone = str(row.get("log_timezone") or "").strip()
    if zone:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            problem("log_timezone", f"{zone!r} (expected an IANA zone such as Asia/Kolkata)")
    email = str(row.get("nodal_email") or "").strip()
    if email and not _EMAIL.match(email):
        problem("nodal_email", f"{email!r} (expected an email address)")
    if problems:
        table.problems.extend(problems)
        return
    isp = table.isps.get(name)
    if isp is None:
        isp = table.isps[name] = Isp(name=name, network_type=network_type, log_timezone=zone or "UTC")
    for attr in ("nodal_officer", "nodal_email", "postal_address"):
        value = str(row.get(attr) or "").strip()
        if value:
            setattr(isp, attr, value)
    if zone:
        isp.log_timezone = zone
    if row.get("network_type"):
        isp.network_type = network_type
    cgnat = cgnat_raw in _YES
    if asn is not None:
        isp.asns.add(asn)
        isp.cgnat = isp.cgnat or cgnat
        table.by_asn.setdefault(asn, isp)
    if network is not None:
        table.prefixes.add(network, PrefixRule(isp, cgnat))
