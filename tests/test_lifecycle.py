"""The case lifecycle as rules: every valid step, and each invalid one with the reason a station officer sees."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tipfusion.config import FIR_PATTERN
from tipfusion.track.lifecycle import ALLOWED, STATES, CaseState, TransitionRefused, apply, check_fir_number

TODAY = date(2026, 11, 29)
SENT = date(2026, 11, 20)


def case(**kw: Any) -> CaseState:
    base: dict[str, Any] = {"state": "sent", "suspects": 2, "sent_on": SENT, "station": "PS Demopur 1"}
    base.update(kw)
    return CaseState(**base)


def step(c: CaseState, to: str, **fields: Any) -> CaseState:
    changes = apply(c, to, fields, TODAY, FIR_PATTERN)
    values = {k: v for k, v in changes.items() if k != "acknowledged_on"}
    updated = CaseState(**{**c.__dict__, **values})
    if "acknowledged_on" in changes:
        updated.acknowledged_on = changes["acknowledged_on"]
    updated.reached = c.reached | {c.state}
    return updated


def test_the_whole_life_of_a_case() -> None:
    c = step(case(), "acknowledged", date="2026-11-21")
    assert c.state == "acknowledged" and c.acknowledged_on == date(2026, 11, 21)
    c = step(c, "fir_registered", fir_number="0123/2026", fir_date="2026-11-22", sections="IT Act 67B; POCSO 15")
    assert (c.fir_number, c.fir_station, c.sections) == ("0123/2026", "PS Demopur 1", ["IT Act 67B", "POCSO 15"])
    c = step(c, "arrested", count=1, date="2026-11-23", names="Asha Rao")
    c = step(c, "devices_seized", count=3, date="2026-11-23")
    c = step(c, "arrested", count=1, date="2026-11-24")  # a second accused, later
    assert (c.arrests, c.devices_seized, len(c.arrested)) == (2, 3, 2)
    c = step(c, "chargesheet_filed", date="2026-11-28")
    c = step(c, "arrested", count=1, date="2026-11-28", explanation="co-accused identified from the seized phone")
    assert c.state == "chargesheet_filed" and c.arrests == 3  # the stage stays; the count grows
    c = step(c, "closed", closed_reason="convicted")
    assert c.state == "closed" and ALLOWED["closed"] == frozenset()


@pytest.mark.parametrize(
    ("start", "to", "fields", "message", "about"),
    [
        (
            "sent",
            "fir_registered",
            {"fir_number": "1/2026", "fir_date": "2026-11-21", "sections": "x"},
            "cannot become",
            (),
        ),
        ("sent", "arrested", {"count": 1, "date": "2026-11-21"}, "next steps are acknowledged, closed", ()),
        ("sent", "acknowledged", {"date": "2026-12-25"}, "in the future", ("date",)),
        ("sent", "acknowledged", {"date": "2026-11-01"}, "before the case could have reached", ("date",)),
        ("sent", "acknowledged", {"date": "yesterday"}, "expected a date", ("date",)),
        ("sent", "acknowledged", {"fir_number": "1/2026"}, "unexpected field", ()),
        (
            "acknowledged",
            "fir_registered",
            {"fir_number": "A-12", "fir_date": "2026-11-22", "sections": "x"},
            "form",
            ("fir_number",),
        ),
        (
            "acknowledged",
            "fir_registered",
            {"fir_number": "12/2025", "fir_date": "2026-11-22", "sections": "x"},
            "year",
            ("fir_number",),
        ),
        (
            "acknowledged",
            "fir_registered",
            {"fir_number": "12/2026", "fir_date": "2026-11-22"},
            "missing sections",
            ("sections",),
        ),
        ("fir_registered", "arrested", {"count": 3, "date": "2026-11-23"}, "exceed the 2 suspect", ("count",)),
        ("fir_registered", "arrested", {"count": 0, "date": "2026-11-23"}, "at least 1", ("count",)),
        (
            "fir_registered",
            "arrested",
            {"count": 2, "date": "2026-11-23", "names": "A"},
            r"1 name\(s\) given for 2",
            ("names",),
        ),
        (
            "fir_registered",
            "arrested",
            {"count": 1, "date": "2026-11-10"},
            "before the case could have reached",
            ("date",),
        ),
        ("fir_registered", "closed", {"closed_reason": "convicted"}, "only after a chargesheet", ("closed_reason",)),
        ("fir_registered", "closed", {"closed_reason": "lost"}, "expected one of", ("closed_reason",)),
        ("closed", "acknowledged", {}, "correct it instead", ()),
        ("sent", "reopened", {}, "unknown step", ()),
    ],
)
def test_invalid_steps_are_refused_with_what_was_expected(
    start: str, to: str, fields: dict[str, Any], message: str, about: tuple[str, ...]
) -> None:
    """The message a station officer reads, and the field(s) it is about (a form shows it beside them; none: the
    step itself is refused)."""
    c = case(state=start, fir_date=date(2026, 11, 22) if start == "fir_registered" else None)
    with pytest.raises(TransitionRefused, match=message) as refused:
        apply(c, to, fields, TODAY, FIR_PATTERN)
    assert refused.value.fields == about


def test_closing_without_an_fir_is_allowed_for_the_right_reasons() -> None:
    for reason in ("untraced", "not_an_offence", "transferred"):
        assert step(case(), "closed", closed_reason=reason).closed_reason == reason


def test_more_arrests_than_suspects_need_an_explanation() -> None:
    c = case(state="fir_registered", fir_date=date(2026, 11, 22), suspects=1)
    assert step(c, "arrested", count=2, date="2026-11-23", explanation="a second accused at the address").arrests == 2


@given(serial=st.integers(min_value=1, max_value=999_999), year=st.integers(min_value=2000, max_value=2026))
def test_fir_numbers_round_trip(serial: int, year: int) -> None:
    day = date(year, 6, 1)
    assert check_fir_number(f" {serial:04d}/{year} ", FIR_PATTERN, day) == f"{serial:04d}/{year}"
    with pytest.raises(TransitionRefused):
        check_fir_number(f"{serial}/{year + 1}", FIR_PATTERN, day)


def test_every_state_is_in_the_rules() -> None:
    assert set(ALLOWED) == set(STATES)
    reachable = {"sent"}
    frontier = ["sent"]
    while frontier:
        for nxt in ALLOWED[frontier.pop()]:
            if nxt not in reachable:
                reachable.add(nxt)
                frontier.append(nxt)
    assert reachable == set(STATES)
    assert timedelta(days=9) == TODAY - SENT
