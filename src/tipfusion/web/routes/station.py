"""The station and district officer's pages: the inbox of referrals with their due dates, a referral with its package
parts (opened in the browser, each opening audited), the case with a form for each step, corrections and transfer
requests, and the overdue list.

Scope is the services' (`tipfusion.workplace`): a referral or case outside it is a 404, audited as `access.denied`
by the service. Central roles may open these pages too (the services let them see everything).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from tipfusion.accounts.principal import Principal, Role
from tipfusion.errors import IntegrityFailure
from tipfusion.track.lifecycle import ALLOWED, CLOSE_REASONS, CORRECTABLE, STATES
from tipfusion.web.deps import CurrentPrincipal, Engine
from tipfusion.web.render import NavItem, audit_view, form_page, page
from tipfusion.workplace import (
    FieldErrors,
    acknowledge,
    case_page,
    close_case,
    correct_case,
    file_chargesheet,
    inbox,
    record_arrests,
    record_devices_seized,
    referral_page,
    register_fir,
    request_transfer,
)
from tipfusion.workplace.inbox import InboxSort
from tipfusion.workplace.packages import package_part
from tipfusion.workplace.supervision import all_stations, overdue_list

router = APIRouter(include_in_schema=False)
OFFICERS = frozenset({Role.STATION, Role.DISTRICT})
NAV = [
    NavItem("Inbox", "/inbox", OFFICERS, order=10),
    NavItem("Overdue", "/overdue", OFFICERS | {Role.SUPERVISOR}, order=40),
]
PAGE_SIZE = 50
SORTS = ("newest", "oldest", "reference", "state", "station")

STEP_FORMS: dict[str, tuple[str, str]] = {
    # form (the URL's word) → (the lifecycle state it leads to, the button's words)
    "acknowledge": ("acknowledged", "Acknowledge receipt"),
    "fir": ("fir_registered", "Record the FIR"),
    "arrests": ("arrested", "Record arrests"),
    "devices": ("devices_seized", "Record devices seized"),
    "chargesheet": ("chargesheet_filed", "Record the chargesheet"),
    "close": ("closed", "Close the case"),
}


def _settings(request: Request) -> Any:
    return request.app.state.settings


def _today(request: Request) -> date:
    from tipfusion.clock import now

    zone = _settings(request).profile.zone
    return now().astimezone(zone).date()


@router.get("/inbox")
def inbox_page(
    request: Request,
    principal: CurrentPrincipal,
    engine: Engine,
    state: Annotated[str, Query(max_length=30)] = "",
    overdue: Annotated[bool, Query()] = False,
    sort: Annotated[str, Query(max_length=20)] = "newest",
    page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> Response:
    """Referrals to the principal's station (or every station of the district) with due dates and what is late."""
    chosen_state = state if state in STATES else None
    chosen_sort: InboxSort = sort if sort in SORTS else "newest"  # type: ignore[assignment]
    found = inbox(
        engine,
        _settings(request),
        principal,
        state=chosen_state,
        overdue_only=overdue,
        sort=chosen_sort,
        limit=PAGE_SIZE,
        offset=(page_number - 1) * PAGE_SIZE,
    )
    audit_view(engine, principal, "list", "inbox", {"state": chosen_state, "overdue": overdue, "page": page_number})
    pages = max(1, -(-found.total // PAGE_SIZE))
    return page(
        request,
        "station/inbox.html",
        principal,
        found=found,
        states=STATES,
        sorts=SORTS,
        state=chosen_state or "",
        overdue=overdue,
        sort=chosen_sort,
        page_number=page_number,
        pages=pages,
    )


@router.get("/inbox/referrals/{referral_id}")
def referral(request: Request, referral_id: int, principal: CurrentPrincipal, engine: Engine) -> Response:
    """One referral: what the package holds, its parts to open, where its case is now."""
    shown = referral_page(engine, principal, str(referral_id))
    audit_view(engine, principal, "referral", shown.reference)
    return page(request, "station/referral.html", principal, referral=shown)


@router.get("/inbox/referrals/{referral_id}/parts/{name}")
def referral_part(
    request: Request, referral_id: int, name: str, principal: CurrentPrincipal, engine: Engine
) -> Response:
    """A package part: PDFs open in the browser, the rest download; checked against its SHA-256, audited."""
    try:
        part = package_part(engine, principal, str(referral_id), name)
    except IntegrityFailure as error:
        return page(request, "error.html", principal, status_code=409, title="Package altered", message=str(error))
    return FileResponse(
        part.path,
        media_type=part.media_type,
        filename=part.name,
        content_disposition_type="inline" if part.inline else "attachment",
        headers={"X-Content-SHA256": part.sha256},
    )


def _case_page(
    request: Request,
    principal: Principal,
    engine: Any,
    case_id: int,
    *,
    form: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    shown = case_page(engine, principal, case_id)
    audit_view(engine, principal, "case", shown.case["id"])
    state = str(shown.case["state"])
    next_forms = [name for name, (to, _) in STEP_FORMS.items() if to in ALLOWED.get(state, frozenset())]
    return form_page(
        request,
        "station/case.html",
        principal,
        form,
        errors=errors,
        values=values,
        status_code=status_code,
        shown=shown,
        case=shown.case,
        next_forms=next_forms,
        step_forms=STEP_FORMS,
        close_reasons=tuple(CLOSE_REASONS),
        correctable=sorted(CORRECTABLE),
        stations=all_stations(engine) if shown.may_act else (),
        today=_today(request).isoformat(),
        done=request.query_params.get("done", ""),
    )


@router.get("/cases/{case_id}")
def case(request: Request, case_id: int, principal: CurrentPrincipal, engine: Engine) -> Response:
    """A case: its facts, its history (every step, correction, transfer and flag) and the forms for its next steps."""
    return _case_page(request, principal, engine, case_id)


def _done(case_id: int, what: str) -> Response:
    return RedirectResponse(f"/cases/{case_id}?done={what}#history", status_code=303)


def _refused(
    request: Request, principal: Principal, engine: Any, case_id: int, form: str, error: FieldErrors, values: Any
) -> Response:
    return _case_page(
        request,
        principal,
        engine,
        case_id,
        form=form,
        errors=error.errors,
        values=dict(values),
        status_code=422,
    )


Text = Annotated[str, Form(max_length=2000)]


@router.post("/cases/{case_id}/acknowledge")
def acknowledge_step(
    request: Request, case_id: int, principal: CurrentPrincipal, engine: Engine, on: Text = ""
) -> Response:
    try:
        acknowledge(engine, _settings(request), principal, case_id, on=on or None)
    except FieldErrors as error:
        return _refused(request, principal, engine, case_id, "acknowledge", error, {"on": on})
    return _done(case_id, "acknowledge")


@router.post("/cases/{case_id}/fir")
def fir_step(
    request: Request,
    case_id: int,
    principal: CurrentPrincipal,
    engine: Engine,
    fir_number: Text = "",
    fir_date: Text = "",
    sections: Text = "",
    fir_station: Text = "",
) -> Response:
    values = {"fir_number": fir_number, "fir_date": fir_date, "sections": sections, "fir_station": fir_station}
    try:
        register_fir(
            engine,
            _settings(request),
            principal,
            case_id,
            fir_number=fir_number,
            fir_date=fir_date,
            sections=sections,
            fir_station=fir_station or None,
        )
    except FieldErrors as error:
        return _refused(request, principal, engine, case_id, "fir", error, values)
    return _done(case_id, "fir")


@router.post("/cases/{case_id}/arrests")
def arrests_step(
    request: Request,
    case_id: int,
    principal: CurrentPrincipal,
    engine: Engine,
    count: Text = "",
    on: Text = "",
    names: Annotated[str, Form(max_length=20_000)] = "",
    explanation: Text = "",
) -> Response:
    values = {"count": count, "on": on, "names": names, "explanation": explanation}
    listed = [line.strip() for line in names.replace(";", "\n").splitlines() if line.strip()]
    try:
        record_arrests(
            engine,
            _settings(request),
            principal,
            case_id,
            count=count,
            on=on,
            names=listed,
            explanation=explanation or None,
        )
    except FieldErrors as error:
        return _refused(request, principal, engine, case_id, "arrests", error, values)
    return _done(case_id, "arrests")


@router.post("/cases/{case_id}/devices")
def devices_step(
    request: Request, case_id: int, principal: CurrentPrincipal, engine: Engine, count: Text = "", on: Text = ""
) -> Response:
    try:
        record_devices_seized(engine, _settings(request), principal, case_id, count=count, on=on)
    except FieldErrors as error:
        return _refused(request, principal, engine, case_id, "devices", error, {"count": count, "on": on})
    return _done(case_id, "devices")


@router.post("/cases/{case_id}/chargesheet")
def chargesheet_step(
    request: Request, case_id: int, principal: CurrentPrincipal, engine: Engine, on: Text = ""
) -> Response:
    try:
        file_chargesheet(engine, _settings(request), principal, case_id, on=on)
    except FieldErrors as error:
        return _refused(request, principal, engine, case_id, "chargesheet", error, {"on": on})
    return _done(case_id, "chargesheet")


@router.post("/cases/{case_id}/close")
def close_step(
    request: Request,
    case_id: int,
    principal: CurrentPrincipal,
    engine: Engine,
    closed_reason: Text = "",
    on: Text = "",
) -> Response:
    values = {"closed_reason": closed_reason, "on": on}
    try:
        close_case(engine, _settings(request), principal, case_id, closed_reason=closed_reason, on=on or None)
    except FieldErrors as error:
        return _refused(request, principal, engine, case_id, "close", error, values)
    return _done(case_id, "close")


@router.post("/cases/{case_id}/correct")
def correct(
    request: Request,
    case_id: int,
    principal: CurrentPrincipal,
    engine: Engine,
    field_name: Text = "",
    value: Text = "",
    reason: Text = "",
) -> Response:
    values = {"field_name": field_name, "value": value, "reason": reason}
    try:
        correct_case(engine, _settings(request), principal, case_id, field_name=field_name, value=value, reason=reason)
    except FieldErrors as error:
        return _refused(request, principal, engine, case_id, "correct", error, values)
    return _done(case_id, "correct")


@router.post("/cases/{case_id}/transfer-request")
def transfer_request(
    request: Request,
    case_id: int,
    principal: CurrentPrincipal,
    engine: Engine,
    to_station: Text = "",
    reason: Text = "",
) -> Response:
    values = {"to_station": to_station, "reason": reason}
    try:
        request_transfer(engine, principal, case_id, to_station=to_station, reason=reason)
    except FieldErrors as error:
        return _refused(request, principal, engine, case_id, "transfer", error, values)
    return _done(case_id, "transfer")


@router.get("/overdue")
def overdue(request: Request, principal: CurrentPrincipal, engine: Engine) -> Response:
    """Acknowledgements, FIRs and ISP answers past due, in the principal's scope."""
    items = overdue_list(engine, _settings(request), principal)
    audit_view(engine, principal, "list", "overdue", {"items": len(items)})
    return page(request, "station/overdue.html", principal, items=items)
