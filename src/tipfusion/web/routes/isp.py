"""Requests to ISPs and platforms, for the central unit: what is still to be asked per ISP, build a notice for the
sightings ticked, download its parts, mark it sent (with the reference it went under), and upload the ISP's answer
(CSV or XLSX); notices to platforms (ESPs) built per platform, then downloaded and marked sent on the same request
page — the same services as `tipfusion requests …` (`workplace.isp_requests`, `workplace.platform_notices`), which
check the role and audit every view and download.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from tipfusion.accounts.principal import Principal, Role
from tipfusion.errors import IntegrityFailure
from tipfusion.requests.service import REQUEST_STATES
from tipfusion.web.deps import CurrentPrincipal, Engine
from tipfusion.web.downloads import folder_zip
from tipfusion.web.render import NavItem, form_page, page
from tipfusion.workplace import FieldErrors
from tipfusion.workplace.isp_requests import (
    AnswerOutcome,
    build_for,
    import_answer,
    pending_for,
    record_sent,
    request_folder,
    request_page,
    request_part,
    requests_overview,
)
from tipfusion.workplace.platform_notices import build_platform_notice, platform_overview

router = APIRouter(include_in_schema=False)
NAV = [NavItem("ISP requests", "/requests", frozenset({Role.ADMIN, Role.ANALYST}), order=14)]
ANSWER_LIMIT = 64 * 1024 * 1024  # an answer is a table of a few thousand rows; the app's body limit still applies

Short = Annotated[str, Form(max_length=200)]


def _overview(
    request: Request,
    principal: Principal,
    engine: Any,
    *,
    state: str = "",
    page_number: int = 1,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    outcome: AnswerOutcome | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    overview = requests_overview(engine, principal, state, page_number)
    return page(
        request,
        "analyst/requests.html",
        principal,
        status_code=status_code,
        overview=overview,
        shown=overview.requests,
        state=overview.state,
        states=REQUEST_STATES,
        isps=overview.isps,
        errors=errors or {},
        outcome=outcome,
        values=values or {},
    )


@router.get("/requests", response_class=HTMLResponse)
def requests_list(
    request: Request,
    principal: CurrentPrincipal,
    engine: Engine,
    state: Annotated[str, Query(max_length=20)] = "",
    page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    return _overview(request, principal, engine, state=state, page_number=page_number)


def _platforms(
    request: Request,
    principal: Principal,
    engine: Any,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    lines = platform_overview(engine, principal)
    return form_page(request, "analyst/platforms.html", principal, "p", errors=errors, values=values, lines=lines)


@router.get("/requests/platforms", response_class=HTMLResponse)
def platforms(request: Request, principal: CurrentPrincipal, engine: Engine) -> HTMLResponse:
    """Platforms with reported accounts to ask about, the latest notice to each, a build button per platform."""
    return _platforms(request, principal, engine)


@router.post("/requests/platforms/build")
def build_platform(request: Request, principal: CurrentPrincipal, engine: Engine, platform: Short = "") -> Response:
    """Build the notice to one platform; its page (download, mark sent) is the request's own."""
    state = request.app.state
    try:
        built = build_platform_notice(engine, state.settings, principal, state.requests_dir, platform)
    except FieldErrors as refused:
        return _platforms(request, principal, engine, errors=refused.errors, values={"platform": platform})
    return RedirectResponse(f"/requests/{built.request_id}", status_code=303)


@router.get("/requests/build", response_class=HTMLResponse)
def build_form(request: Request, principal: CurrentPrincipal, engine: Engine, isp: str) -> HTMLResponse:
    pending = pending_for(engine, principal, isp)
    return page(request, "analyst/request_build.html", principal, pending=pending, errors={})


@router.post("/requests/build")
def build(
    request: Request,
    principal: CurrentPrincipal,
    engine: Engine,
    isp: Short,
    item: Annotated[list[str] | None, Form(max_length=200)] = None,
) -> Response:
    try:
        built = build_for(
            engine, request.app.state.settings, principal, request.app.state.requests_dir, isp, item or []
        )
    except FieldErrors as refused:
        pending = pending_for(engine, principal, isp)
        return page(
            request, "analyst/request_build.html", principal, status_code=422, pending=pending, errors=refused.errors
        )
    return RedirectResponse(f"/requests/{built.request_id}", status_code=303)


@router.post("/requests/answers", response_class=HTMLResponse)
def answer(
    request: Request,
    principal: CurrentPrincipal,
    engine: Engine,
    isp: Short,
    answer: Annotated[UploadFile, File()],
    mapping: Annotated[str, Form(max_length=4000)] = "",
) -> HTMLResponse:
    limit = min(int(request.app.state.upload_limit), ANSWER_LIMIT)
    values = {"isp": isp, "mapping": mapping}
    try:
        outcome = import_answer(
            engine, request.app.state.settings, principal, isp, answer.filename, answer.file, limit, mapping
        )
    except FieldErrors as refused:
        return _overview(request, principal, engine, status_code=422, errors=refused.errors, values=values)
    status = 422 if outcome.quarantined is not None else 200
    return _overview(request, principal, engine, status_code=status, outcome=outcome, values=values)


def _detail(
    request: Request,
    principal: Principal,
    engine: Any,
    request_id: int,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    due: datetime | None = None,
) -> HTMLResponse:
    shown = request_page(engine, principal, request_id)
    # the form shows the reference recorded (marking sent again keeps it unless another is given)
    filled = values if values is not None else {"reference": shown.line.sent_reference or ""}
    return form_page(
        request, "analyst/request.html", principal, "s", errors=errors, values=filled, shown=shown, due=due
    )


@router.get("/requests/{request_id}", response_class=HTMLResponse)
def detail(request: Request, principal: CurrentPrincipal, engine: Engine, request_id: int) -> HTMLResponse:
    return _detail(request, principal, engine, request_id)


@router.post("/requests/{request_id}/sent", response_class=HTMLResponse)
def sent(
    request: Request,
    principal: CurrentPrincipal,
    engine: Engine,
    request_id: int,
    sent_at: Short = "",
    reference: Annotated[str, Form(max_length=1000)] = "",
) -> HTMLResponse:
    """Mark sent, with when and the reference it went under (the recipient's number or the unit's dispatch or
    letter number); a refused field is shown beside it with what was typed."""
    try:
        due = record_sent(engine, request.app.state.settings, principal, request_id, sent_at, reference)
    except FieldErrors as refused:
        values = {"sent_at": sent_at, "reference": reference}
        return _detail(request, principal, engine, request_id, errors=refused.errors, values=values)
    return _detail(request, principal, engine, request_id, due=due)


@router.get("/requests/{request_id}/folder.zip")
def download_folder(principal: CurrentPrincipal, engine: Engine, request_id: int) -> Response:
    reference, folder = request_folder(engine, principal, request_id)
    return folder_zip(folder, reference)


@router.get("/requests/{request_id}/parts/{name}")
def download_part(
    request: Request, principal: CurrentPrincipal, engine: Engine, request_id: int, name: str
) -> Response:
    """One part as written (PDF, DOCX, annex CSV/XLSX), checked against its SHA-256 first; audited."""
    try:
        part = request_part(engine, principal, request_id, name)
    except IntegrityFailure as error:
        return page(request, "error.html", principal, status_code=409, title="Notice altered", message=str(error))
    return FileResponse(
        part.path,
        media_type=part.media_type,
        filename=part.name,
        content_disposition_type="attachment",
        headers={"X-Content-SHA256": part.sha256},
    )
