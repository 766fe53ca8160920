"""Addresses that say nothing about a household: VPN exits, hosting, relays, the ESPs' own infrastructure.

A small list ships with tipfusion (`enrich/data/warninglist.csv`); the unit extends it with its own file of the
same format (`prefix,category,note`). Categories: vpn, hosting, relay, public_dns, esp_infrastructure, other.
"""

from __future__ import annotations

import csv
import hashlib
import ipaddress
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from tipfusion.enrich.isp_table import TableProblem
from tipfusion.enrich.prefixes import PrefixTable
from tipfusion.errors import ConfigurationError

CATEGORIES = frozenset({"vpn", "hosting", "relay", "public_dns", "esp_infrastructure", "other"})


@dataclass(frozen=True, slots=True)
class Warning:
    category: str
    note: str
    source: str


@dataclass
class Warninglist:
    table: PrefixTable[Warning]
    version: str
    problems: list[TableProblem]


def load_warninglist(extra: Path | None = None) -> Warninglist:
    builtin = resources.files("tipfusion.enrich").joinpath("data/warninglist.csv").read_bytes()
    sources = [("built-in", builtin)]
    if extra is not None:
        if not extra.exists():
            raise ConfigurationError(f"{extra}: warninglist not found (set TIPFUSION_IP_WARNINGLIST or --warninglist)")
        sources.append((str(extra), extra.read_bytes()))
    table: PrefixTable[Warning] = PrefixTable()
    problems: list[TableProblem] = []
    digest = hashlib.sha256()
    for label, data in reversed(sources):  # the unit's own entries win over the built-in ones
        digest.update(data)
        reader = csv.DictReader(line for line in data.decode("utf-8-sig").splitlines() if not line.startswith("#"))
        for number, row in enumerate(reader, start=2):
            prefix = (row.get("prefix") or "").strip()
            category = (row.get("category") or "").strip().lower()
            try:
                network = ipaddress.ip_network(prefix, strict=False)
            except ValueError:
                problems.append(TableProblem(label, number, "prefix", f"{prefix!r} (expected a network)"))
                continue
            if category not in CATEGORIES:
                problems.append(
                    TableProblem(
                        label, number, "category", f"{category!r} (expected one of {', '.join(sorted(CATEGORIES))})"
                    )
                )
                continue
            table.add(network, Warning(category, (row.get("note") or "").strip(), label))
    return Warninglist(table, f"warninglist:{digest.hexdigest()[:12]}", problems)
