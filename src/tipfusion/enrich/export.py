"""The IP table analysts ask for first: every distinct IP, who runs it, how often and by whom it was used."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, String, and_, case, cast, desc, distinct, func, select

from tipfusion.exports.spreadsheet import write_csv
from tipfusion.store.tables import accounts, identifier_observations, ip_enrichments

IP_FIELDS = [
    "ip",
    "asn",
    "as_org",
    "isp",
    "isp_source",
    "organization",
    "connection_type",
    "user_type",
    "mobile_country_code",
    "mobile_network_code",
    "country_estimate",
    "city_estimate",
    "accuracy_radius_km",
    "network_type",
    "cgnat",
    "warning",
    "held_by",
    "accounts",
    "reports",
    "sightings",
    "sightings_with_port",
    "identifiable_sightings",
    "first_seen_utc",
    "first_seen_local",
    "last_seen_utc",
    "last_seen_local",
    "isp_log_timezone",
    "answered_by",
    "enriched_with",
]


def ip_rows(conn: Connection, zone: ZoneInfo) -> list[dict[str, Any]]:
    o, e, a = identifier_observations, ip_enrichments, accounts
    account_key = func.coalesce(
        a.c.esp_scope + "/" + a.c.esp_identifier, cast(o.c.report_id, String) + ":" + cast(o.c.account_ordinal, String)
    )
    reports = func.count(distinct(o.c.report_id)).label("reports")
    enrichment = [
        e.c.asn,
        e.c.as_org,
        e.c.isp_name,
        e.c.isp_source,
        e.c.organization,
        e.c.connection_type,
        e.c.user_type,
        e.c.mobile_country_code,
        e.c.mobile_network_code,
        e.c.answered_by,
        e.c.country_estimate,
        e.c.city_estimate,
        e.c.accuracy_radius_km,
        e.c.network_type,
        e.c.cgnat,
        e.c.warning,
        e.c.log_timezone,
        e.c.sources,
    ]
    query = (
        select(
            o.c.canonical.label("ip"),
            *enrichment,
            func.count(distinct(account_key)).label("accounts"),
            reports,
            func.count().label("sightings"),
            func.sum(case((o.c.port.is_not(None), 1), else_=0)).label("with_port"),
            func.sum(case((o.c.identifiable.is_(True), 1), else_=0)).label("identifiable"),
            func.min(o.c.observed_at).label("first_seen"),
            func.max(o.c.observed_at).label("last_seen"),
        )
        .select_from(
            o.outerjoin(e, e.c.ip == o.c.canonical).outerjoin(
                a, and_(a.c.report_id == o.c.report_id, a.c.version == o.c.version, a.c.ordinal == o.c.account_ordinal)
            )
        )
        .where(o.c.kind == "ip", o.c.is_current.is_(True))
        .group_by(o.c.canonical, *enrichment)
        .order_by(desc(reports), o.c.canonical)
    )
    # whose sightings these are (reported person, recipient, victim, incident): an IP is never silently a suspect's
    held_by: dict[str, set[str]] = {}
    for ip, role in conn.execute(
        select(o.c.canonical, o.c.role).where(o.c.kind == "ip", o.c.is_current.is_(True)).distinct()
    ):
        held_by.setdefault(ip, set()).add(role)
    out = []
    for row in conn.execute(query):
        out.append(
            {
                "ip": row.ip,
                "asn": row.asn,
                "as_org": row.as_org,
                "isp": row.isp_name,
                "isp_source": row.isp_source,
                "organization": row.organization,
                "connection_type": row.connection_type,
                "user_type": row.user_type,
                "mobile_country_code": row.mobile_country_code,
                "mobile_network_code": row.mobile_network_code,
                "country_estimate": row.country_estimate,
                "city_estimate": row.city_estimate,
                "accuracy_radius_km": row.accuracy_radius_km,
                "network_type": row.network_type or "not enriched",
                "cgnat": row.cgnat,
                "warning": row.warning,
                "held_by": "; ".join(sorted(held_by.get(row.ip, ()))),
                "accounts": row.accounts,
                "reports": row.reports,
                "sightings": row.sightings,
                "sightings_with_port": int(row.with_port or 0),
                "identifiable_sightings": int(row.identifiable or 0),
                "first_seen_utc": _utc(row.first_seen),
                "first_seen_local": _local(row.first_seen, zone),
                "last_seen_utc": _utc(row.last_seen),
                "last_seen_local": _local(row.last_seen, zone),
                "isp_log_timezone": row.log_timezone,
                "answered_by": row.answered_by,
                "enriched_with": row.sources,
            }
        )
    return out


def _utc(moment: datetime | None) -> str | None:
    """A sighting time (min/max of a `UTCDateTime` column keep its type: aware UTC on both databases) in UTC."""
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _local(moment: datetime | None, zone: ZoneInfo) -> str | None:
    return moment.astimezone(zone).isoformat() if moment else None


def write_rows(rows: list[dict[str, Any]], fields: list[str], fmt: str, output: Path) -> None:
    """JSON as it is; CSV through the one spreadsheet writer (mappings as JSON, formulas neutralised)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "json":
        output.write_text(json.dumps(rows, indent=1, ensure_ascii=False, default=str) + "\n")
        return
    write_csv(output, fields, rows)
