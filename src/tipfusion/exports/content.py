"""What an export source hands a renderer: a table, a link chart (a graph), a subject for other agencies' tools, or
a snapshot of several tables for a machine.

A renderer says which of these it accepts, so the formats of `tipfusion export WHAT` are derived, never listed twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Table:
    """Rows for an analyst: one mapping per row, `fields` in column order. A field named `…_utc` holds an ISO time
    in UTC and `…_local` one with its offset (the spreadsheet shows them as date-time cells)."""

    title: str
    fields: list[str]
    rows: list[dict[str, Any]]
    kind: str = "table"

    @property
    def size(self) -> int:
        return len(self.rows)


@dataclass(frozen=True)
class Graph:
    """A link chart: nodes (each with an `id`) and edges (`source`, `target`), their other keys as attributes."""

    title: str
    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]
    node_fields: list[str] = field(default_factory=list)  # attribute keys beyond `id`, in order
    edge_fields: list[str] = field(default_factory=list)  # beyond `source` and `target`
    kind: str = "graph"

    @property
    def size(self) -> int:
        return len(self.nodes)


@dataclass(frozen=True)
class Subject:
    """A suspect, a network or a referral, gathered for MISP or STIX (metadata only, TLP:RED)."""

    title: str
    dossier: Any  # tipfusion.refer.dossier.Dossier (kept loose so this module imports nothing heavy)
    reference: str | None
    unit_name: str
    synthetic: bool
    kind: str = "subject"

    @property
    def size(self) -> int:
        return 1


@dataclass(frozen=True)
class Snapshot:
    """Several tables straight from the store, for a machine (the Spark linking engine), streamed when written:
    `write(folder)` writes them and returns the rows written per table."""

    title: str
    write: Any  # Callable[[Path], dict[str, int]]
    counts: dict[str, int] = field(default_factory=dict)  # filled in when written
    kind: str = "snapshot"
    # Callable[[str], None]: derived data the tables must be up to date with, brought up to date first by the
    # exporting actor (a snapshot is read later, elsewhere: what the reader would have refreshed must be in it)
    prepare: Any = None

    @property
    def size(self) -> int:
        return sum(self.counts.values())


Content = Table | Graph | Subject | Snapshot
