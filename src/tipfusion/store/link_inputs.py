"""What linking reads from the store: one query per input, with its columns' types.

They live with the store's other queries (services write no SQL text). The embedded engine runs them through
`rows` (`link.extract`); the Spark engine runs the same
queries over JDBC, or reads the Parquet snapshot `tipfusion export observations --format parquet` wrote from them
(`link.snapshot`). So all three see the same rows, and the rules that sort them live once, in `link.extract`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from tipfusion.normalise.registry import KINDS
from tipfusion.store.bulk import rows_of
from tipfusion.store.hashlists import MATCHED_FILES_SQL

LINKING_KINDS = sorted(name for name, kind in KINDS.items() if kind.links is not None)


@dataclass(frozen=True)
class Input:
    name: str
    sql: str
    columns: tuple[tuple[str, str], ...]  # (name, type): int64, int32, string, bool, timestamp (UTC), json (as text)
    partition_by: str | None = None  # a numeric column a distributed reader may split the rows on

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.columns]


REPORTS = Input(
    "reports",
    "SELECT report_id, current_version FROM reports",
    (("report_id", "int64"), ("current_version", "int32")),
)
NAMES = Input(
    "names",
    "SELECT report_id, first_name, last_name, age, CAST(date_of_birth AS VARCHAR(10)) AS date_of_birth "
    "FROM current_accounts WHERE role = 'reported'",
    (
        ("report_id", "int64"),
        ("first_name", "string"),
        ("last_name", "string"),
        ("age", "int32"),
        ("date_of_birth", "string"),
    ),
)
NETWORK_TYPES = Input(
    "ip_enrichments", "SELECT ip, network_type FROM ip_enrichments", (("ip", "string"), ("network_type", "string"))
)
SIGHTINGS = Input(
    "sightings",
    "SELECT o.report_id, o.account_ordinal, o.file_ordinal, o.kind, o.canonical, o.valid, o.port, "
    "o.observed_at, o.origin, o.verified, o.role FROM identifier_observations o "
    "WHERE o.is_current AND o.kind IN (" + ", ".join(f"'{name}'" for name in LINKING_KINDS) + ")",
    (
        ("report_id", "int64"),
        ("account_ordinal", "int32"),
        ("file_ordinal", "int32"),
        ("kind", "string"),
        ("canonical", "string"),
        ("valid", "bool"),
        ("port", "int32"),
        ("observed_at", "timestamp"),
        ("origin", "string"),
        ("verified", "bool"),
        ("role", "string"),
    ),
    partition_by="report_id",
)
BATCHED = Input(
    "batched",
    "SELECT report_id FROM current_report_versions WHERE batched_reason IS NOT NULL",
    (("report_id", "int64"),),
)
FILES = Input(
    "files",
    "SELECT report_id, ordinal, annotations, potential_meme FROM current_files",
    (("report_id", "int64"), ("ordinal", "int32"), ("annotations", "json"), ("potential_meme", "bool")),
)
LEADS = Input(
    "leads",
    "SELECT lead_ref, kind, canonical FROM lead_identifiers",
    (("lead_ref", "string"), ("kind", "string"), ("canonical", "string")),
)
ISP_ANSWERS = Input(
    "isp_answers",
    "SELECT report_id, phone, alternate_phone, email, id_document_type, id_document_number FROM isp_answers",
    (
        ("report_id", "int64"),
        ("phone", "string"),
        ("alternate_phone", "string"),
        ("email", "string"),
        ("id_document_type", "string"),
        ("id_document_number", "string"),
    ),
)

KNOWN_FILES = Input(  # files on the unit's known-content hash lists (the embedded engine: hashlists.known_content)
    "known_files",
    MATCHED_FILES_SQL,
    (
        ("report_id", "int64"),
        ("file_ordinal", "int32"),
        ("name", "string"),
        ("category", "string"),
        ("source", "string"),
        ("distance", "int32"),
        ("canonical", "string"),
    ),
)

INPUTS = (REPORTS, NAMES, NETWORK_TYPES, SIGHTINGS, BATCHED, FILES, LEADS, ISP_ANSWERS, KNOWN_FILES)


def snapshot_path(directory: Path, item: Input) -> Path:
    """Where a Parquet snapshot keeps one input (`tipfusion export observations --format parquet`)."""
    return directory / f"{item.name}.parquet"


def rows(conn: Connection, source: Input, batch: int = 50_000) -> Iterator[tuple[Any, ...]]:
    """`source`'s rows as plain tuples, straight from the driver (linking reads every current sighting: per-row
    overhead counts), fetched `batch` at a time."""
    return rows_of(conn, source.sql, batch)
