"""The steps a station records on a case, for a principal: checked for scope and role here, validated and written by
`track.service` (the same rules and messages as `tipfusion cases …`), its refusals turned into field-level errors.

Station and district officers act on the cases now placed with them, analysts and admins on any; supervisors and
auditors change nothing (refused as not found, audited). The audit actor is the principal's username.

A transfer is a *request* from the field (recorded in the case's history, the case stays put) which the central unit
carries out with `transfer_case`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import Engine

from tipfusion.accounts.policy import CENTRAL_WORKERS
from tipfusion.accounts.principal import Principal
from tipfusion.config import Settings
from tipfusion.errors import InputRefused, TipfusionError
from tipfusion.track import service as track
from tipfusion.track.lifecycle import FIELDS
from tipfusion.workplace.scope import deny, ensure_may_act

NON_FIELD = "case"
"""The FieldErrors key of a refusal that is about the case as a whole (a step its state does not allow)."""

T = TypeVar("T")


class FieldErrors(TipfusionError):
    """A step the rules refused, by field: form input name → what is expected (`NON_FIELD` for the case itself)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = dict(errors)

    def __str__(self) -> str:
        return "; ".join(f"{name}: {message}" for name, message in self.errors.items())


@dataclass(frozen=True, slots=True)
class StepDone:
    """What a recorded step changed: the case, its state after the step, and the values written."""

    case_id: int
    state: str
    changes: dict[str, Any]


def _field_errors(error: TipfusionError, renamed: dict[str, str], other: str = NON_FIELD) -> FieldErrors:
    """Place a refusal beside the form fields it names (`InputRefused.fields`), under the form's own names
    (`renamed`: the service's name → the form's); a field the form does not have goes to `other`."""
    message = str(error).replace(" (--reason)", "")
    names = error.fields if isinstance(error, InputRefused) else ()
    if not names:
        return FieldErrors({NON_FIELD: message})
    shown = error.each if isinstance(error, InputRefused) and error.each else message
    return FieldErrors({renamed.get(name, other): shown for name in names})


def _guarded(call: Callable[[], T], renamed: dict[str, str], other: str = NON_FIELD) -> T:
    try:
        return call()
    except TipfusionError as error:
        raise _field_errors(error, renamed, other) from error


# A step's fields as `track.lifecycle` names them, under the form's names (the step's `date` is the form's `on`).
_STEP_FIELDS = {name: name for accepted, _ in FIELDS.values() for name in accepted} | {"date": "on"}
_CORRECTION_FIELDS = {"field": "field_name", "reason": "reason", "value": "value"}
_TRANSFER_FIELDS = {"station": "to_station", "reason": "reason"}


def _step(
    engine: Engine,
    settings: Settings,
    principal: Principal,
    case_ref: str | int,
    to: str,
    given: dict[str, Any],
    today: date | None,
) -> StepDone:
    with engine.connect() as conn:
        row = ensure_may_act(conn, principal, str(case_ref), f"case.{to}")
    fields = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in given.items() if v not in (None, "", [], ())}
    changes = _guarded(
        lambda: track.advance(engine, settings, principal.username, str(row.id), to, fields, today), _STEP_FIELDS
    )
    return StepDone(int(row.id), str(changes["state"]), changes)


def acknowledge(
    engine: Engine,
    settings: Settings,
    principal: Principal,
    case_ref: str | int,
    *,
    on: date | str | None = None,
    today: date | None = None,
) -> StepDone:
    """The station has received the referral (`on` defaults to today in the unit's zone)."""
    return _step(engine, settings, principal, case_ref, "acknowledged", {"date": on}, today)


def register_fir(
    engine: Engine,
    settings: Settings,
    principal: Principal,
    case_ref: str | int,
    *,
    fir_number: str,
    fir_date: date | str,
    sections: Sequence[str] | str,
    fir_station: str | None = None,
    today: date | None = None,
) -> StepDone:
    """An FIR registered: its number in the profile's form (0123/2026), date and sections (list or ';'-separated)."""
    given = {"fir_number": fir_number, "fir_date": fir_date, "sections": sections, "fir_station": fir_station}
    if isinstance(sections, Sequence) and not isinstance(sections, str):
        given["sections"] = list(sections)
    return _step(engine, settings, principal, case_ref, "fir_registered", given, today)


def record_arrests(
    engine: Engine,
    settings: Settings,
    principal: Principal,
    case_ref: str | int,
    *,
    count: int | str,
    on: date | str,
    names: Sequence[str] | str = (),
    explanation: str | None = None,
    today: date | None = None,
) -> StepDone:
    """Accused arrested (adds to the case's count); names, when given, one per arrest."""
    listed = names if isinstance(names, str) else list(names)
    given = {"count": count, "date": on, "names": listed, "explanation": explanation}
    return _step(engine, settings, principal, case_ref, "arrested", given, today)


def record_devices_seized(
    engine: Engine,
    settings: Settings,
    principal: Principal,
    case_ref: str | int,
    *,
    count: int | str,
    on: date | str,
    today: date | None = None,
) -> StepDone:
    """Devices seized (adds to the case's count)."""
    return _step(engine, settings, principal, case_ref, "devices_seized", {"count": count, "date": on}, today)


def file_chargesheet(
    engine: Engine,
    settings: Settings,
    principal: Principal,
    case_ref: str | int,
    *,
    on: date | str,
    today: date | None = None,
) -> StepDone:
    return _step(engine, settings, principal, case_ref, "chargesheet_filed", {"date": on}, today)


def close_case(
    engine: Engine,
    settings: Settings,
    principal: Principal,
    case_ref: str | int,
    *,
    closed_reason: str,
    on: date | str | None = None,
    today: date | None = None,
) -> StepDone:
    """Close with a reason (convicted | acquitted | untraced | transferred | not_an_offence)."""
    given = {"closed_reason": closed_reason, "date": on}
    return _step(engine, settings, principal, case_ref, "closed", given, today)


def correct_case(
    engine: Engine,
    settings: Settings,
    principal: Principal,
    case_ref: str | int,
    *,
    field_name: str,
    value: str,
    reason: str,
) -> StepDone:
    """Correct one recorded fact with a reason; the old value stays in the history. Errors land on `value`,
    `field_name` or `reason`."""
    with engine.connect() as conn:
        row = ensure_may_act(conn, principal, str(case_ref), "case.correction")
    changed = _guarded(
        lambda: track.correct(engine, settings, principal.username, str(row.id), field_name, value, reason),
        _CORRECTION_FIELDS,
        other="value",  # a checked value names its field (fir_number, …): on this form it is `value`
    )
    return StepDone(int(row.id), str(row.state), changed)


def request_transfer(engine: Engine, principal: Principal, case_ref: str | int, *, to_station: str, reason: str) -> int:
    """Ask the unit to move a case to another station (with a reason); returns the request's event number."""
    with engine.connect() as conn:
        row = ensure_may_act(conn, principal, str(case_ref), "case.transfer_request")
    return _guarded(
        lambda: track.request_transfer(engine, principal.username, str(row.id), to_station, reason), _TRANSFER_FIELDS
    )


CENTRAL_ACTORS = CENTRAL_WORKERS  # accounts.policy: as `tipfusion cases transfer`


def transfer_case(
    engine: Engine, principal: Principal, case_ref: str | int, *, to_station: str, reason: str
) -> tuple[str | None, str]:
    """Move a case to another station (the central unit's decision, e.g. on a station's request)."""
    with engine.connect() as conn:
        row = ensure_may_act(conn, principal, str(case_ref), "case.transfer")
        if principal.role not in CENTRAL_ACTORS:
            raise deny(conn, principal, "case", case_ref, "case.transfer", "only the central unit transfers cases")
    return _guarded(
        lambda: track.transfer(engine, principal.username, str(row.id), to_station, reason), _TRANSFER_FIELDS
    )


def record_step(
    engine: Engine,
    settings: Settings,
    principal: Principal,
    case_ref: str | int,
    step: str,
    fields: dict[str, Any],
    today: date | None = None,
) -> StepDone:
    """Any step by its lifecycle name (`acknowledged`, `fir_registered`, …) with the forms' field names (`on` is the
    step's date): the JSON API's one entry, checked like the named functions (unknown steps and fields refused by the
    lifecycle, beside the case)."""
    given = {("date" if name == "on" else name): value for name, value in fields.items()}
    return _step(engine, settings, principal, case_ref, step, given, today)
