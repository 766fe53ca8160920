"""The reads routing places suspects from, and the lead lists deconfliction checks: typed rows, JSON decoded.

Only the reported person's side counts as evidence of where a suspect is (`domain.SUSPECT_SIDE_SQL`): a victim's
address or phone never routes a suspect.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from tipfusion.domain import SUSPECT_SIDE_SQL
from tipfusion.store import link_inputs
from tipfusion.store.bulk import rows_of
from tipfusion.store.types import json_value


def reported_person_addresses(conn: Connection) -> list[tuple[int, list[dict[str, Any]]]]:
    """(report, the reported person's addresses as received) of every current version that gives any.

    Only the `addresses` of the details are read, and only where there are some (a fifth of the reports in the
    synthetic batches): decoding every reported person's whole details took most of routing's evidence reads."""
    addresses = "json_extract(details, '$.addresses')" if conn.dialect.name == "sqlite" else "details -> 'addresses'"
    sql = f"SELECT report_id, {addresses} FROM current_accounts WHERE role = 'reported' AND {addresses} IS NOT NULL"
    sql += " ORDER BY report_id, ordinal"  # evidence in one order on every run (ties are reported in it)
    return [(report, found) for report, value in rows_of(conn, sql) if (found := json_value(value))]


def isp_answer_addresses(conn: Connection) -> list[tuple[int, str | None, str | None]]:
    """(report, subscriber address, PIN) of every ISP answer."""
    return list(rows_of(conn, "SELECT report_id, address, pin FROM isp_answers ORDER BY 1, 2, 3"))


def landline_sightings(conn: Connection) -> list[tuple[int, str, str | None]]:
    """(report, number, area) of the reported side's fixed-line phones on an account."""
    sql = (
        "SELECT o.report_id, o.canonical, p.area FROM identifier_observations o JOIN phone_enrichments p "
        f"ON p.e164 = o.canonical WHERE o.kind = 'phone' AND o.is_current AND {SUSPECT_SIDE_SQL} "
        "AND o.account_ordinal IS NOT NULL AND p.number_type IN ('fixed_line', 'fixed_line_or_mobile') ORDER BY 1, 2, 3"
    )
    return list(rows_of(conn, sql))


def fixed_ip_cities(conn: Connection) -> list[tuple[int, str]]:
    """(report, city estimate) of the reported side's IPs on a fixed network."""
    sql = (
        "SELECT o.report_id, e.city_estimate FROM identifier_observations o JOIN ip_enrichments e "
        f"ON e.ip = o.canonical WHERE o.kind = 'ip' AND o.is_current AND {SUSPECT_SIDE_SQL} "
        "AND o.account_ordinal IS NOT NULL AND e.network_type = 'fixed' AND e.city_estimate IS NOT NULL ORDER BY 1, 2"
    )
    return list(rows_of(conn, sql))


def esp_location_cities(conn: Connection) -> list[tuple[int, str]]:
    """(report, city) of the ESP's location estimates for the reported person."""
    sql = (
        "SELECT l.report_id, l.city FROM current_estimated_locations l JOIN current_accounts a ON "
        "a.report_id = l.report_id AND a.ordinal = l.account_ordinal "
        "WHERE a.role = 'reported' AND l.city IS NOT NULL ORDER BY 1, 2"
    )
    return list(rows_of(conn, sql))


def lead_agencies(conn: Connection) -> dict[str, str]:
    """The agency of every lead list entry ('' when none was given)."""
    return dict(rows_of(conn, "SELECT lead_ref, COALESCE(agency, '') FROM leads"))


def lead_values(conn: Connection) -> list[tuple[str, str, str]]:
    """(lead, kind as listed, canonical value) of every lead list entry: linking's lead input."""
    return list(link_inputs.rows(conn, link_inputs.LEADS))
