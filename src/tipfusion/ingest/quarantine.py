"""Quarantine: what could not land, why, and a way to try again once the cause is fixed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select, update

from tipfusion.audit import UnitOfWork
from tipfusion.config import Settings
from tipfusion.errors import NotFound
from tipfusion.ingest import registry
from tipfusion.ingest.service import IngestService, IngestSummary
from tipfusion.ingest.sources import Item, LoadedDocument, iter_zip
from tipfusion.store import repository as repo
from tipfusion.store.db import ensure_schema
from tipfusion.store.tables import quarantine_entries, source_documents


@dataclass(frozen=True, slots=True)
class RetryResult:
    entry_id: int
    outcome: str  # resolved | still_rejected | skipped
    detail: str
    summary: IngestSummary | None = None


# An entry is "retrying" while a retry runs; a retry that was killed leaves it so. Such an entry is still open:
# listed with the open ones, and retried again (a retry re-ingests stored bytes, so running one twice is harmless).
OPEN = ("open", "retrying")


def list_entries(engine: Engine, status: str | None = "open", limit: int = 200) -> list[Any]:
    """Entries in `status` ("open" takes in those an interrupted retry left "retrying"); None for all."""
    ensure_schema(engine)
    with engine.connect() as conn:
        return repo.list_quarantine(conn, OPEN if status == "open" else status, limit)


def show_entry(engine: Engine, entry_id: int) -> tuple[Any, Any]:
    """The entry and its source document's row (the bytes stay in the store)."""
    ensure_schema(engine)
    with engine.connect() as conn:
        entry = repo.get_quarantine(conn, entry_id)
        if entry is None:
            raise NotFound(f"no quarantine entry {entry_id}")
        return entry, repo.source_row(conn, entry.source_sha256)


def retry(engine: Engine, settings: Settings, actor: str, entry_ids: list[int]) -> list[RetryResult]:
    """Re-ingest each entry's document from its stored bytes.

    The entry is resolved when the document now lands (or is already held); if it is rejected again the
    new entry carries the reason and the old one is marked superseded, so history is kept.
    """
    ensure_schema(engine)
    results = []
    service = IngestService(engine, settings, actor)
    for entry_id in entry_ids:
        with UnitOfWork(engine, actor) as uow:  # marked "retrying"; the retry's entry is written with its outcome
            conn = uow.conn
            entry = repo.get_quarantine(conn, entry_id)
            if entry is None:
                raise NotFound(f"no quarantine entry {entry_id}")
            if entry.status not in OPEN:
                results.append(RetryResult(entry_id, "skipped", f"entry is {entry.status}"))
                continue
            kind = conn.execute(
                select(source_documents.c.format).where(source_documents.c.sha256 == entry.source_sha256)
            ).scalar()
            if kind == "isp_answer":  # not a report: the ISP's corrected file is imported again instead
                detail = "an ISP answer: import the corrected file (ISP requests page, tipfusion requests answer)"
                results.append(RetryResult(entry_id, "skipped", detail))
                continue
            data = repo.load_blob(conn, entry.source_sha256)
            conn.execute(
                update(quarantine_entries).where(quarantine_entries.c.id == entry_id).values(status="retrying")
            )
        documents: list[Item]
        kept_as = registry.classify(entry.source_name, data)
        if kept_as is not None and kept_as.role == "container":  # a zip kept whole: its members are read again
            documents = list(iter_zip(entry.source_name, data, settings.xml_limits))
        else:
            documents = [LoadedDocument(entry.source_name, data, entry.source_sha256)]
        summary = service.run([f"retry of quarantine entry {entry_id}"], documents, None)
        with UnitOfWork(engine, actor) as uow:
            conn = uow.conn
            newer = (
                conn.execute(
                    select(quarantine_entries.c.id).where(
                        quarantine_entries.c.source_sha256 == entry.source_sha256,
                        quarantine_entries.c.status == "open",
                        quarantine_entries.c.id > entry_id,
                    )
                )
                .scalars()
                .all()
            )
            if newer:
                status, outcome = "superseded", "still_rejected"
                detail = f"retried: still not landed, see entr{'y' if len(newer) == 1 else 'ies'} " + ", ".join(
                    map(str, newer)
                )
            else:
                status, outcome, detail = "resolved", "resolved", "retried: landed or already held"
            conn.execute(
                update(quarantine_entries)
                .where(quarantine_entries.c.id == entry_id)
                .values(status=status, resolved_at=repo.now(), resolution=detail)
            )
            uow.record("quarantine.retried", "quarantine_entry", str(entry_id), {"outcome": outcome, "detail": detail})
        results.append(RetryResult(entry_id, outcome, detail, summary))
    return results
