"""Uploading a batch from the browser: the same ingest and quarantine as `tipfusion ingest`, run as the principal.

An upload is a zip of a batch (what NCMEC or an ESP hands over). It is written to a private temporary folder under
its own (sanitised) file name — so the store records a name a person recognises — and ingested whole by
`IngestService`: every document kept with its SHA-256, a bad one quarantined with the file and element named, a
re-upload a no-op. The central unit ingests (analysts and admins); anyone else is refused as not found (audited).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import Engine

from tipfusion.accounts.policy import CENTRAL_WORKERS
from tipfusion.accounts.principal import CENTRAL_ROLES, Principal
from tipfusion.config import Settings
from tipfusion.ingest.quarantine import RetryResult, list_entries, retry
from tipfusion.ingest.service import IngestService, IngestSummary
from tipfusion.workplace.cases import FieldErrors
from tipfusion.workplace.scope import require_roles

INGESTING_ROLES = CENTRAL_WORKERS  # accounts.policy: the same roles as `tipfusion ingest`
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def upload_name(filename: str | None) -> str:
    """The upload's file name without any folder part or unusual character (`batch 7.zip` → `batch_7.zip`)."""
    base = Path((filename or "").replace("\\", "/")).name
    cleaned = _UNSAFE.sub("_", base).strip("._") or "upload"
    return cleaned[:120]


def ingest_upload(
    engine: Engine, settings: Settings, principal: Principal, filename: str | None, stream: BinaryIO, limit: int
) -> IngestSummary:
    """Ingest an uploaded zip; `limit` bounds its size in bytes (a bigger one is refused before anything lands).

    Refusals a person can act on are `FieldErrors` on `batch` (the form's file field).
    """
    with engine.connect() as conn:
        require_roles(conn, principal, INGESTING_ROLES, "ingest upload", action="ingest")
    name = upload_name(filename)
    if not name.lower().endswith(".zip"):
        raise FieldErrors({"batch": f"{name}: expected a .zip of the batch (XML reports, fileDetails, JSON, leads)"})
    folder = Path(tempfile.mkdtemp(prefix="tipfusion-upload-"))
    try:
        target = folder / name
        written = 0
        with target.open("wb") as out:
            while chunk := stream.read(1 << 20):
                written += len(chunk)
                if written > limit:
                    raise FieldErrors({"batch": f"{name}: larger than the {limit:,}-byte upload limit"})
                out.write(chunk)
        if written == 0:
            raise FieldErrors({"batch": f"{name}: the file is empty"})
        return IngestService(engine, settings, principal.username).ingest_paths([target])
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def quarantine(engine: Engine, principal: Principal, status: str | None = "open", limit: int = 200) -> list[Any]:
    """Quarantine entries (open ones by default): what did not land, why, naming the file and element."""
    with engine.connect() as conn:
        require_roles(conn, principal, CENTRAL_ROLES, "quarantine")
    return list_entries(engine, status or None, limit)


def retry_quarantined(
    engine: Engine, settings: Settings, principal: Principal, entry_ids: Iterable[int]
) -> list[RetryResult]:
    """Re-ingest quarantined documents from their stored bytes (after the cause was fixed), as the principal."""
    with engine.connect() as conn:
        require_roles(conn, principal, INGESTING_ROLES, "quarantine retry", action="retry")
    return retry(engine, settings, principal.username, list(entry_ids))
