"""Two dashboards: the analyst's "today" (intake, queue depth, what is late, the running operations) and the force
dashboard a supervisor reads — every police station, zeros included, with district subtotals and a grand total.

The force dashboard counts the case records themselves in one grouped query, so its totals are the cases' totals by
construction; it is scoped like every list (a district officer sees their district, a station officer their station).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, and_, case, func, select

from tipfusion.accounts.principal import CENTRAL_ROLES, Principal
from tipfusion.config import Settings
from tipfusion.store.repository import now
from tipfusion.store.tables import cases, police_stations, referrals, reports
from tipfusion.track.deadlines import Deadlines
from tipfusion.track.operations import list_operations, operation_report
from tipfusion.track.service import overdue
from tipfusion.workplace.queue import Band, queue_depth
from tipfusion.workplace.scope import READING_ROLES, case_scope, require_roles, scope_filter


@dataclass(frozen=True, slots=True)
class CaseTotals:
    """What came of the referrals of one station (or district, or the force): counts of cases and sums of counts."""

    referrals: int = 0  # cases opened (one per initial referral)
    acknowledged: int = 0  # cases the station has acknowledged
    firs: int = 0
    arrests: int = 0  # accused arrested (the sum of the cases' counts)
    devices: int = 0  # devices seized (sum)
    chargesheets: int = 0
    closed: int = 0
    overdue: int = 0  # cases late on acknowledgement or FIR registration

    def __add__(self, other: CaseTotals) -> CaseTotals:
        return CaseTotals(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


@dataclass(frozen=True, slots=True)
class StationLine:
    district: str | None  # None: the central unit's own cases
    station: str | None  # None: cases placed with the district, not yet a station
    totals: CaseTotals


@dataclass(frozen=True, slots=True)
class DistrictBlock:
    district: str | None
    stations: tuple[StationLine, ...]
    subtotal: CaseTotals


@dataclass(frozen=True, slots=True)
class ForceDashboard:
    districts: tuple[DistrictBlock, ...]
    total: CaseTotals
    at: datetime


def _counted(conn: Connection, where: ColumnElement[bool], deadlines: Deadlines) -> dict[tuple[Any, Any], CaseTotals]:
    def tally(condition: ColumnElement[bool]) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    query = (
        select(
            cases.c.district,
            cases.c.station,
            func.count(),
            tally(cases.c.acknowledged_at.is_not(None)),
            tally(cases.c.fir_number.is_not(None)),
            func.coalesce(func.sum(cases.c.arrests), 0),
            func.coalesce(func.sum(cases.c.devices_seized), 0),
            tally(cases.c.chargesheet_date.is_not(None)),
            tally(cases.c.state == "closed"),
            tally(deadlines.overdue_clause()),
        )
        .where(where)
        .group_by(cases.c.district, cases.c.station)
    )
    return {(r[0], r[1]): CaseTotals(*(int(v) for v in r[2:])) for r in conn.execute(query)}


def force_dashboard(
    engine: Engine,
    settings: Settings,
    principal: Principal,
    at: datetime | None = None,
    operation: str | None = None,
) -> ForceDashboard:
    """Per district and station: every station of the jurisdiction in scope (zeros too), cases placed with a district
    but no station, and (for central roles) the central unit's own; subtotals per district and the grand total.

    `operation` keeps the cases opened by that operation's referrals (the stations are still all listed)."""
    moment = at or now()
    where = case_scope(principal)
    if operation:
        where = and_(where, cases.c.referral_id.in_(select(referrals.c.id).where(referrals.c.operation == operation)))
    with engine.connect() as conn:
        require_roles(conn, principal, READING_ROLES, "force dashboard")
        counted = _counted(conn, where, Deadlines.of(settings, moment))
        stations = conn.execute(
            select(police_stations.c.district, police_stations.c.station_id).where(
                scope_filter(principal, police_stations, "station_id")
            )
        ).all()
    places = {(d, s) for d, s in stations} | set(counted)
    by_district: dict[str | None, list[StationLine]] = {}
    for district, station in places:
        line = StationLine(district, station, counted.get((district, station), CaseTotals()))
        by_district.setdefault(district, []).append(line)
    blocks = []
    for district in sorted(by_district, key=lambda d: (d is None, d or "")):
        lines = sorted(by_district[district], key=lambda line: (line.station is not None, line.station or ""))
        subtotal = sum((line.totals for line in lines), CaseTotals())
        blocks.append(DistrictBlock(district, tuple(lines), subtotal))
    return ForceDashboard(tuple(blocks), sum((b.subtotal for b in blocks), CaseTotals()), moment)


@dataclass(frozen=True, slots=True)
class DayCount:
    day: date  # a calendar day in the unit's zone
    reports: int  # reports first ingested that day


@dataclass(frozen=True, slots=True)
class OperationTotals:
    name: str
    title: str | None
    starts: datetime
    ends: datetime
    totals: dict[str, Any]  # as `tipfusion operation report` totals them


@dataclass(frozen=True, slots=True)
class TodayDashboard:
    intake: tuple[DayCount, ...]  # oldest first, today last
    queue_depth: dict[Band, int]  # suspects waiting, per priority band
    overdue: int  # acknowledgements, FIRs and ISP answers past due, force-wide
    overdue_by_kind: dict[str, int]
    operations: tuple[OperationTotals, ...]  # the operations running at the moment
    at: datetime


def _intake(conn: Connection, settings: Settings, moment: datetime, days: int) -> tuple[DayCount, ...]:
    """Reports per local day, in one pass: each day's bounds are computed in the unit's zone, compared in UTC."""
    zone = settings.profile.zone
    today = moment.astimezone(zone).date()
    wanted = [today - timedelta(days=n) for n in range(days - 1, -1, -1)]
    bounds = [
        (
            datetime.combine(d, time(), zone).astimezone(UTC),
            datetime.combine(d + timedelta(days=1), time(), zone).astimezone(UTC),
        )
        for d in wanted
    ]
    arrived = reports.c.first_ingested_at
    counts = conn.execute(
        select(
            *(func.coalesce(func.sum(case((and_(arrived >= lo, arrived < hi), 1), else_=0)), 0) for lo, hi in bounds)
        ).where(arrived >= bounds[0][0], arrived < bounds[-1][1])
    ).one()
    return tuple(DayCount(d, int(c)) for d, c in zip(wanted, counts, strict=True))


def analyst_today(
    engine: Engine, settings: Settings, principal: Principal, days: int = 7, at: datetime | None = None
) -> TodayDashboard:
    """The central unit's morning view (central roles only)."""
    if days < 1:
        raise ValueError("days: expected at least 1")
    moment = at or now()
    with engine.connect() as conn:
        require_roles(conn, principal, CENTRAL_ROLES, "today dashboard")
        intake = _intake(conn, settings, moment, days)
        depth = queue_depth(conn, "suspect")
    late = overdue(engine, settings, moment)
    kinds: dict[str, int] = {}
    for item in late:
        kind = "ISP answer" if item.what.startswith("ISP answer") else item.what
        kinds[kind] = kinds.get(kind, 0) + 1
    running = []
    for listed in list_operations(engine):
        starts, ends = listed["starts"], listed["ends"]
        if starts <= moment <= ends:
            report = operation_report(engine, listed["name"])
            running.append(OperationTotals(listed["name"], report.title, starts, ends, report.totals))
    return TodayDashboard(intake, depth, len(late), kinds, tuple(running), moment)
