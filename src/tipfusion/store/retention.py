"""Retention: remove the bytes of source documents received before a date, keep everything that says they existed.

A unit may keep source material only so long. Purging removes a document's bytes (`source_blobs`) and nothing else:
its SHA-256, name, size and the time it was received stay in `source_documents`, every report still points at it,
and `source_purges` records who removed it, when, under which cut-off and why — so `verify --evidence` reports the
document as purged, not as altered. A document that waits in quarantine keeps its bytes until it is decided
(`quarantine retry` re-reads them). Freed space is overwritten (SQLite `secure_delete`, then a WAL checkpoint) or
vacuumed (PostgreSQL), so the bytes do not linger in the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, and_, delete, exists, func, select, text

from tipfusion import clock
from tipfusion.audit import UnitOfWork
from tipfusion.errors import InputRefused
from tipfusion.store.bulk import insert_rows
from tipfusion.store.db import ensure_schema
from tipfusion.store.tables import quarantine_entries, source_blobs, source_documents, source_purges

BATCH = 500  # documents per DELETE: a long retention run never holds one giant statement


@dataclass
class PurgeResult:
    documents: int
    bytes: int
    kept_in_quarantine: int


def purge_sources(engine: Engine, actor: str, before: datetime, reason: str) -> PurgeResult:
    """Remove the stored bytes of every document received before `before`, in one audited transaction."""
    if not reason.strip():
        raise InputRefused(
            "a purge needs a reason (--reason): it is kept with the record of what was removed", "--reason"
        )
    ensure_schema(engine)
    held = exists().where(source_blobs.c.sha256 == source_documents.c.sha256)
    waiting = exists().where(
        and_(quarantine_entries.c.source_sha256 == source_documents.c.sha256, quarantine_entries.c.status == "open")
    )
    old = source_documents.c.received_at < before
    at = clock.now()
    with UnitOfWork(engine, actor, at) as uow:
        conn = uow.conn
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA secure_delete=ON")  # freed pages are zeroed, not left readable
        rows = conn.execute(
            select(source_documents.c.sha256, source_documents.c.size)
            .where(old, held, ~waiting)
            .order_by(source_documents.c.sha256)
        ).all()
        kept = int(
            conn.execute(select(func.count()).select_from(source_documents).where(old, held, waiting)).scalar_one()
        )
        for start in range(0, len(rows), BATCH):
            chunk = rows[start : start + BATCH]
            conn.execute(delete(source_blobs).where(source_blobs.c.sha256.in_([r.sha256 for r in chunk])))
        insert_rows(
            conn,
            source_purges,
            ("sha256", "purged_at", "actor", "received_before", "reason", "size"),
            [(r.sha256, at, actor, before, reason, int(r.size)) for r in rows],
        )
        result = PurgeResult(len(rows), sum(int(r.size) for r in rows), kept)
        uow.record(
            "sources.purged",
            "store",
            "source_documents",
            {
                "received_before": before.isoformat(),
                "reason": reason,
                "documents": result.documents,
                "bytes": result.bytes,
                "kept_in_quarantine": kept,
            },
        )
    if rows:
        _reclaim(engine)
    return result


def _reclaim(engine: Engine) -> None:
    """Make the removed bytes unreadable in the files, not only in the tables."""
    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()  # outside any transaction: a checkpoint cannot run inside one
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"VACUUM {source_blobs.name}"))
