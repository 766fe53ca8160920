"""Reads for the notices to ISPs and platforms: the reported person's IP sightings, what earlier requests asked,
and the reported accounts per platform; typed records, times in UTC.

The ISP-request service (`requests.service`) and the web's request pages read sightings only through here, so the
suspect-side rule, the join to the ISP answer table and the conversion of stored times live in one place.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, select, text

from tipfusion.domain import SUSPECT_SIDE_SQL, Sighting
from tipfusion.store.bulk import rows_of
from tipfusion.store.current import chunked
from tipfusion.store.repository import SIGHTINGS_GENERATION, get_flag, set_flag
from tipfusion.store.tables import isp_request_items
from tipfusion.store.types import utc_value

SIGHTINGS_FROM = (
    "FROM identifier_observations o JOIN ip_enrichments e ON e.ip = o.canonical "
    "LEFT JOIN report_links r ON r.report_id = o.report_id "
    f"WHERE o.kind = 'ip' AND o.is_current AND o.valid AND o.origin = 'field' AND {SUSPECT_SIDE_SQL}"
)
_SIGHTINGS = (
    "SELECT o.report_id, r.suspect_id, o.canonical, o.port, o.observed_at, o.event_name, e.isp_name, "
    f"e.network_type, e.log_timezone, o.identifiable, o.identifiability_note {SIGHTINGS_FROM}"
)

AskedKey = tuple[str, int | None, str]  # (ip, port, the exact UTC moment as text): what an ISP item is keyed on


def asked_key(ip: str, port: int | None, observed_at: datetime | None) -> AskedKey:
    return ip, port, str(observed_at)


def suspect_ip_sightings(conn: Connection, isp: str | None = None) -> list[Sighting]:
    """Every sighting (only `isp`'s when given), read straight from the driver (this reads every sighting)."""
    rows = (
        rows_of(conn, _SIGHTINGS)
        if isp is None
        else conn.execute(text(_SIGHTINGS + " AND e.isp_name = :isp"), {"isp": isp})
    )
    return [
        Sighting(
            int(report),
            suspect,
            ip,
            port,
            utc_value(at),
            event,
            name,
            network,
            zone,
            None if ok is None else bool(ok),
            note,
        )
        for report, suspect, ip, port, at, event, name, network, zone, ok, note in rows
    ]


def asked(conn: Connection, ips: Collection[str] | None = None) -> set[AskedKey]:
    """The sightings earlier requests asked about (only those of `ips` when given)."""
    if ips is None:
        return {
            asked_key(ip, port, utc_value(at))
            for ip, port, at in rows_of(conn, "SELECT ip, port, observed_at FROM isp_request_items")
        }
    found = select(isp_request_items.c.ip, isp_request_items.c.port, isp_request_items.c.observed_at)
    out: set[AskedKey] = set()
    for chunk in chunked(sorted(set(ips))):
        out.update(
            asked_key(ip, port, at) for ip, port, at in conn.execute(found.where(isp_request_items.c.ip.in_(chunk)))
        )
    return out


def pending_counts(
    conn: Connection, askable: Collection[str], isp: str | None = None
) -> list[tuple[str, str, int, int]]:
    """(ISP, its log zone, sightings still to ask, of which proposed) per ISP (or for `isp` alone, over its own
    sightings through the ISP index), counted in the database: sightings of an `askable` network type with a time,
    not asked yet; proposed being all but IPv4 CGNAT ones without a port."""
    kinds = ", ".join(f"'{kind}'" for kind in sorted(askable))
    sql = (
        "SELECT p.isp, (SELECT min(z.log_timezone) FROM ip_enrichments z WHERE z.isp_name = p.isp), count(*), "
        "sum(1 - p.unported) FROM (SELECT DISTINCT e.isp_name AS isp, o.canonical, o.port, o.observed_at, "
        "CASE WHEN e.network_type = 'mobile_cgnat' AND o.port IS NULL AND o.canonical NOT LIKE '%:%' "
        f"THEN 1 ELSE 0 END AS unported {SIGHTINGS_FROM} AND e.isp_name IS NOT NULL "
        + ("AND e.isp_name = :isp " if isp is not None else "")
        + f"AND e.network_type IN ({kinds}) AND o.observed_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "
        "isp_request_items i WHERE i.ip = o.canonical AND i.observed_at = o.observed_at "
        "AND (i.port = o.port OR (i.port IS NULL AND o.port IS NULL)))) p GROUP BY p.isp ORDER BY p.isp"
    )
    rows = conn.execute(text(sql), {} if isp is None else {"isp": isp})
    return [(str(name), str(zone or "UTC"), int(n), int(m)) for name, zone, n, m in rows]


PENDING_COUNTS_FLAG = "isp_pending_counts"
"""Store flag holding the pending counts per ISP (JSON) with the sightings' generation they were counted under."""

PendingRow = tuple[str, str, int, int]  # (ISP, its log zone, sightings still to ask, of which proposed)


class HeldPendingCounts(NamedTuple):
    """The pending counts kept in the store, with the sightings' generation they were counted under."""

    generation: str
    rows: list[PendingRow]


def held_pending_counts(conn: Connection) -> HeldPendingCounts | None:
    """The kept counts when they are current (counted under the sightings' generation), decoded and typed here so
    no service re-parses the flag's JSON; None when none are kept or they are out of date."""
    raw = get_flag(conn, PENDING_COUNTS_FLAG)
    generation = get_flag(conn, SIGHTINGS_GENERATION) or ""
    if raw is None:
        return None
    kept = json.loads(raw)
    if kept.get("generation") != generation:
        return None
    return HeldPendingCounts(generation, [(str(i), str(z), int(n), int(m)) for i, z, n, m in kept["rows"]])


def keep_pending_counts(conn: Connection, generation: str, rows: list[PendingRow]) -> None:
    """Keep `rows` as the pending counts of sightings `generation` (read back by `held_pending_counts`)."""
    set_flag(conn, PENDING_COUNTS_FLAG, json.dumps({"generation": generation, "rows": sorted(rows)}))


REPORTED_ACCOUNTS_FROM = (
    "FROM accounts a JOIN reports r ON r.report_id = a.report_id AND r.current_version = a.version "
    "LEFT JOIN report_links l ON l.report_id = a.report_id "
    "WHERE a.role = 'reported' AND a.esp_identifier IS NOT NULL"
)


def platform_accounts(conn: Connection, unknown: str) -> list[tuple[str, int, int]]:
    """(platform, reported accounts with the platform's user ID, reports they appear in) per platform, `unknown`
    naming the accounts whose report gave no platform."""
    sql = (
        "SELECT COALESCE(a.esp_scope, :unknown) AS esp, count(DISTINCT a.esp_identifier), "
        f"count(DISTINCT a.report_id) {REPORTED_ACCOUNTS_FROM} GROUP BY 1"
    )
    return sorted((str(esp), int(n), int(m)) for esp, n, m in conn.execute(text(sql), {"unknown": unknown}))


def reported_accounts(conn: Connection) -> list[tuple[str | None, str, str | None, int, str | None]]:
    """(ESP, account id, screen name, report, suspect) of every reported person's account in a current version."""
    sql = f"SELECT a.esp_scope, a.esp_identifier, a.screen_name, a.report_id, l.suspect_id {REPORTED_ACCOUNTS_FROM}"
    return [
        (esp, str(account), screen, int(report), suspect)
        for esp, account, screen, report, suspect in rows_of(conn, sql)
    ]
