"""What `tipfusion export` can write: each source says what it gathers (a table, a link chart or a subject) and
whether it takes a TARGET; the formats come from the renderers that accept that content (`exports.registry`).

Adding a source is one entry here (its gathering lives with its stage); adding a format is one module in
`exports/formats/`. Sources import their stage only when they gather, so the command line starts light.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tipfusion.exports.content import Content, Graph, Snapshot, Table
from tipfusion.exports.registry import formats_for

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from tipfusion.config import Settings

Gather = Callable[["Engine", "Settings", "str | None"], Content]


@dataclass(frozen=True)
class Source:
    name: str  # `tipfusion export NAME`
    kind: str  # the content it gathers: table | graph | subject
    help: str
    gather: Gather
    noun: str  # what the count in the message counts
    default: str  # the format when --format is not given
    target: str | None = None  # help for the TARGET argument, when the source takes one
    target_required: bool = False
    note: str = ""  # said after the count (e.g. that locations are estimates)

    @property
    def formats(self) -> list[str]:
        return formats_for(self.kind)


def _ips(engine: Engine, settings: Settings, _target: str | None) -> Content:
    from tipfusion.enrich.export import IP_FIELDS, ip_rows

    with engine.connect() as conn:
        return Table("IP addresses", IP_FIELDS, ip_rows(conn, settings.profile.zone))


def _linked(name: str) -> Gather:
    def gather(engine: Engine, _settings: Settings, _target: str | None) -> Content:
        from tipfusion.link import export

        makers = {
            "reports": (export.report_rows, export.REPORT_FIELDS),
            "suspects": (export.suspect_rows, export.SUSPECT_FIELDS),
            "networks": (export.network_rows, export.NETWORK_FIELDS),
        }
        maker, fields = makers[name]
        with engine.connect() as conn:
            return Table(name.capitalize(), fields, maker(conn))

    return gather


def _observations(engine: Engine, _settings: Settings, _target: str | None) -> Content:
    from pathlib import Path

    from tipfusion.enrich.hashlists.service import refresh
    from tipfusion.link.snapshot import write_snapshot

    # `tipfusion link` matches files that came since the last hash-list import before it links; the Spark engine
    # reads the snapshot instead of the store, so the snapshot is written from matches brought up to date
    return Snapshot(
        "Linking inputs",
        lambda folder: write_snapshot(engine, Path(folder)),
        prepare=lambda actor: refresh(engine, actor),
    )


def _routing(engine: Engine, _settings: Settings, _target: str | None) -> Content:
    from tipfusion.route.service import ROUTING_FIELDS, routing_rows

    return Table("Routing", ROUTING_FIELDS, routing_rows(engine))


def _chart(engine: Engine, _settings: Settings, target: str | None) -> Content:
    from tipfusion.link.export import CHART_EDGE_FIELDS, CHART_NODE_FIELDS, chart_parts
    from tipfusion.refer.subjects import resolve_target

    with engine.connect() as conn:
        network: str | None = None
        if target is not None:
            kind, subject, _ = resolve_target(conn, target)
            network = subject if kind == "network" else None
            if kind == "suspect":
                from sqlalchemy import select

                from tipfusion.store.tables import suspects

                network = conn.execute(
                    select(suspects.c.network_id).where(suspects.c.suspect_id == subject)
                ).scalar_one_or_none()
                if network is None:
                    from tipfusion.errors import NotFound

                    raise NotFound(f"suspect {subject} is in no network: there is no link chart to draw")
        nodes, edges = chart_parts(conn, network)
    title = f"Link chart of network {network}" if network else "Link chart of every network"
    return Graph(title, nodes, edges, CHART_NODE_FIELDS, CHART_EDGE_FIELDS)


def _referral(engine: Engine, settings: Settings, target: str | None) -> Content:
    from tipfusion.refer.subjects import interop_subject

    assert target is not None  # the command makes TARGET required for this source
    return interop_subject(engine, settings, target)


SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        Source(
            "ips",
            "table",
            "Every distinct IP: ASN, ISP, country, network type, accounts, reports, identifiable sightings.",
            _ips,
            "IP addresses",
            "csv",
            note="(locations are database estimates, never evidence)",
        ),
        Source(
            "reports",
            "table",
            "One row per report: report_id, suspect_id, network_id (empty when in no network), ESP, time, type.",
            _linked("reports"),
            "reports",
            "csv",
        ),
        Source(
            "suspects",
            "table",
            "One row per suspect: reports, network, component, ESP accounts, emails, phones.",
            _linked("suspects"),
            "suspects",
            "csv",
        ),
        Source(
            "networks",
            "table",
            "One row per network with its summary: suspects, reports, ESPs, ISPs, time span, why it hangs together.",
            _linked("networks"),
            "networks",
            "csv",
        ),
        Source(
            "observations",
            "snapshot",
            "What linking reads (identifier sightings, report facts, enrichment, leads, ISP answers), one Parquet "
            "file each in a folder, for `tipfusion link --engine spark --snapshot FOLDER`.",
            _observations,
            "rows",
            "parquet",
        ),
        Source(
            "routing",
            "table",
            "One row per suspect: suspect_id, district, station (empty when not decided), basis, confidence, network.",
            _routing,
            "routing decisions",
            "csv",
        ),
        Source(
            "chart",
            "graph",
            "A link chart: suspects as nodes, the links between them (score, kinds, evidence) as edges.",
            _chart,
            "suspects",
            "graphml",
            target="A network id (or a suspect id: its network); every network when left out",
        ),
        Source(
            "referral",
            "subject",
            "A referral, suspect or network for other agencies' tools (metadata only, TLP:RED).",
            _referral,
            "subject",
            "stix",
            target="A referral reference (TF/REF/…), or a suspect or network id",
            target_required=True,
        ),
    )
}
