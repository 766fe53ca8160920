"""The store as a whole, as the shells see it: opening it, its schema, what it holds, backup, restore, retention.

The command line and the web call this service, never `tipfusion.store` (tables, engines, the driver's errors): the
store's layout can change behind it, and the audit entry of each change is written here, in the change's own unit of
work, not by each shell.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from tipfusion.audit import AuditEvent, ChainReport, UnitOfWork
from tipfusion.errors import ConfigurationError
from tipfusion.store.db import (
    ensure_schema,
    head_revision,
    make_engine,
    parse_url,
    safe_url,
    sqlite_file,
    store_files,
    stored_revision,
    where,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from tipfusion.store.backup import BackupResult, RestoreResult, StoreCheck
    from tipfusion.store.retention import PurgeResult
    from tipfusion.store.status import StatusRows

__all__ = [
    "BackupResult",
    "Engine",
    "PurgeResult",
    "RestoreResult",
    "StatusRows",
    "StoreCheck",
    "backup",
    "ensure_schema",
    "fault_words",
    "head_revision",
    "headline_counts",
    "is_read_only_failure",
    "is_synthetic",
    "make_engine",
    "open_store",
    "parse_url",
    "purge",
    "record_restore",
    "restore",
    "safe_url",
    "sqlite_file",
    "stage_counts",
    "store_files",
    "stored_revision",
    "where",
]


def open_store(url: str, *, may_create: bool) -> Engine:
    """The store's engine, with one connection opened now: a store that cannot be reached is one line naming where,
    not a traceback from the first query. A SQLite path that holds no store is refused unless `may_create` (only
    the commands that fill a store start one), so a typo is named instead of answered from an empty store."""
    from sqlalchemy.exc import OperationalError

    engine = make_engine(url)
    path = sqlite_file(url)
    if path is not None and not path.exists() and not may_create:
        engine.dispose()  # a mistyped path must not leave an empty store behind
        raise ConfigurationError(
            f"no store at {path}; run `tipfusion ingest` first or check --database / TIPFUSION_DATABASE_URL"
        )
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        detail = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc).splitlines()[0]
        raise ConfigurationError(f"cannot open the store ({where(url)}): {detail}") from None
    return engine


def is_read_only_failure(exc: BaseException) -> bool:
    """The write failed because the store may only be read (an auditor's copy), not because of the write itself."""
    from sqlalchemy.exc import OperationalError

    return isinstance(exc, OperationalError) and "readonly" in str(exc.orig).lower().replace("-", "")


def fault_words(exc: BaseException) -> str | None:
    """The driver's own first line when `exc` is a fault of the store or its connection (a dropped connection, a
    full disk, a lock); None for anything else, a bug in a query included. Never the SQL, never the URL."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    if not isinstance(exc, DBAPIError):
        return None
    if not isinstance(exc, OperationalError) and not getattr(exc, "connection_invalidated", False):
        return None
    detail = str(exc.orig if exc.orig is not None else exc).strip().splitlines()
    return detail[0] if detail else type(exc).__name__


def is_synthetic(engine: Engine) -> bool:
    """The store says it holds generated test data (every output then says so too)."""
    from tipfusion.store import repository as repo

    with engine.connect() as conn:
        return repo.get_flag(conn, "synthetic") == "true"


def headline_counts(engine: Engine) -> tuple[dict[str, int], ChainReport]:
    """The store's headline numbers and its audit chain, read in one snapshot."""
    from tipfusion.audit import verify
    from tipfusion.store import repository as repo

    with engine.connect() as conn:
        return repo.counts(conn), verify(conn)


def stage_counts(engine: Engine) -> StatusRows:
    """What the store holds at every stage: reports to cases, routing by placement, ISP requests by state."""
    from tipfusion.store.status import stage_counts as counts

    with engine.connect() as conn:
        return counts(conn)


def backup(engine: Engine, actor: str, dest: Path, keys: Sequence[Ed25519PublicKey] = ()) -> BackupResult:
    """A checked backup of the whole store into `dest`, recorded in the store's audit log."""
    from tipfusion.store.backup import backup as run_backup

    result = run_backup(engine, dest, keys)
    details = {"folder": str(result.folder), "file": result.file.name, "sha256": result.sha256, "size": result.size}
    with UnitOfWork(engine, actor) as uow:
        uow.record("store.backed_up", "store", result.file.name, details)
    return result


def restore(url: str, source: Path, keys: Sequence[Ed25519PublicKey] = ()) -> RestoreResult:
    """Restore a backup into the (empty) store at `url`, checked against the backup's record; `record_restore`
    then writes the audit entry (once the acting account can be resolved: resolving reads the store, which has to
    stay empty until the restore is done)."""
    from tipfusion.store.backup import restore as run_restore

    return run_restore(url, source, keys)


def record_restore(url: str, actor: str, source: Path, result: RestoreResult) -> None:
    """The restored store's audit entry: what backup it came from and what the check found."""
    engine = make_engine(url)
    try:
        with UnitOfWork(engine, actor) as uow:
            uow.record(
                AuditEvent(
                    "store.restored",
                    "store",
                    str(result.manifest.get("file")),
                    {
                        "from": str(source),
                        "sha256": result.manifest.get("sha256"),
                        "backup_created_at": result.manifest.get("created_at"),
                        "problems": result.check.problems,
                    },
                )
            )
    finally:
        engine.dispose()


def purge(engine: Engine, actor: str, before: datetime, reason: str) -> PurgeResult:
    """Retention: remove the stored bytes of documents received before `before` (see `store.retention`)."""
    from tipfusion.store.retention import purge_sources

    return purge_sources(engine, actor, before, reason)
