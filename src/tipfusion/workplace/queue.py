"""The analysts' work queue as a page: reports, suspects or networks by priority, filtered, sorted and paged in the
database, each row with where routing placed it and the case its referral opened.

Built for a store of a million reports: the order and the band filter run on `ix_priorities_queue`
(object_type, pinned, score); routing and referral filters are joins or EXISTS on primary keys and
`ix_referrals_subject`; only the page's rows come back (LIMIT/OFFSET). The total of the whole level or a band is
a sum over the counts triage keeps (`store.priority_counts`); a filtered total counts at most `COUNT_CAP` rows.
A network's district and placement filters look at its members' routing decisions, which have no index by network:
fine for the thousands of networks a store holds, worth an index if that grows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Engine,
    Table,
    and_,
    case,
    cast,
    exists,
    func,
    not_,
    null,
    select,
)
from sqlalchemy.sql import FromClause, Select

from tipfusion.accounts.principal import CENTRAL_ROLES, Principal
from tipfusion.route.placement import describe, placement_sql, placements
from tipfusion.store.tables import cases, priorities, priority_counts, referrals, report_links, routing_decisions
from tipfusion.track.lifecycle import STATES
from tipfusion.triage.service import LEVELS
from tipfusion.workplace.coverage import OWNING_CASE
from tipfusion.workplace.scope import require_roles

Level = Literal["report", "suspect", "network"]
Band = Literal["pinned", "high", "medium", "low"]
PlacementFilter = Literal["station", "district", "central", "unrouted", "routed"]
QueueSort = Literal["priority", "lowest", "id"]
REFERRAL_STATES = ("unreferred", "open", *STATES)
_OPEN = [s for s in STATES if s != "closed"]

_rd = routing_decisions
_ORDER: dict[str, tuple[Any, ...]] = {
    "priority": (priorities.c.pinned.desc(), priorities.c.score.desc(), priorities.c.object_id),
    "lowest": (priorities.c.pinned, priorities.c.score, priorities.c.object_id),
    "id": (priorities.c.object_id,),
}


@dataclass(frozen=True, slots=True)
class PriorityBands:
    """Where a score falls, for filters and the dashboard: pinned items apart, then by score thresholds.

    The thresholds are a reading aid, not a triage rule: a report escalated by the ESP (30) with NCMEC priority 1
    (40) is high; one factor of that weight alone is medium.
    """

    high: float = 60.0
    medium: float = 30.0

    def band(self, score: float, pinned: bool) -> Band:
        if pinned:
            return "pinned"
        return "high" if score >= self.high else ("medium" if score >= self.medium else "low")

    def clause(self, band: Band, table: Table = priorities, score: str = "score") -> ColumnElement[bool]:
        """The band as a WHERE clause over `priorities`, or over `priority_counts` (score "score_floor")."""
        level = table.c[score]
        if band == "pinned":
            return table.c.pinned.is_(True)
        not_pinned = table.c.pinned.is_(False)
        if band == "high":
            return and_(not_pinned, level >= self.high)
        if band == "medium":
            return and_(not_pinned, level >= self.medium, level < self.high)
        return and_(not_pinned, level < self.medium)

    @property
    def whole(self) -> bool:
        """Whether every threshold is a whole number: then `priority_counts` (by floor(score)) splits exactly."""
        return float(self.high).is_integer() and float(self.medium).is_integer()


BANDS = PriorityBands()


@dataclass(frozen=True, slots=True)
class QueueRow:
    level: str
    object_id: str
    score: float
    pinned: bool
    band: Band
    why: tuple[str, ...]  # the largest contributions, in words: "escalated +30 (ESP escalated)"
    routing: str  # in words, as `tipfusion queue show` prints it ("unrouted" when there is no decision)
    district: str | None  # the routing decision's (reports and suspects)
    station: str | None
    referral: str | None  # the latest referral about it, if any (reports: their suspect's)
    case_state: str | None


COUNT_CAP = 5000
"""A filtered queue counts its rows up to this many, then says "more than": 100 pages of 50, a bounded cost."""


@dataclass(frozen=True, slots=True)
class QueuePage:
    rows: tuple[QueueRow, ...]
    total: int  # the rows the level and filters select; only a lower bound when `exact` is False
    limit: int
    offset: int
    exact: bool = True  # False: more than `total` rows (a filtered count stopped there, see COUNT_CAP)

    @property
    def more(self) -> bool:
        """Whether rows follow this page."""
        return not self.exact or self.offset + len(self.rows) < self.total


def _subject(level: str) -> tuple[str, Any]:
    """(referral subject type, the column holding the subject id) for a queue level."""
    if level == "report":
        return "suspect", report_links.c.suspect_id
    return level, priorities.c.object_id


def _referred(level: str, state: str) -> ColumnElement[bool]:
    subject_type, subject = _subject(level)
    about = and_(referrals.c.subject_type == subject_type, referrals.c.subject_id == subject)
    if state == "unreferred":
        return not_(exists().where(about))
    wanted = _OPEN if state == "open" else [state]
    return exists(select(referrals.c.id).join(cases, OWNING_CASE).where(about, cases.c.state.in_(wanted)))


def _placed(level: str, placement: str | None, district: str | None) -> list[ColumnElement[bool]]:
    """Routing filters: a row join for reports and suspects, EXISTS over the members for networks."""
    conditions: list[ColumnElement[bool]] = []
    place = placement_sql()
    if placement == "unrouted":
        conditions.append(_rd.c.suspect_id.is_(None))
    elif placement == "routed":
        conditions.append(place.in_(("station", "district")))
    elif placement is not None:
        conditions.append(place == placement)
    if district is not None:
        conditions.append(_rd.c.district == district)
    if level != "network" or not conditions:
        return conditions
    members = select(_rd.c.suspect_id).where(_rd.c.network_id == priorities.c.object_id)
    if placement == "unrouted":
        return [not_(exists(members))]
    return [exists(members.where(*conditions))]


_DECISION = (
    _rd.c.suspect_id.label("decided"),
    _rd.c.district,
    _rd.c.station,
    _rd.c.basis,
    _rd.c.network_central,
)
"""The routing decision's columns a report's or suspect's row carries: its routing in words without another query."""


def _base(level: str) -> Select[Any]:
    """The queue rows of a level with the routing decision (and, for reports, the suspect) they are filtered by."""
    joined: FromClause
    if level == "report":
        joined = priorities.outerjoin(
            report_links, report_links.c.report_id == cast(priorities.c.object_id, BigInteger)
        ).outerjoin(_rd, _rd.c.suspect_id == report_links.c.suspect_id)
        query = select(priorities, *_DECISION, report_links.c.suspect_id.label("suspect"))
    elif level == "suspect":
        joined = priorities.outerjoin(_rd, _rd.c.suspect_id == priorities.c.object_id)
        query = select(priorities, *_DECISION, null().label("suspect"))
    else:
        joined = priorities
        nothing = (null().label(c.name) for c in _DECISION)
        query = select(priorities, *nothing, null().label("suspect"))
    return query.select_from(joined).where(priorities.c.object_type == level)


def work_queue(
    engine: Engine,
    principal: Principal,
    *,
    level: Level = "suspect",
    band: Band | None = None,
    district: str | None = None,
    placement: PlacementFilter | None = None,
    referral_state: str | None = None,
    sort: QueueSort = "priority",
    limit: int = 50,
    offset: int = 0,
    bands: PriorityBands = BANDS,
    count_cap: int | None = None,
) -> QueuePage:
    """One page of the queue; `referral_state` is `unreferred`, `open` or a case state (see `REFERRAL_STATES`).

    The total costs the same at any store size: the whole level, or one band of it, is a sum over the counts triage
    keeps (`store.priority_counts`), exact; with a routing or referral filter the rows are counted, but at most
    `count_cap` (default `COUNT_CAP`) or as far as this page reaches, if further: past that the page is not `exact`
    and its total a lower bound ("more than …"), never a guess."""
    if level not in LEVELS:
        raise ValueError(f"level {level!r}: expected one of {', '.join(LEVELS)}")
    if sort not in _ORDER:
        raise ValueError(f"sort {sort!r}: expected one of {', '.join(_ORDER)}")
    if referral_state is not None and referral_state not in REFERRAL_STATES:
        raise ValueError(f"referral_state {referral_state!r}: expected one of {', '.join(REFERRAL_STATES)}")
    conditions: list[ColumnElement[bool]] = []
    if band is not None:
        conditions.append(bands.clause(band))
    conditions += _placed(level, placement, district)
    if referral_state is not None:
        conditions.append(_referred(level, referral_state))
    query = _base(level).where(*conditions)
    with engine.connect() as conn:
        require_roles(conn, principal, CENTRAL_ROLES, "work queue")
        found = conn.execute(query.order_by(*_ORDER[sort]).limit(max(0, limit)).offset(max(0, offset))).all()
        filtered = district is not None or placement is not None or referral_state is not None
        if not filtered and bands.whole:  # the whole level or one band: the counts triage keeps
            total, exact = _kept_total(conn, level, band, bands), True
        else:
            cap = max(COUNT_CAP if count_cap is None else count_cap, offset + limit)
            counted = conn.execute(select(func.count()).select_from(query.limit(cap + 1).subquery())).scalar_one()
            total, exact = min(int(counted), cap), int(counted) <= cap
        rows = _rows(conn, level, found, bands)
    return QueuePage(rows, total, limit, offset, exact)


def _kept_total(conn: Connection, level: str, band: Band | None, bands: PriorityBands) -> int:
    """The level's priorities (in `band`) from the counts triage wrote with them: a sum over a few hundred rows."""
    counts = priority_counts
    query = select(func.coalesce(func.sum(counts.c.held), 0)).where(counts.c.object_type == level)
    if band is not None:
        query = query.where(bands.clause(band, counts, "score_floor"))
    return int(conn.execute(query).scalar_one())


def _rows(conn: Connection, level: str, found: Sequence[Any], bands: PriorityBands) -> tuple[QueueRow, ...]:
    """The page's rows with routing in words and their referral: one more query for the page (two for networks,
    whose placement comes from their members' decisions)."""
    if level == "network":
        routing = placements(conn, level, [str(r.object_id) for r in found])
    else:  # the decision came with the row (as `placements` words it: one decision, or none)
        routing = {str(r.object_id): describe(r) for r in found if r.decided is not None}
    subject_of = {
        str(r.object_id): (str(r.suspect) if level == "report" and r.suspect else str(r.object_id)) for r in found
    }
    subject_type, _ = _subject(level)
    latest: dict[str, tuple[str, str]] = {}
    wanted = sorted(set(subject_of.values()))
    if wanted:
        for subject, reference, state in conn.execute(
            select(referrals.c.subject_id, referrals.c.reference, cases.c.state)
            .join(cases, OWNING_CASE)
            .where(referrals.c.subject_type == subject_type, referrals.c.subject_id.in_(wanted))
            .order_by(referrals.c.id)
        ):
            latest[str(subject)] = (str(reference), str(state))
    rows = []
    for r in found:
        key = str(r.object_id)
        reference, state = latest.get(subject_of[key], (None, None))
        rows.append(
            QueueRow(
                level=level,
                object_id=key,
                score=float(r.score),
                pinned=bool(r.pinned),
                band=bands.band(float(r.score), bool(r.pinned)),
                why=_why(r.factors),
                routing=routing.get(key, "unrouted"),
                district=r.district,
                station=r.station,
                referral=reference,
                case_state=state,
            )
        )
    return tuple(rows)


def _why(factors: Any, count: int = 4) -> tuple[str, ...]:
    shown = sorted((f for f in factors or [] if f[1]), key=lambda f: -abs(float(f[1])))
    return tuple(f"{name} {float(points):+g} ({detail})" for name, points, detail in shown[:count])


def queue_depth(conn: Connection, level: Level = "suspect", bands: PriorityBands = BANDS) -> dict[Band, int]:
    """How many items of a level wait in each band: from the counts triage keeps (whole-number thresholds), else one
    pass over the queue index."""
    names: tuple[Band, ...] = ("pinned", "high", "medium", "low")
    table, score, weight = (
        (priority_counts, "score_floor", priority_counts.c.held) if bands.whole else (priorities, "score", 1)
    )
    totals = conn.execute(
        select(
            *(func.coalesce(func.sum(case((bands.clause(b, table, score), weight), else_=0)), 0) for b in names)
        ).where(table.c.object_type == level)
    ).one()
    return {band: int(total) for band, total in zip(names, totals, strict=True)}
