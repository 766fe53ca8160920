"""Exports of the linking result: one row per report, per suspect, per network."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, select

from tipfusion.domain import SUSPECT_ROLES
from tipfusion.normalise.registry import ACCOUNT_KEYS
from tipfusion.store.current import current_report_versions
from tipfusion.store.tables import identifier_observations, link_explanations, networks, report_links, suspects

REPORT_FIELDS = ["report_id", "suspect_id", "network_id", "esp", "incident_at_utc", "incident_type"]
SUSPECT_FIELDS = [
    "suspect_id",
    "reports",
    "network_id",
    "component_id",
    "esp_accounts",
    "emails",
    "phones",
    "recipient_accounts",
    "victim_accounts",
    "first_report",
    "last_report",
]
NETWORK_FIELDS = [
    "network_id",
    "suspects",
    "reports",
    "first_incident",
    "last_incident",
    "esps",
    "isps",
    "places_estimated",
    "links_by_kind",
    "key_shared_values",
    "suspect_ids",
]


def report_rows(conn: Connection) -> list[dict[str, Any]]:
    v = current_report_versions
    query = (
        select(
            report_links.c.report_id,
            report_links.c.suspect_id,
            report_links.c.network_id,
            v.c.esp_name,
            v.c.incident_at,
            v.c.incident_type,
        )
        .select_from(report_links.join(v, v.c.report_id == report_links.c.report_id))
        .order_by(report_links.c.report_id)
    )
    return [
        {
            "report_id": row.report_id,
            "suspect_id": row.suspect_id,
            "network_id": row.network_id or "",
            "esp": row.esp_name,
            "incident_at_utc": row.incident_at.isoformat() if row.incident_at else "",
            "incident_type": row.incident_type,
        }
        for row in conn.execute(query)
    ]


def suspect_rows(conn: Connection) -> list[dict[str, Any]]:
    o = identifier_observations
    # the suspect's own values (reported person and associated accounts); other people's accounts in their own
    # labelled columns, never merged into the suspect's
    values: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    query = (
        select(report_links.c.suspect_id, o.c.kind, o.c.value, o.c.role)
        .select_from(o.join(report_links, report_links.c.report_id == o.c.report_id))
        .where(
            o.c.is_current.is_(True),
            o.c.kind.in_([*sorted(ACCOUNT_KEYS), "email", "phone"]),
            o.c.valid.is_(True),
            o.c.account_ordinal.is_not(None),
        )
    )
    for row in conn.execute(query):
        if row.role in SUSPECT_ROLES:
            values[row.suspect_id][row.kind].add(row.value)
        elif row.role in {"recipient", "victim"} and row.kind in ACCOUNT_KEYS:
            values[row.suspect_id][row.role].add(row.value)
    span: dict[str, list[int]] = defaultdict(list)
    for link in conn.execute(select(report_links.c.suspect_id, report_links.c.report_id)):
        span[link.suspect_id].append(link.report_id)
    out = []
    for row in conn.execute(select(suspects).order_by(suspects.c.suspect_id)):
        found = values.get(row.suspect_id, {})
        out.append(
            {
                "suspect_id": row.suspect_id,
                "reports": row.reports,
                "network_id": row.network_id or "",
                "component_id": row.component_id or "",
                "esp_accounts": "; ".join(sorted(v for kind in ACCOUNT_KEYS for v in found.get(kind, ()))),
                "emails": "; ".join(sorted(found.get("email", ()))),
                "phones": "; ".join(sorted(found.get("phone", ()))),
                "recipient_accounts": "; ".join(sorted(found.get("recipient", ()))),
                "victim_accounts": "; ".join(sorted(found.get("victim", ()))),
                "first_report": min(span[row.suspect_id]),
                "last_report": max(span[row.suspect_id]),
            }
        )
    return out


def network_rows(conn: Connection) -> list[dict[str, Any]]:
    out = []
    for row in conn.execute(select(networks).order_by(networks.c.suspects.desc(), networks.c.network_id)):
        summary = row.summary or {}
        out.append(
            {
                "network_id": row.network_id,
                "suspects": row.suspects,
                "reports": row.reports,
                "first_incident": summary.get("first_incident"),
                "last_incident": summary.get("last_incident"),
                "esps": summary.get("esps"),
                "isps": summary.get("isps"),
                "places_estimated": summary.get("places_estimated"),
                "links_by_kind": summary.get("links_by_kind"),
                "key_shared_values": summary.get("key_shared_values"),
                "suspect_ids": summary.get("suspects"),
            }
        )
    return out


CHART_NODE_FIELDS = ["label", "reports", "network_id", "component_id"]
CHART_EDGE_FIELDS = ["weight", "kinds", "evidence"]


def chart_parts(conn: Connection, network_id: str | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A link chart: the suspects of one network (or of every network) and the links that hold them together.

    Each edge carries its score as `weight`, the kinds of evidence, and the evidence itself (`kind: value`), so the
    chart answers "why are these two joined" without the store.
    """
    members = select(suspects).order_by(suspects.c.suspect_id)
    members = members.where(
        suspects.c.network_id == network_id if network_id is not None else suspects.c.network_id.is_not(None)
    )
    nodes = [
        {
            "id": row.suspect_id,
            "label": row.suspect_id,
            "reports": row.reports,
            "network_id": row.network_id,
            "component_id": row.component_id,
        }
        for row in conn.execute(members)
    ]
    links = select(link_explanations).where(link_explanations.c.level == "network")
    if network_id is not None:
        links = links.where(link_explanations.c.owner_id == network_id)
    edges = []
    for row in conn.execute(links.order_by(link_explanations.c.owner_id, link_explanations.c.a, link_explanations.c.b)):
        evidence = [list(e) for e in row.evidence or []]
        edges.append(
            {
                "source": row.a,
                "target": row.b,
                "weight": round(float(row.score), 3),
                "kinds": sorted({str(e[0]) for e in evidence if e}),
                "evidence": [f"{e[0]}: {e[1]}" for e in evidence if len(e) >= 2],
            }
        )
    return nodes, edges
