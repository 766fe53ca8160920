"""The JSON API for integration (`/api/…`, schema at /api/openapi.json).

Authentication is a bearer token (`tipfusion users token USERNAME`) acting as its account — the same role and
jurisdiction, enforced by the same services as the pages. Page areas add their own `/api/` routes in their modules;
this one holds who-am-I and the batch upload.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Request, UploadFile
from pydantic import BaseModel

from tipfusion.accounts.policy import CENTRAL_WORKERS
from tipfusion.accounts.principal import Principal
from tipfusion.web.deps import CurrentPrincipal, RequireRole
from tipfusion.web.security import save_upload

router = APIRouter(prefix="/api", tags=["api"])

Ingester = Annotated[Principal, Depends(RequireRole(*CENTRAL_WORKERS))]  # as `tipfusion ingest`


class Me(BaseModel):
    username: str
    role: str
    district: str | None
    station: str | None


class BatchSummary(BaseModel):
    """What an upload did: the same figures as `tipfusion ingest` (quarantined documents keep their reason)."""

    file: str
    documents: int
    accepted: int
    updated: int
    duplicates: int
    quarantined: int
    rejected: list[str]
    run_id: int | None


@router.get("/me")
def me(principal: CurrentPrincipal) -> Me:
    """The account this token or session acts as, and its scope."""
    return Me(
        username=principal.username, role=principal.role.value, district=principal.district, station=principal.station
    )


@router.post("/batches", status_code=201)
async def upload_batch(
    request: Request, principal: Ingester, file: Annotated[UploadFile, File(description="A zip of a batch")]
) -> BatchSummary:
    """Ingest an uploaded batch (a zip, or one report file) through the same ingest and quarantine as the command
    line: a bad document is quarantined with its reason and the rest lands. Size-limited."""
    from starlette.concurrency import run_in_threadpool

    from tipfusion.ingest import IngestService

    engine = request.app.state.engine
    settings = request.app.state.settings
    with tempfile.TemporaryDirectory(prefix="tipfusion-upload-") as folder:
        path = await save_upload(file, Path(folder), limit=request.app.state.upload_limit)
        service = IngestService(engine, settings, principal.username)
        summary: Any = await run_in_threadpool(service.ingest_paths, [path])
    return BatchSummary(
        file=path.name,
        documents=summary.documents,
        accepted=summary.accepted,
        updated=summary.updated,
        duplicates=summary.duplicates,
        quarantined=summary.quarantined,
        rejected=list(summary.rejected),
        run_id=summary.run_id,
    )
