"""A station's (or district's) inbox: the referrals sent to it, each with its case, deadlines and whether it is late.

Filtered, sorted, counted and paged in the database under the principal's scope; a district officer sees every
station of the district, central roles see every referral (the central unit's own included).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Engine, func, select

from tipfusion.accounts.principal import Principal
from tipfusion.config import Settings
from tipfusion.store.repository import now
from tipfusion.store.tables import cases, referrals
from tipfusion.track.deadlines import Deadlines
from tipfusion.track.lifecycle import STATES
from tipfusion.workplace.coverage import OWNING_CASE
from tipfusion.workplace.scope import READING_ROLES, case_scope, require_roles

InboxSort = Literal["newest", "oldest", "reference", "state", "station"]


@dataclass(frozen=True, slots=True)
class InboxRow:
    """One referral as the receiving station sees it in a list."""

    referral_id: int
    reference: str
    kind: str  # initial | supplementary
    subject_type: str  # suspect | network
    subject_id: str
    suspects: int
    sent_at: datetime  # when this referral was built and sent
    case_id: int
    case_state: str
    district: str | None  # where the case is now
    station: str | None
    fir_number: str | None
    acknowledge_due: datetime
    fir_due: datetime
    late: tuple[str, ...]  # the duties past due: "acknowledgement", "FIR registration"
    needs_update: str | None  # why a supplementary referral is due

    @property
    def overdue(self) -> bool:
        return bool(self.late)


@dataclass(frozen=True, slots=True)
class InboxPage:
    rows: tuple[InboxRow, ...]
    total: int  # rows matching the filter, across all pages
    limit: int
    offset: int


_ORDER: dict[str, tuple[Any, ...]] = {
    "newest": (referrals.c.built_at.desc(), referrals.c.id.desc()),
    "oldest": (referrals.c.built_at, referrals.c.id),
    "reference": (referrals.c.reference,),
    "state": (cases.c.state, referrals.c.built_at.desc(), referrals.c.id.desc()),
    "station": (cases.c.district, cases.c.station, referrals.c.built_at.desc(), referrals.c.id.desc()),
}


def inbox(
    engine: Engine,
    settings: Settings,
    principal: Principal,
    *,
    state: str | None = None,
    overdue_only: bool = False,
    sort: InboxSort = "newest",
    limit: int = 50,
    offset: int = 0,
    at: datetime | None = None,
) -> InboxPage:
    """The referrals in the principal's scope with their cases; `state` filters by case state (see lifecycle)."""
    if state is not None and state not in STATES:
        raise ValueError(f"state {state!r}: expected one of {', '.join(STATES)}")
    if sort not in _ORDER:
        raise ValueError(f"sort {sort!r}: expected one of {', '.join(_ORDER)}")
    deadlines = Deadlines.of(settings, at or now())
    conditions: list[ColumnElement[bool]] = [case_scope(principal)]
    if state is not None:
        conditions.append(cases.c.state == state)
    if overdue_only:
        conditions.append(deadlines.overdue_clause())
    with engine.connect() as conn:
        require_roles(conn, principal, READING_ROLES, "inbox")
        total = conn.execute(
            select(func.count()).select_from(referrals).join(cases, OWNING_CASE).where(*conditions)
        ).scalar_one()
        found = conn.execute(
            select(
                referrals,
                cases.c.id.label("case_id"),
                cases.c.state.label("case_state"),
                cases.c.district.label("case_district"),
                cases.c.station.label("case_station"),
                cases.c.sent_at.label("case_sent_at"),
                cases.c.fir_number,
                cases.c.needs_update,
            )
            .join(cases, OWNING_CASE)
            .where(*conditions)
            .order_by(*_ORDER[sort])
            .limit(max(0, limit))
            .offset(max(0, offset))
        ).all()
    return InboxPage(tuple(_row(r, deadlines) for r in found), int(total), limit, offset)


def _row(r: Any, deadlines: Deadlines) -> InboxRow:
    return InboxRow(
        referral_id=int(r.id),
        reference=r.reference,
        kind=r.kind,
        subject_type=r.subject_type,
        subject_id=r.subject_id,
        suspects=len(r.suspects or []),
        sent_at=r.built_at,
        case_id=int(r.case_id),
        case_state=r.case_state,
        district=r.case_district,
        station=r.case_station,
        fir_number=r.fir_number,
        acknowledge_due=deadlines.acknowledge_due(r.case_sent_at),
        fir_due=deadlines.fir_due(r.case_sent_at),
        late=deadlines.late(r.case_state, r.case_sent_at),
        needs_update=r.needs_update,
    )
