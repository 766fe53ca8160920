"""Ingest from the browser: upload a batch zip (size-limited; the same ingest and quarantine as `tipfusion ingest`),
read its summary, and work the quarantine (what did not land, naming file and element; retry once fixed).

The ingest runs within the request: a batch the unit uploads by hand is small; a bulk load stays on the command line.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse

from tipfusion.accounts.policy import CENTRAL_WORKERS
from tipfusion.web.deps import CurrentPrincipal, Engine
from tipfusion.web.render import NavItem, audit_view, page
from tipfusion.workplace import FieldErrors
from tipfusion.workplace.intake import ingest_upload, quarantine, retry_quarantined

router = APIRouter(include_in_schema=False)
NAV = [NavItem("Ingest", "/ingest", CENTRAL_WORKERS, order=13)]


def _show(
    request: Request,
    principal: CurrentPrincipal,
    engine: Engine,
    status: int = 200,
    **context: object,
) -> HTMLResponse:
    entries = quarantine(engine, principal)
    audit_view(engine, principal, "list", "quarantine", {"open": len(entries)})
    values: dict[str, object] = {"summary": None, "errors": {}, "retried": None, "entries": entries}
    values.update(context)
    limit = int(getattr(request.app.state, "upload_limit", 0))
    return page(request, "analyst/ingest.html", principal, status_code=status, upload_limit=limit, **values)


@router.get("/ingest", response_class=HTMLResponse)
def ingest_page(request: Request, principal: CurrentPrincipal, engine: Engine) -> HTMLResponse:
    return _show(request, principal, engine)


@router.post("/ingest", response_class=HTMLResponse)
def upload(
    request: Request, principal: CurrentPrincipal, engine: Engine, batch: Annotated[UploadFile, File()]
) -> HTMLResponse:
    limit = int(getattr(request.app.state, "upload_limit", 0)) or 512 * 1024 * 1024
    try:
        summary = ingest_upload(engine, request.app.state.settings, principal, batch.filename, batch.file, limit)
    except FieldErrors as refused:
        return _show(request, principal, engine, status=422, errors=refused.errors)
    return _show(request, principal, engine, summary=summary, uploaded=batch.filename)


@router.post("/ingest/quarantine/retry", response_class=HTMLResponse)
def retry(
    request: Request,
    principal: CurrentPrincipal,
    engine: Engine,
    entry: Annotated[list[int], Form()],
) -> HTMLResponse:
    results = retry_quarantined(engine, request.app.state.settings, principal, entry)
    return _show(request, principal, engine, retried=results)
