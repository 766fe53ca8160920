"""The JSON API for case updates (`/api/cases`): a station's or district's own system records steps, corrections and
transfer requests with a bearer token, under the same scopes as the pages (a case outside them is a 404, audited).

A refused step answers 422 with `{"errors": {field: message}}`, the same messages the forms show beside their
fields (`case` for the case as a whole).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from tipfusion.track.lifecycle import STATES
from tipfusion.web.deps import CurrentPrincipal, Engine
from tipfusion.web.render import audit_view
from tipfusion.workplace import FieldErrors, case_page, correct_case, inbox, record_step, request_transfer

router = APIRouter(prefix="/api/cases", tags=["cases"])


class Step(BaseModel):
    """One step of the case's life: `step` is the state it leads to; `fields` as the forms name them (`on` is the
    step's date, YYYY-MM-DD in the unit's zone)."""

    step: str = Field(examples=["fir_registered"], description=f"one of {', '.join(STATES[1:])}")
    fields: dict[str, Any] = Field(
        default_factory=dict,
        examples=[{"fir_number": "0123/2026", "fir_date": "2026-12-02", "sections": ["IT Act 67B", "POCSO 15"]}],
    )


class Correction(BaseModel):
    field_name: str = Field(examples=["fir_number"])
    value: str
    reason: str


class TransferRequest(BaseModel):
    to_station: str
    reason: str


def _refused(error: FieldErrors) -> JSONResponse:
    return JSONResponse({"errors": error.errors}, status_code=422)


@router.get("")
def list_cases(
    request: Request,
    principal: CurrentPrincipal,
    engine: Engine,
    state: Annotated[str | None, Query(max_length=30)] = None,
    overdue: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Any:
    """The referrals and their cases in the caller's scope, with due dates (the inbox)."""
    if state is not None and state not in STATES:
        return JSONResponse({"errors": {"state": f"expected one of {', '.join(STATES)}"}}, status_code=422)
    found = inbox(
        engine, request.app.state.settings, principal, state=state, overdue_only=overdue, limit=limit, offset=offset
    )
    audit_view(engine, principal, "list", "inbox", {"channel": "api", "state": state, "offset": offset})
    rows = [asdict(row) | {"overdue": row.overdue} for row in found.rows]
    return jsonable_encoder({"total": found.total, "limit": limit, "offset": offset, "cases": rows})


@router.get("/{case_id}")
def get_case(case_id: int, principal: CurrentPrincipal, engine: Engine) -> Any:
    """A case with its history."""
    shown = case_page(engine, principal, case_id)
    audit_view(engine, principal, "case", case_id, {"channel": "api"})
    return jsonable_encoder(asdict(shown))


@router.post("/{case_id}/steps")
def add_step(request: Request, case_id: int, step: Step, principal: CurrentPrincipal, engine: Engine) -> Any:
    """Record a step (acknowledged, fir_registered, arrested, devices_seized, chargesheet_filed, closed)."""
    try:
        done = record_step(engine, request.app.state.settings, principal, case_id, step.step, step.fields)
    except FieldErrors as error:
        return _refused(error)
    return jsonable_encoder(asdict(done))


@router.post("/{case_id}/corrections")
def add_correction(
    request: Request, case_id: int, correction: Correction, principal: CurrentPrincipal, engine: Engine
) -> Any:
    """Correct one recorded fact with a reason (the old value stays in the history)."""
    try:
        done = correct_case(
            engine,
            request.app.state.settings,
            principal,
            case_id,
            field_name=correction.field_name,
            value=correction.value,
            reason=correction.reason,
        )
    except FieldErrors as error:
        return _refused(error)
    return jsonable_encoder(asdict(done))


@router.post("/{case_id}/transfer-requests")
def add_transfer_request(case_id: int, wanted: TransferRequest, principal: CurrentPrincipal, engine: Engine) -> Any:
    """Ask the central unit to move the case to another station (the case stays until it does)."""
    try:
        event = request_transfer(engine, principal, case_id, to_station=wanted.to_station, reason=wanted.reason)
    except FieldErrors as error:
        return _refused(error)
    return {"case_id": case_id, "event": event, "to_station": wanted.to_station}
