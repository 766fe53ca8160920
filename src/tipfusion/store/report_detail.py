"""Everything the store holds about one report: every version, part, identifier (with whose it is), file and
fileDetails document, and every unknown field — so a user, and a test, can see that nothing was lost."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Table, select

from tipfusion.domain import PARTY_LABELS
from tipfusion.errors import NotFound
from tipfusion.store.tables import (
    accounts,
    estimated_locations,
    files,
    identifier_observations,
    report_annotations,
    report_version_parts,
    report_versions,
    reports,
    source_documents,
)


def _plain(value: Any) -> Any:
    """JSON-ready: times in ISO 8601 with their zone, JSON text (SQLite) decoded."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _rows(conn: Connection, table: Table, report_id: int, order: list[str]) -> dict[int, list[dict[str, Any]]]:
    """Rows of a per-version table, by version."""
    out: dict[int, list[dict[str, Any]]] = {}
    query = select(table).where(table.c.report_id == report_id).order_by(*(table.c[c] for c in order))
    for row in conn.execute(query):
        record = {k: _plain(v) for k, v in row._mapping.items() if k not in {"report_id", "version"}}
        out.setdefault(int(row.version), []).append(record)
    return out


def report_detail(conn: Connection, report_id: int) -> dict[str, Any]:
    """One report as stored, newest version first; raises NotFound for a report the store does not hold."""
    head = conn.execute(select(reports).where(reports.c.report_id == report_id)).first()
    if head is None:
        raise NotFound(f"no report {report_id} in this store (tipfusion status shows what it holds)")
    names = {
        row.sha256: row.name
        for row in conn.execute(
            select(source_documents.c.sha256, source_documents.c.name).where(
                source_documents.c.sha256.in_(
                    select(report_version_parts.c.source_sha256).where(report_version_parts.c.report_id == report_id)
                )
            )
        )
    }
    parts = _rows(conn, report_version_parts, report_id, ["role", "pointer", "part_sha256"])
    for version_parts in parts.values():
        for part in version_parts:
            part["source_name"] = names.get(part["source_sha256"])
    annotations = _rows(conn, report_annotations, report_id, ["name"])
    people = _rows(conn, accounts, report_id, ["ordinal"])
    locations = _rows(conn, estimated_locations, report_id, ["id"])
    file_rows = _rows(conn, files, report_id, ["ordinal"])
    sightings = _rows(conn, identifier_observations, report_id, ["id"])
    versions = []
    for row in conn.execute(
        select(report_versions)
        .where(report_versions.c.report_id == report_id)
        .order_by(report_versions.c.version.desc())
    ):
        v = int(row.version)
        record = {k: _plain(val) for k, val in row._mapping.items() if k != "report_id"}
        for field in ("law_enforcement", "reporter", "incidents", "extras", "issues"):
            if isinstance(record.get(field), str):
                record[field] = json.loads(record[field])
        for person in people.get(v, []):
            person["party"] = PARTY_LABELS.get(person["role"], person["role"])
        for sighting in sightings.get(v, []):
            sighting.pop("id", None)
        record.update(
            current=v == head.current_version,
            parts=parts.get(v, []),
            annotations=annotations.get(v, []),
            accounts=people.get(v, []),
            estimated_locations=locations.get(v, []),
            files=file_rows.get(v, []),
            identifiers=sightings.get(v, []),
        )
        versions.append(record)
    from tipfusion.store.hashlists import matches_of_report

    return {
        "report_id": report_id,
        "current_version": head.current_version,
        "first_ingested_at": _plain(head.first_ingested_at),
        "versions": versions,
        "known_content": matches_of_report(conn, report_id),  # its files on the unit's hash lists
    }
