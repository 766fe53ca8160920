"""The life of a case, as rules: which step may follow which, and what each step must record.

Pure functions over plain values, so every valid and invalid transition is testable without a database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from tipfusion.config import FIR_PATTERN
from tipfusion.errors import InputRefused

STATES = (
    "sent",
    "acknowledged",
    "fir_registered",
    "arrested",
    "devices_seized",
    "chargesheet_filed",
    "closed",
)

# Arrests and seizures happen in either order after an FIR, and more than once (each adds to the counts).
ALLOWED: dict[str, frozenset[str]] = {
    "sent": frozenset({"acknowledged", "closed"}),
    "acknowledged": frozenset({"fir_registered", "closed"}),
    "fir_registered": frozenset({"arrested", "devices_seized", "chargesheet_filed", "closed"}),
    "arrested": frozenset({"arrested", "devices_seized", "chargesheet_filed", "closed"}),
    "devices_seized": frozenset({"arrested", "devices_seized", "chargesheet_filed", "closed"}),
    "chargesheet_filed": frozenset({"arrested", "devices_seized", "closed"}),
    "closed": frozenset(),
}

CLOSE_REASONS = {
    "convicted": "chargesheet_filed",  # the state a case must have reached to close so
    "acquitted": "chargesheet_filed",
    "untraced": None,
    "transferred": None,
    "not_an_offence": None,
}

# Which fields a step takes, and which of them it needs.
FIELDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "acknowledged": (frozenset({"date"}), frozenset()),
    "fir_registered": (
        frozenset({"fir_number", "fir_date", "fir_station", "sections"}),
        frozenset({"fir_number", "fir_date", "sections"}),
    ),
    "arrested": (frozenset({"count", "names", "date", "explanation"}), frozenset({"count", "date"})),
    "devices_seized": (frozenset({"count", "date"}), frozenset({"count", "date"})),
    "chargesheet_filed": (frozenset({"date"}), frozenset({"date"})),
    "closed": (frozenset({"closed_reason", "date"}), frozenset({"closed_reason"})),
}

CORRECTABLE = frozenset(
    {
        "fir_number",
        "fir_date",
        "fir_station",
        "sections",
        "arrests",
        "arrested",
        "devices_seized",
        "chargesheet_date",
        "closed_reason",
        "acknowledged_at",
    }
)


class TransitionRefused(InputRefused):
    """A step that the case's state or the step's fields do not allow; the message says what is expected, `fields`
    which of the step's fields it is about (none: the step itself, e.g. one the case's state does not allow)."""


@dataclass
class CaseState:
    """The case's facts as the rules see them (a row of `cases`, in plain values)."""

    state: str
    suspects: int
    sent_on: date
    station: str | None
    acknowledged_on: date | None = None
    fir_number: str | None = None
    fir_date: date | None = None
    fir_station: str | None = None
    sections: list[str] = field(default_factory=list)
    arrests: int = 0
    arrested: list[dict[str, str]] = field(default_factory=list)
    devices_seized: int = 0
    chargesheet_date: date | None = None
    closed_reason: str | None = None
    reached: set[str] = field(default_factory=set)  # every state the case has been in


def _date(value: Any, name: str, today: date, earliest: date | None) -> date:
    try:
        moment = value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError as exc:
        raise TransitionRefused(f"{name}: expected a date YYYY-MM-DD, got {value!r}", name) from exc
    if isinstance(moment, datetime):
        moment = moment.date()
    if moment > today:
        raise TransitionRefused(f"{name}: {moment} is in the future (today is {today})", name)
    if earliest is not None and moment < earliest:
        raise TransitionRefused(f"{name}: {moment} is before the case could have reached this step ({earliest})", name)
    return moment


def _count(value: Any, name: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise TransitionRefused(f"{name}: expected a whole number, got {value!r}", name) from exc
    if number < 1:
        raise TransitionRefused(f"{name}: expected at least 1, got {number}", name)
    return number


def check_fir_number(number: str, pattern: str, fir_date: date) -> str:
    """An FIR number in the profile's form (Indian profile: serial/year, e.g. 0123/2026), its year the FIR's."""
    text = number.strip()
    match = re.fullmatch(pattern, text)
    if match is None:
        form = "serial/year" if pattern == FIR_PATTERN else pattern  # a station officer reads words, not a regex
        raise TransitionRefused(
            f"fir_number: {number!r} is not in the expected form {form} (e.g. 0123/{fir_date.year})", "fir_number"
        )
    year = match.groupdict().get("year")
    if year is not None and int(year) != fir_date.year:
        raise TransitionRefused(f"fir_number: year {year} does not match the FIR date {fir_date}", "fir_number")
    return text


def apply(case: CaseState, to: str, fields: dict[str, Any], today: date, fir_pattern: str) -> dict[str, Any]:
    """Check one step and return the column values it changes; raise TransitionRefused saying why not."""
    if to not in ALLOWED:
        raise TransitionRefused(f"unknown step {to!r}: expected one of {', '.join(STATES[1:])}")
    if to not in ALLOWED[case.state]:
        allowed = ", ".join(sorted(ALLOWED[case.state])) or "none (the case is closed; correct it instead)"
        raise TransitionRefused(f"a case that is {case.state} cannot become {to}: next steps are {allowed}")
    accepted, required = FIELDS[to]
    unknown = set(fields) - accepted
    if unknown:
        raise TransitionRefused(
            f"{to}: unexpected field(s) {', '.join(sorted(unknown))}; takes {', '.join(sorted(accepted))}"
        )
    missing = required - {k for k, v in fields.items() if v not in (None, "", [])}
    if missing:
        raise TransitionRefused(f"{to}: missing {', '.join(sorted(missing))}", *sorted(missing), each="required")
    changes: dict[str, Any] = {"state": to}
    if to == "acknowledged":
        changes["acknowledged_on"] = _date(fields.get("date", today), "date", today, case.sent_on)
    elif to == "fir_registered":
        fir_date = _date(fields["fir_date"], "fir_date", today, case.acknowledged_on or case.sent_on)
        changes["fir_number"] = check_fir_number(str(fields["fir_number"]), fir_pattern, fir_date)
        changes["fir_date"] = fir_date
        changes["fir_station"] = fields.get("fir_station") or case.station
        sections = fields["sections"]
        sections = [s.strip() for s in (sections.split(";") if isinstance(sections, str) else sections) if s.strip()]
        if not sections:
            raise TransitionRefused("sections: name at least one section, e.g. 'IT Act 67B; POCSO 15'", "sections")
        changes["sections"] = sections
    elif to == "arrested":
        count = _count(fields["count"], "count")
        when = _date(fields["date"], "date", today, case.fir_date)
        names = fields.get("names") or []
        names = [n.strip() for n in (names.split(";") if isinstance(names, str) else names) if n.strip()]
        if names and len(names) != count:
            raise TransitionRefused(f"names: {len(names)} name(s) given for {count} arrest(s)", "names")
        total = case.arrests + count
        if total > case.suspects and not str(fields.get("explanation") or "").strip():
            raise TransitionRefused(
                f"count: {total} arrests in all would exceed the {case.suspects} suspect(s) referred; "
                "give an explanation (e.g. co-accused identified during investigation)",
                "count",
            )
        changes["arrests"] = total
        changes["arrested"] = (
            case.arrested
            + [{"name": n, "date": when.isoformat()} for n in names]
            + ([] if names else [{"name": "", "date": when.isoformat()} for _ in range(count)])
        )
    elif to == "devices_seized":
        _date(fields["date"], "date", today, case.fir_date)
        changes["devices_seized"] = case.devices_seized + _count(fields["count"], "count")
    elif to == "chargesheet_filed":
        changes["chargesheet_date"] = _date(fields["date"], "date", today, case.fir_date)
    elif to == "closed":
        reason = str(fields["closed_reason"])
        if reason not in CLOSE_REASONS:
            raise TransitionRefused(
                f"closed_reason: {reason!r}; expected one of {', '.join(CLOSE_REASONS)}", "closed_reason"
            )
        needs = CLOSE_REASONS[reason]
        if needs is not None and needs not in case.reached | {case.state}:
            raise TransitionRefused(f"closed_reason {reason}: only after a chargesheet has been filed", "closed_reason")
        changes["closed_reason"] = reason
        if fields.get("date"):
            _date(fields["date"], "date", today, case.sent_on)
    if to in ("arrested", "devices_seized") and case.state == "chargesheet_filed":
        changes["state"] = "chargesheet_filed"  # a later arrest or seizure adds to the counts, the stage stays
    return changes
