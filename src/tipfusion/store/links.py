"""Reads of the link stage's results (which suspect each report is about, suspects, networks, their sightings, the
names a relink retired).

Straight from the driver (`bulk.rows_of`): triage and routing read every link of the store in one pass.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, text

from tipfusion.domain import SUSPECT_SIDE_SQL
from tipfusion.store.bulk import rows_of
from tipfusion.store.current import current_report_versions
from tipfusion.store.hashlists import fingerprint
from tipfusion.store.tables import link_aliases, link_runs, report_links


def report_suspects(conn: Connection) -> dict[int, str]:
    """The suspect each linked report is about."""
    return dict(rows_of(conn, "SELECT report_id, suspect_id FROM report_links"))


def assignments(conn: Connection) -> dict[int, tuple[str, str | None, int]]:
    """Report → (suspect, network, the run that last changed the row) as the last run left them; one string per name
    (a million reports, a third as many suspects). Read once per link: for the aliases, and as the rows
    `bulk.replace_rows` compares."""
    names: dict[str, str] = {}
    same = names.setdefault
    found: dict[int, tuple[str, str | None, int]] = {}
    for report, suspect, network, run in rows_of(
        conn, "SELECT report_id, suspect_id, network_id, run_id FROM report_links"
    ):
        found[report] = (same(suspect, suspect), None if network is None else same(network, network), run)
    return found


def latest_basis(conn: Connection) -> tuple[int, dict[str, Any] | None] | None:
    """The last finished link run: its id, and what its answer rests on (None: a run that kept none)."""
    found = conn.execute(
        select(link_runs.c.id, link_runs.c.basis)
        .where(link_runs.c.finished_at.is_not(None))
        .order_by(link_runs.c.finished_at.desc(), link_runs.c.id.desc())  # the last to write its answer
        .limit(1)
    ).first()
    return None if found is None else (int(found.id), found.basis)


def evidence_digests(conn: Connection) -> dict[int, int]:
    """Each report's evidence digest as the last link read it."""
    return dict(rows_of(conn, "SELECT report_id, digest FROM link_report_digests"))


def value_holders(conn: Connection) -> dict[int, int]:
    """Each shared value's count of holders (by hash) as the last link counted them."""
    return dict(rows_of(conn, "SELECT value_hash, holders FROM link_value_holders"))


def network_sizes(conn: Connection) -> dict[str, int]:
    """How many suspects each network holds."""
    return dict(rows_of(conn, "SELECT network_id, suspects FROM networks"))


def suspect_rows(conn: Connection) -> list[tuple[str, int, str | None]]:
    """(suspect, reports, network) of every suspect."""
    return list(rows_of(conn, "SELECT suspect_id, reports, network_id FROM suspects"))


def suspect_networks(conn: Connection) -> dict[str, str]:
    """The network of every suspect that has one."""
    return dict(rows_of(conn, "SELECT suspect_id, network_id FROM suspects WHERE network_id IS NOT NULL"))


def network_isps_and_places(conn: Connection) -> list[tuple[str, str, str, int]]:
    """Per network, how many of its reports show each ISP and, on a fixed line, each estimated city, from the
    reported side's current IP sightings (counted by the database: at 1 M reports Python counted ~750,000 of them):
    ("isp" or "place", network, name, reports). Empty names are left out, as an ISP or city unknown."""
    sql = (  # the sightings joined once, then counted twice
        "WITH seen AS MATERIALIZED (SELECT l.network_id, o.report_id, e.isp_name, e.city_estimate, e.network_type "
        "FROM report_links l "
        "JOIN identifier_observations o ON o.report_id = l.report_id AND o.kind = 'ip' AND o.is_current "
        f"JOIN ip_enrichments e ON e.ip = o.canonical WHERE l.network_id IS NOT NULL AND {SUSPECT_SIDE_SQL}) "
        "SELECT 'isp', network_id, isp_name, COUNT(DISTINCT report_id) FROM seen "
        "WHERE isp_name IS NOT NULL AND isp_name <> '' GROUP BY network_id, isp_name "
        "UNION ALL SELECT 'place', network_id, city_estimate, COUNT(DISTINCT report_id) FROM seen "
        "WHERE network_type = 'fixed' AND city_estimate IS NOT NULL AND city_estimate <> '' "
        "GROUP BY network_id, city_estimate"
    )
    return list(rows_of(conn, sql))


def network_reports_per_esp(conn: Connection) -> list[tuple[str, str | None, int, datetime | None, datetime | None]]:
    """Per network and ESP, how many of the network's reports (their current versions) the ESP sent, and the first
    and last incident among them: (network, ESP, reports, first, last), in network and ESP order. Counted by the
    database: Python went through the reports of every network one by one (~180,000 at 1 M reports)."""
    v, links = current_report_versions, report_links
    query = (
        select(links.c.network_id, v.c.esp_name, func.count(), func.min(v.c.incident_at), func.max(v.c.incident_at))
        .select_from(v.join(links, links.c.report_id == v.c.report_id))
        .where(links.c.network_id.is_not(None))
        .group_by(links.c.network_id, v.c.esp_name)
        .order_by(links.c.network_id, v.c.esp_name)
    )
    return [(network, esp, reports, first, last) for network, esp, reports, first, last in conn.execute(query)]


# what changes when a batch, a new version of a report, a lead list, an ISP answer, an enrichment or a hash list
# arrives (not every edit in place: a cheap mark, read in one query each, not a checksum of the inputs)
LINKING_INPUT_MARKS = {
    "reports": "SELECT COUNT(*), COALESCE(SUM(current_version), 0) FROM reports",
    "sightings": "SELECT COUNT(*), MAX(id) FROM identifier_observations",
    "leads": "SELECT COUNT(*), MAX(id) FROM lead_identifiers",
    "isp_answers": "SELECT COUNT(*), MAX(id) FROM isp_answers",
    "ip_enrichments": "SELECT COUNT(*) FROM ip_enrichments",
}


def linking_inputs_mark(conn: Connection) -> dict[str, str]:
    """The state of what linking reads, as short strings per input (a Parquet snapshot records it when written, so
    one the store has moved on from can be refused)."""
    mark = {name: "/".join(str(v) for v in conn.execute(text(sql)).one()) for name, sql in LINKING_INPUT_MARKS.items()}
    mark["hash_lists"] = fingerprint(conn)
    return mark


def follow_aliases(identifier: str, new_id_of: Callable[[str], str | None]) -> str:
    """Follow old → new names to the id that holds the reports now (cycles stop where they began)."""
    seen = set()
    while identifier not in seen:
        seen.add(identifier)
        following = new_id_of(identifier)
        if following is None:
            return identifier
        identifier = following
    return identifier


def resolve_id(conn: Connection, identifier: str) -> str:
    """An old suspect or network name to the one that holds its reports now (one id: a query per hop)."""
    return follow_aliases(
        identifier,
        lambda old: conn.execute(select(link_aliases.c.new_id).where(link_aliases.c.old_id == old)).scalar(),
    )


def alias_resolver(conn: Connection) -> Callable[[str], str]:
    """resolve_id for many ids: the alias table read once."""
    table: dict[str, str] = {
        old: new for old, new in conn.execute(select(link_aliases.c.old_id, link_aliases.c.new_id))
    }
    return lambda identifier: follow_aliases(identifier, table.get)
