"""Reads of the link stage's results (which suspect each report is about, suspects, networks, their sightings).

Straight from the driver (`bulk.rows_of`): triage and routing read every link of the store in one pass.
"""

from __future__ import annotations

from sqlalchemy import Connection

from tipfusion.domain import SUSPECT_SIDE_SQL
from tipfusion.store.bulk import rows_of


def report_suspects(conn: Connection) -> dict[int, str]:
    """The suspect each linked report is about."""
    return dict(rows_of(conn, "SELECT report_id, suspect_id FROM report_links"))


def network_sizes(conn: Connection) -> dict[str, int]:
    """How many suspects each network holds."""
    return dict(rows_of(conn, "SELECT network_id, suspects FROM networks"))


def suspect_rows(conn: Connection) -> list[tuple[str, int, str | None]]:
    """(suspect, reports, network) of every suspect."""
    return list(rows_of(conn, "SELECT suspect_id, reports, network_id FROM suspects"))


def suspect_networks(conn: Connection) -> dict[str, str]:
    """The network of every suspect that has one."""
    return dict(rows_of(conn, "SELECT suspect_id, network_id FROM suspects WHERE network_id IS NOT NULL"))


def network_ip_sightings(conn: Connection) -> list[tuple[int, str | None, str | None, str | None]]:
    """(report, ISP, city estimate, network type) of the reported side's current IP sightings in reports that
    belong to a network."""
    sql = (
        "SELECT o.report_id, e.isp_name, e.city_estimate, e.network_type FROM report_links l "
        "JOIN identifier_observations o ON o.report_id = l.report_id AND o.kind = 'ip' AND o.is_current "
        f"JOIN ip_enrichments e ON e.ip = o.canonical WHERE l.network_id IS NOT NULL AND {SUSPECT_SIDE_SQL}"
    )
    return list(rows_of(conn, sql))
