"""Re-hash every stored source document: each is kept byte for byte under its own SHA-256, so its bytes must still
hash to that name. One ordered, streamed read of documents and their chunks: a chunk at a time in memory, never the
whole store. A document whose bytes were removed by retention (`tipfusion purge`, recorded in `source_purges`) is
counted as purged, not as altered: its hash and name are still held, and so is the record of who removed it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from sqlalchemy import Connection, select

from tipfusion.store.tables import source_blobs, source_documents, source_purges

ROWS_PER_FETCH = 16  # chunks are up to 8 MiB: at most this many are held at once


@dataclass(frozen=True)
class Difference:
    sha256: str  # what the document is stored as
    name: str
    found: str | None  # what its bytes hash to now; None when no bytes are stored
    reason: str


@dataclass
class EvidenceReport:
    documents: int = 0
    bytes: int = 0
    purged: int = 0  # documents whose bytes retention removed, on purpose and on record
    differ: list[Difference] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differ


def rehash_sources(conn: Connection) -> EvidenceReport:
    """Every stored document's bytes against its SHA-256 and its recorded size."""
    query = (
        select(
            source_documents.c.sha256,
            source_documents.c.name,
            source_documents.c.size,
            source_blobs.c.data,
            source_purges.c.purged_at,
        )
        .outerjoin(source_blobs, source_blobs.c.sha256 == source_documents.c.sha256)
        .outerjoin(source_purges, source_purges.c.sha256 == source_documents.c.sha256)
        .order_by(source_documents.c.sha256, source_blobs.c.chunk)
        .execution_options(yield_per=ROWS_PER_FETCH)
    )
    report = EvidenceReport()
    for sha256, rows in groupby(conn.execute(query), key=lambda row: row.sha256):
        _check(report, sha256, rows)
    return report


def _bytes(value: Any) -> bytes:
    """A chunk as stored; a chunk rewritten as text (SQLite lets a column change type) is hashed as its UTF-8."""
    return value.encode("utf-8", "surrogateescape") if isinstance(value, str) else bytes(value)


def _check(report: EvidenceReport, sha256: str, rows: Iterable[Any]) -> None:
    digest = hashlib.sha256()
    size = 0
    name, recorded, held, purged = "", 0, False, False
    for row in rows:
        name, recorded, purged = row.name, int(row.size), row.purged_at is not None
        if row.data is not None:
            held = True
            data = _bytes(row.data)
            digest.update(data)
            size += len(data)
    report.documents += 1
    report.bytes += size
    found = digest.hexdigest()
    if purged and not held:
        report.purged += 1
    elif not held:
        report.differ.append(Difference(sha256, name, None, "no bytes stored"))
    elif found != sha256:
        report.differ.append(Difference(sha256, name, found, "its bytes no longer match its SHA-256"))
    elif size != recorded:
        report.differ.append(Difference(sha256, name, found, f"recorded as {recorded:,} bytes, {size:,} stored"))
