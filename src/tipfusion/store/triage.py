"""The reads triage scores from: typed records over the current versions, times in UTC and JSON decoded.

Each read is one set-based pass straight from the driver (`bulk.rows_of`): triage reads every current report,
file and link of the store, and row objects would cost more than the scoring done on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from tipfusion.store.bulk import rows_of
from tipfusion.store.types import json_value, utc_value


@dataclass(frozen=True, slots=True)
class ReportHead:
    report_id: int
    escalation_text: str | None
    ncmec_priority: str | None
    incident_type: str | None
    incident_at: datetime | None


@dataclass(frozen=True, slots=True)
class FileFlags:
    report_id: int
    ordinal: int
    file_id: str | None
    annotations: frozenset[str]
    potential_meme: bool | None


def report_heads(conn: Connection) -> list[ReportHead]:
    """Each report's current version: what the ESP said about urgency, and when the incident happened."""
    sql = "SELECT report_id, escalation_text, ncmec_priority, incident_type, incident_at FROM current_report_versions"
    return [ReportHead(r, e, p, t, utc_value(at)) for r, e, p, t, at in rows_of(conn, sql)]


def report_annotations(conn: Connection) -> list[tuple[int, str]]:
    """(report, annotation name) of every current version."""
    return list(rows_of(conn, "SELECT report_id, name FROM current_report_annotations"))


def other_parties(conn: Connection) -> list[tuple[int, str, int | None]]:
    """(report, role, age) of the victims and recipients in current versions."""
    return list(
        rows_of(conn, "SELECT report_id, role, age FROM current_accounts WHERE role IN ('victim', 'recipient')")
    )


def file_hashes(conn: Connection) -> list[tuple[int, int, str]]:
    """(report, file ordinal, hash) of every current file hash."""
    sql = (
        "SELECT report_id, file_ordinal, canonical FROM identifier_observations "
        "WHERE is_current AND kind = 'file_hash' AND file_ordinal IS NOT NULL"
    )
    return list(rows_of(conn, sql))


def file_flags(conn: Connection) -> list[FileFlags]:
    """Each current fileDetails: its file id, the ESP's annotations and whether it called the file a meme."""
    sql = "SELECT report_id, ordinal, file_id, annotations, potential_meme FROM current_files"
    return [FileFlags(r, o, f, frozenset(json_value(flags) or ()), meme) for r, o, f, flags, meme in rows_of(conn, sql)]


def prior_report_mentions(conn: Connection) -> list[int]:
    """The report of every current mention of an earlier report (one entry per mention)."""
    sql = "SELECT report_id FROM identifier_observations WHERE is_current AND kind = 'prior_report'"
    return [report for (report,) in rows_of(conn, sql)]


def reports_naming_a_person(conn: Connection) -> set[int]:
    """Reports holding an IP an ISP can tie to a subscriber (enrichment's identifiability) or a valid phone or email
    on an account (a person the police can reach), in one pass over the sightings.

    Made distinct here, not with SQL's DISTINCT: at 1 M reports PostgreSQL estimated ~106,000 reports with an
    identifiable IP where there were 881,898 (ANALYZE's sample of 12.6 M sightings under-counts the distinct
    reports), planned a hash aggregate for that, and at the default work_mem (4 MB) spilled it batch after batch:
    404 s for the DISTINCT against 2.8 s for the plain rows (EXPLAIN ANALYZE, benchmarks/RESULTS-1M.md)."""
    sql = (
        "SELECT report_id FROM identifier_observations WHERE is_current AND ("
        "(kind = 'ip' AND identifiable) "
        "OR (kind IN ('phone', 'email') AND valid AND account_ordinal IS NOT NULL))"
    )
    return {report for (report,) in rows_of(conn, sql)}


def lead_matches(conn: Connection) -> list[tuple[str, int]]:
    """(lead_ref, report_id) for every lead identifier found in a current report."""
    sql = (
        "SELECT DISTINCT l.lead_ref, o.report_id FROM lead_identifiers l JOIN identifier_observations o "
        "ON o.kind = l.kind AND o.canonical = l.canonical AND o.is_current"
    )
    return [(lead_ref, report) for lead_ref, report in rows_of(conn, sql)]


def lead_hits(conn: Connection) -> list[dict[str, Any]]:
    """Per lead identifier: where it was found — reports, suspects, networks (for the lead's agency and the unit)."""
    sql = (
        "SELECT l.lead_ref, l.agency_note, l.kind, l.value, o.report_id, o.path, r.suspect_id, r.network_id "
        "FROM (SELECT li.lead_ref, COALESCE(ld.agency, '') AS agency_note, li.kind, li.value, li.canonical "
        "      FROM lead_identifiers li LEFT JOIN leads ld ON ld.lead_ref = li.lead_ref) l "
        "JOIN identifier_observations o ON o.kind = l.kind AND o.canonical = l.canonical AND o.is_current "
        "LEFT JOIN report_links r ON r.report_id = o.report_id ORDER BY l.lead_ref, l.value, o.report_id"
    )
    return [
        {
            "lead_ref": lead,
            "agency": agency,
            "kind": kind,
            "value": value,
            "report_id": report,
            "found_at": path,
            "suspect_id": suspect or "",
            "network_id": network or "",
        }
        for lead, agency, kind, value, report, path, suspect, network in rows_of(conn, sql)
    ]
