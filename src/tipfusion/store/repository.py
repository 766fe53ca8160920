"""Repository functions: the only place that knows how records map to rows.

Services call these inside a transaction they own (`engine.begin()`); nothing here commits.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, func, insert, select, text, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from tipfusion import clock
from tipfusion.domain import UNKNOWN_ISSUES, LeadItem, ParsedReport, QuarantineEntry
from tipfusion.store.bulk import convert, insert_rows
from tipfusion.store.current import chunked
from tipfusion.store.tables import (
    accounts,
    estimated_locations,
    files,
    identifier_observations,
    ingest_runs,
    lead_identifiers,
    leads,
    quarantine_entries,
    report_annotations,
    report_version_parts,
    report_versions,
    reports,
    source_blobs,
    source_documents,
    store_flags,
)

BLOB_CHUNK = 8 * 1024 * 1024


def now() -> datetime:
    """The one clock (TIPFUSION_NOW shifts it for tests and rehearsals)."""
    return clock.now()


# -- runs ------------------------------------------------------------------------------------------------
def start_run(conn: Connection, actor: str, command: str, paths: list[str]) -> int:
    result = conn.execute(
        insert(ingest_runs)
        .values(started_at=now(), actor=actor, command=command, paths=paths)
        .returning(ingest_runs.c.id)
    )
    return int(result.scalar_one())


def finish_run(conn: Connection, run_id: int, summary: dict[str, Any]) -> None:
    conn.execute(update(ingest_runs).where(ingest_runs.c.id == run_id).values(finished_at=now(), summary=summary))


# -- source documents -------------------------------------------------------------------------------------
@dataclass(slots=True)
class SourceRow:
    sha256: str
    name: str
    data: bytes
    format: str
    container_sha256: str | None = None


def stored_shas(conn: Connection, shas: Iterable[str]) -> set[str]:
    wanted = sorted(set(shas))
    found: set[str] = set()
    for chunk in chunked(wanted):
        found.update(
            conn.execute(select(source_documents.c.sha256).where(source_documents.c.sha256.in_(chunk))).scalars()
        )
    return found


def store_sources(conn: Connection, rows: Iterable[SourceRow], run_id: int) -> int:
    """Keep each distinct document once, byte for byte; returns how many were new."""
    unique = {row.sha256: row for row in rows}
    if not unique:
        return 0
    held = stored_shas(conn, unique)
    new = [row for sha, row in unique.items() if sha not in held]
    if not new:
        return 0
    received = now()
    insert_rows(
        conn,
        source_documents,
        ("sha256", "name", "size", "format", "container_sha256", "received_at", "run_id"),
        [(r.sha256, r.name, len(r.data), r.format, r.container_sha256, received, run_id) for r in new],
    )
    insert_rows(
        conn,
        source_blobs,
        ("sha256", "chunk", "data"),
        [
            # views, not slices: a document of hundreds of MB is not copied again chunk by chunk
            (r.sha256, i // BLOB_CHUNK, memoryview(r.data)[i : i + BLOB_CHUNK])
            for r in new
            for i in range(0, max(len(r.data), 1), BLOB_CHUNK)
        ],
    )
    return len(new)


def load_blob(conn: Connection, sha256: str) -> bytes:
    chunks = (
        conn.execute(select(source_blobs.c.data).where(source_blobs.c.sha256 == sha256).order_by(source_blobs.c.chunk))
        .scalars()
        .all()
    )
    if not chunks:
        raise KeyError(sha256)
    return b"".join(bytes(c) for c in chunks)


def source_row(conn: Connection, sha256: str) -> Any:
    return conn.execute(select(source_documents).where(source_documents.c.sha256 == sha256)).first()


# -- reports ------------------------------------------------------------------------------------------------
@dataclass(slots=True)
class StoredReport:
    report_id: int
    current_version: int
    format: str
    hashes: set[str] = field(default_factory=set)
    parts: list[dict[str, Any]] = field(default_factory=list)  # parts of the current version


def holds_part(conn: Connection, report_id: int, source_sha256: str) -> bool:
    """Whether a stored version of the report already has these bytes as one of its parts."""
    found = conn.execute(
        select(report_version_parts.c.report_id)
        .where(report_version_parts.c.report_id == report_id, report_version_parts.c.source_sha256 == source_sha256)
        .limit(1)
    ).first()
    return found is not None


def stored_reports(conn: Connection, report_ids: Iterable[int]) -> dict[int, StoredReport]:
    ids = sorted(set(report_ids))
    out: dict[int, StoredReport] = {}
    for chunk in chunked(ids):
        for row in conn.execute(
            select(reports.c.report_id, reports.c.current_version, reports.c.format).where(
                reports.c.report_id.in_(chunk)
            )
        ):
            out[row.report_id] = StoredReport(row.report_id, row.current_version, row.format)
        if not out:
            continue
        for version_row in conn.execute(
            select(report_versions.c.report_id, report_versions.c.content_hash).where(
                report_versions.c.report_id.in_(chunk)
            )
        ):
            out[version_row.report_id].hashes.add(version_row.content_hash)
        current = [(rid, out[rid].current_version) for rid in chunk if rid in out]
        for sub in chunked(current, 400):
            for row in conn.execute(
                select(report_version_parts).where(
                    tuple_(report_version_parts.c.report_id, report_version_parts.c.version).in_(sub)
                )
            ):
                out[row.report_id].parts.append(dict(row._mapping))
    return out


VERSION_COLUMNS = (
    "report_id",
    "version",
    "content_hash",
    "ingested_at",
    "run_id",
    "format",
    "esp_name",
    "esp_scope",
    "incident_type",
    "incident_type_known",
    "platform",
    "escalation_text",
    "incident_at",
    "incident_at_raw",
    "incident_at_description",
    "date_received",
    "batched_reason",
    "ncmec_priority",
    "additional_info",
    "law_enforcement",
    "reporter",
    "incidents",
    "extras",
    "issues",
    "unknown_count",
)
PART_COLUMNS = ("report_id", "version", "part_sha256", "role", "source_sha256", "pointer")
ANNOTATION_COLUMNS = ("report_id", "version", "name", "known")
ACCOUNT_COLUMNS = (
    "report_id",
    "version",
    "ordinal",
    "role",
    "parent_ordinal",
    "esp_scope",
    "esp_identifier",
    "esp_service",
    "screen_name",
    "display_name",
    "first_name",
    "last_name",
    "age",
    "date_of_birth",
    "details",
    "path",
)
LOCATION_COLUMNS = (
    "report_id",
    "version",
    "account_ordinal",
    "city",
    "region",
    "country_code",
    "verified",
    "observed_at",
)
FILE_COLUMNS = (
    "report_id",
    "version",
    "ordinal",
    "file_id",
    "file_name",
    "original_file_name",
    "uploaded_at",
    "uploaded_at_raw",
    "location_of_file",
    "viewed_by_esp",
    "exif_viewed_by_esp",
    "publicly_available",
    "relevance",
    "potential_meme",
    "annotations",
    "industry_classification",
    "hashes",
    "details",
    "source_sha256",
)
OBSERVATION_COLUMNS = (
    "report_id",
    "version",
    "is_current",
    "account_ordinal",
    "file_ordinal",
    "kind",
    "value",
    "canonical",
    "raw",
    "valid",
    "detail",
    "flags",
    "event_name",
    "observed_at",
    "observed_at_raw",
    "port",
    "possible_proxy",
    "verified",
    "origin",
    "path",
    "attrs",
    "role",
)
UNKNOWN_CODES = UNKNOWN_ISSUES


@dataclass(slots=True)
class ReportRows:
    """One report version as plain row tuples, table by table (built without a database)."""

    versions: list[tuple[Any, ...]] = field(default_factory=list)
    parts: list[tuple[Any, ...]] = field(default_factory=list)
    annotations: list[tuple[Any, ...]] = field(default_factory=list)
    accounts: list[tuple[Any, ...]] = field(default_factory=list)
    locations: list[tuple[Any, ...]] = field(default_factory=list)
    files: list[tuple[Any, ...]] = field(default_factory=list)
    observations: list[tuple[Any, ...]] = field(default_factory=list)

    def extend(self, other: ReportRows) -> None:
        for name in self.__slots__:
            getattr(self, name).extend(getattr(other, name))


def report_rows(r: ParsedReport, v: int, run_id: int, stamp: datetime) -> ReportRows:
    rows = ReportRows()
    rid = r.report_id
    rows.versions.append(
        (
            rid,
            v,
            r.content_hash,
            stamp,
            run_id,
            r.format,
            r.esp_name,
            r.esp_scope,
            r.incident_type,
            r.incident_type_known,
            r.platform,
            r.escalation_text,
            r.incident_at,
            r.incident_at_raw,
            r.incident_at_description,
            r.date_received,
            r.batched_reason,
            r.ncmec_priority,
            r.additional_info,
            r.law_enforcement,
            r.reporter,
            [{"kind": i.kind, **i.data} for i in r.incidents] or None,
            r.extras or None,
            [{"code": i.code, "path": i.path, "value": i.value, "expected": i.expected} for i in r.issues] or None,
            sum(1 for i in r.issues if i.code in UNKNOWN_CODES),
        )
    )
    seen: set[str] = set()
    for p in r.parts:
        if p.part_sha256 not in seen:
            seen.add(p.part_sha256)
            rows.parts.append((rid, v, p.part_sha256, p.role, p.source_sha256, p.pointer))
    known = dict(r.annotations)
    rows.annotations.extend((rid, v, name, flag) for name, flag in known.items())
    rows.accounts.extend(
        (
            rid,
            v,
            a.ordinal,
            a.role,
            a.parent,
            r.esp_scope,
            a.esp_identifier,
            a.esp_service,
            a.screen_name,
            a.display_name,
            a.first_name,
            a.last_name,
            a.age,
            a.date_of_birth,
            a.details or None,
            a.path,
        )
        for a in r.accounts
    )
    rows.locations.extend(
        (rid, v, loc.account, loc.city, loc.region, loc.country_code, loc.verified, loc.observed_at)
        for loc in r.locations
    )
    rows.files.extend(
        (
            rid,
            v,
            f.ordinal,
            f.file_id,
            f.file_name,
            f.original_file_name,
            f.uploaded_at,
            f.uploaded_at_raw,
            f.location_of_file,
            f.viewed_by_esp,
            f.exif_viewed_by_esp,
            f.publicly_available,
            f.relevance,
            f.potential_meme,
            f.annotations or None,
            f.industry_classification,
            f.hashes or None,
            f.details or None,
            f.source_sha256,
        )
        for f in r.files
    )
    rows.observations.extend(
        (
            rid,
            v,
            True,
            o.account,
            o.file,
            o.kind,
            o.value,
            o.canonical,
            o.raw,
            o.valid,
            o.detail,
            ",".join(o.flags) if o.flags else None,
            o.event_name,
            o.observed_at,
            o.observed_at_raw,
            o.port,
            o.possible_proxy,
            o.verified,
            o.origin,
            o.path,
            o.attrs,
            o.role,
        )
        for o in r.observations
    )
    return rows


REPORTS_TABLE = reports.name
# the table of stored documents (not their bytes, `source_blobs`: read by key only, and ANALYZE reads into its sampled
# values: 13.7 s for a 1 M-report store's 2.5 M chunks, against 0.5 s for its 12.6 M sightings)
SOURCE_DOCUMENTS_TABLE = source_documents.name
ROW_TABLES: tuple[tuple[str, Table, tuple[str, ...]], ...] = (
    ("versions", report_versions, VERSION_COLUMNS),
    ("parts", report_version_parts, PART_COLUMNS),
    ("annotations", report_annotations, ANNOTATION_COLUMNS),
    ("accounts", accounts, ACCOUNT_COLUMNS),
    ("locations", estimated_locations, LOCATION_COLUMNS),
    ("files", files, FILE_COLUMNS),
    ("observations", identifier_observations, OBSERVATION_COLUMNS),
)


def process_rows(dialect: str, rows: ReportRows) -> ReportRows:
    """Convert rows for `dialect` (pure: worker processes call it)."""
    out = ReportRows()
    for name, table, columns in ROW_TABLES:
        setattr(out, name, convert(dialect, table, columns, getattr(rows, name)))
    return out


def write_rows(conn: Connection, items: Sequence[tuple[int, int, str]], rows: ReportRows) -> None:
    """Write whole report versions: `items` are (report_id, version, format); `rows` already converted.

    Earlier versions stay; their observations stop being current.
    """
    if not items:
        return
    stamp = now()
    superseded = [(rid, v - 1) for rid, v, _ in items if v > 1]
    for chunk in chunked(superseded, 400):
        conn.execute(
            update(identifier_observations)
            .where(tuple_(identifier_observations.c.report_id, identifier_observations.c.version).in_(chunk))
            .values(is_current=False)
        )
    insert_rows(
        conn,
        reports,
        ("report_id", "current_version", "format", "first_ingested_at", "updated_at"),
        [(rid, v, fmt, stamp, stamp) for rid, v, fmt in items if v == 1],
    )
    for rid, v, fmt in items:
        if v > 1:
            conn.execute(
                update(reports)
                .where(reports.c.report_id == rid)
                .values(current_version=v, updated_at=stamp, format=fmt)
            )
    for name, table, columns in ROW_TABLES:
        insert_rows(conn, table, columns, getattr(rows, name), converted=True)
    touch_flag(conn, SIGHTINGS_GENERATION)


def write_reports(conn: Connection, items: Sequence[tuple[ParsedReport, int]], run_id: int) -> None:
    """Write parsed reports (convenience over report_rows + write_rows)."""
    stamp = now()
    rows = ReportRows()
    for report, version in items:
        rows.extend(report_rows(report, version, run_id, stamp))
    write_rows(conn, [(r.report_id, v, r.format) for r, v in items], process_rows(conn.dialect.name, rows))


def reports_with_value(conn: Connection, kind: str, canonical: str) -> list[int]:
    """Every report whose current version holds this identifier (the linking primitive)."""
    return list(
        conn.execute(
            select(identifier_observations.c.report_id)
            .distinct()
            .where(
                identifier_observations.c.kind == kind,
                identifier_observations.c.canonical == canonical,
                identifier_observations.c.is_current.is_(True),
            )
            .order_by(identifier_observations.c.report_id)
        ).scalars()
    )


# -- quarantine -----------------------------------------------------------------------------------------------
def open_quarantine_keys(conn: Connection, shas: Iterable[str]) -> set[tuple[str, str | None, str]]:
    wanted = sorted(set(shas))
    keys: set[tuple[str, str | None, str]] = set()
    for chunk in chunked(wanted):
        for row in conn.execute(
            select(quarantine_entries.c.source_sha256, quarantine_entries.c.pointer, quarantine_entries.c.reason).where(
                quarantine_entries.c.source_sha256.in_(chunk), quarantine_entries.c.status == "open"
            )
        ):
            keys.add((row.source_sha256, row.pointer, row.reason))
    return keys


def add_quarantine(conn: Connection, entries: Sequence[QuarantineEntry]) -> list[QuarantineEntry]:
    """Insert entries not already open for the same (document, pointer, reason); returns those inserted."""
    if not entries:
        return []
    existing = open_quarantine_keys(conn, (e.source_sha256 for e in entries))
    fresh: list[QuarantineEntry] = []
    seen: set[tuple[str, str | None, str]] = set()
    for entry in entries:
        if entry.key in existing or entry.key in seen:
            continue
        seen.add(entry.key)
        fresh.append(entry)
    if fresh:
        created = now()
        conn.execute(insert(quarantine_entries), [{"created_at": created, "status": "open", **e.row()} for e in fresh])
    return fresh


def open_orphans(conn: Connection, report_ids: Iterable[int]) -> dict[int, list[Any]]:
    """fileDetails waiting for their report, by report id."""
    ids = sorted(set(report_ids))
    out: dict[int, list[Any]] = defaultdict(list)
    for chunk in chunked(ids):
        for row in conn.execute(
            select(quarantine_entries).where(
                quarantine_entries.c.reason == "orphan_file_details",
                quarantine_entries.c.status == "open",
                quarantine_entries.c.report_id.in_(chunk),
            )
        ):
            out[row.report_id].append(row)
    return out


def resolve_quarantine(conn: Connection, entry_ids: Iterable[int], resolution: str) -> None:
    ids = sorted(set(entry_ids))
    for chunk in chunked(ids):
        conn.execute(
            update(quarantine_entries)
            .where(quarantine_entries.c.id.in_(chunk), quarantine_entries.c.status == "open")
            .values(status="resolved", resolved_at=now(), resolution=resolution)
        )


def list_quarantine(conn: Connection, status: str | tuple[str, ...] | None = "open", limit: int = 200) -> list[Any]:
    query = select(quarantine_entries).order_by(quarantine_entries.c.id).limit(limit)
    if status:
        query = query.where(quarantine_entries.c.status.in_([status] if isinstance(status, str) else status))
    return list(conn.execute(query))


def get_quarantine(conn: Connection, entry_id: int) -> Any:
    return conn.execute(select(quarantine_entries).where(quarantine_entries.c.id == entry_id)).first()


def count_quarantine(conn: Connection) -> dict[str, int]:
    rows = conn.execute(select(quarantine_entries.c.status, func.count()).group_by(quarantine_entries.c.status))
    return {str(status): int(count) for status, count in rows}


# -- leads -------------------------------------------------------------------------------------------------------
def write_leads(conn: Connection, items: Sequence[LeadItem], source_sha256: str) -> int:
    """Store lead identifiers; an item already held for the same lead is not stored twice. Only the held items
    these could repeat are read (a list written a chunk at a time never reads back its lead's million items)."""
    refs = sorted({i.lead_ref for i in items})
    canonicals = sorted({i.canonical for i in items})
    known_refs = set(conn.execute(select(leads.c.lead_ref).where(leads.c.lead_ref.in_(refs))).scalars())
    first = {}
    for item in items:
        if item.lead_ref not in known_refs and item.lead_ref not in first:
            first[item.lead_ref] = item
    if first:
        conn.execute(
            insert(leads),
            [
                {"lead_ref": i.lead_ref, "agency": i.agency, "received_at": i.received_at, "first_ingested_at": now()}
                for i in first.values()
            ],
        )
    existing: set[tuple[Any, ...]] = set(
        tuple(row)
        for row in conn.execute(
            select(lead_identifiers.c.lead_ref, lead_identifiers.c.kind, lead_identifiers.c.canonical).where(
                lead_identifiers.c.lead_ref.in_(refs), lead_identifiers.c.canonical.in_(canonicals)
            )
        ).all()
    )
    rows, seen = [], set()
    for i in items:
        key = (i.lead_ref, i.kind, i.canonical)
        if key in existing or key in seen:
            continue
        seen.add(key)
        rows.append(
            {
                "lead_ref": i.lead_ref,
                "kind": i.kind,
                "value": i.value,
                "canonical": i.canonical,
                "raw": i.raw,
                "valid": i.valid,
                "detail": i.detail,
                "country": i.country,
                "note": i.note,
                "source_sha256": source_sha256,
                "line": i.line,
            }
        )
    if rows:
        conn.execute(insert(lead_identifiers), rows)
    return len(rows)


# -- store-wide facts -----------------------------------------------------------------------------------------------
def set_flag(conn: Connection, name: str, value: str) -> None:
    if conn.execute(select(store_flags.c.name).where(store_flags.c.name == name)).first():
        conn.execute(update(store_flags).where(store_flags.c.name == name).values(value=value))
    else:
        conn.execute(insert(store_flags).values(name=name, value=value))


SIGHTINGS_GENERATION = "sightings_generation"
"""A token that changes whenever the IP sightings or their ISPs change (ingest writes observations, enrich writes
ISP answers): summaries derived from them (the ISP requests' pending counts) are kept with the token they were
counted under and counted again once it differs. A migration that rewrites sightings or ISP answers must touch it
too."""


def touch_flag(conn: Connection, name: str) -> str:
    """Set `name` to a fresh random token and return it: one upsert, so two writers creating it at once do not
    collide (on PostgreSQL the row stays locked until the commit: call it last in a transaction)."""
    token = uuid.uuid4().hex
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    statement = dialect.insert(store_flags).values(name=name, value=token)
    conn.execute(statement.on_conflict_do_update(index_elements=["name"], set_={"value": token}))
    return token


def report_outside(conn: Connection, ids: AbstractSet[int]) -> int | None:
    """The lowest held report id not in `ids`; None when every report the store holds is one of them. Read in
    keyset pages of the primary key: a store of a million reports is never held as one list."""
    page_size = 20_000
    last: int | None = None
    while True:
        query = select(reports.c.report_id).order_by(reports.c.report_id).limit(page_size)
        if last is not None:
            query = query.where(reports.c.report_id > last)
        page = [int(r) for r in conn.execute(query).scalars()]
        for report_id in page:
            if report_id not in ids:
                return report_id
        if len(page) < page_size:
            return None
        last = page[-1]


def get_flag(conn: Connection, name: str) -> str | None:
    value = conn.execute(select(store_flags.c.value).where(store_flags.c.name == name)).scalar()
    return None if value is None else str(value)


def counts(conn: Connection) -> dict[str, int]:
    """Headline numbers of the store (for summaries)."""
    out: dict[str, int] = {}
    out["reports"] = int(conn.execute(select(func.count()).select_from(reports)).scalar_one())
    out["report_versions"] = int(conn.execute(select(func.count()).select_from(report_versions)).scalar_one())
    out["observations"] = int(
        conn.execute(
            select(func.count())
            .select_from(identifier_observations)
            .where(identifier_observations.c.is_current.is_(True))
        ).scalar_one()
    )
    # files, not fileDetails documents: several documents may describe one file
    out["files"] = int(
        conn.execute(
            text(
                "SELECT COUNT(*) FROM (SELECT DISTINCT report_id, COALESCE(file_id, CAST(ordinal AS VARCHAR(12))) "
                "FROM current_files) f"
            )
        ).scalar_one()
    )
    out["lead_identifiers"] = int(conn.execute(select(func.count()).select_from(lead_identifiers)).scalar_one())
    out["quarantine_open"] = count_quarantine(conn).get("open", 0)
    return out
