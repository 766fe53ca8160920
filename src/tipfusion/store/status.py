"""What the store holds at every stage, counted in the database (one grouped query per stage, no rows fetched):
ingest, link, triage, routing by placement, ISP requests, referrals, cases by state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, and_, case, func, select

from tipfusion.route.placement import PLACEMENTS, placement_sql
from tipfusion.store import repository as repo
from tipfusion.store.tables import (
    cases,
    isp_answers,
    isp_requests,
    networks,
    priorities,
    referrals,
    routing_decisions,
    suspects,
)
from tipfusion.track.lifecycle import STATES

# (stage, what, count), in pipeline order: one row per line of `tipfusion status`
StatusRows = list[tuple[str, str, int]]


def stage_counts(conn: Connection, moment: datetime | None = None) -> StatusRows:
    at = moment or repo.now()
    base = repo.counts(conn)
    rows: StatusRows = [("ingest", key.replace("_", " "), value) for key, value in base.items()]
    rows += _link(conn) + _triage(conn) + _routing(conn) + _requests(conn, at) + _referrals(conn) + _cases(conn)
    return rows


def _count(conn: Connection, query: Select[Any]) -> int:
    return int(conn.execute(query).scalar_one())


def _grouped(result: Any) -> dict[str, int]:
    return {str(key): int(count) for key, count in result}


def _link(conn: Connection) -> StatusRows:
    in_networks = select(func.count()).select_from(suspects).where(suspects.c.network_id.is_not(None))
    return [
        ("link", "suspects", _count(conn, select(func.count()).select_from(suspects))),
        ("link", "suspects in networks", _count(conn, in_networks)),
        ("link", "networks", _count(conn, select(func.count()).select_from(networks))),
    ]


def _triage(conn: Connection) -> StatusRows:
    found = _grouped(conn.execute(select(priorities.c.object_type, func.count()).group_by(priorities.c.object_type)))
    return [("triage", f"{level}s scored", int(found.get(level, 0))) for level in ("report", "suspect", "network")]


def _routing(conn: Connection) -> StatusRows:
    place = placement_sql()
    found = _grouped(conn.execute(select(place, func.count()).select_from(routing_decisions).group_by(place)))
    return [
        ("route", f"suspects routed to {p}" if p != "central" else "central queue", int(found.get(p, 0)))
        for p in PLACEMENTS
    ]


def _requests(conn: Connection, at: datetime) -> StatusRows:
    r = isp_requests
    overdue = case((and_(r.c.status == "sent", r.c.due_at.is_not(None), r.c.due_at < at), 1), else_=0)
    row = conn.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((r.c.status == "answered", 1), else_=0)), 0),
            func.coalesce(func.sum(case((r.c.status == "draft", 1), else_=0)), 0),
            func.coalesce(func.sum(overdue), 0),
        )
    ).one()
    total, answered, draft, late = (int(x) for x in row)
    return [
        ("requests", "ISP requests open (not answered)", total - answered),
        ("requests", "  of which not yet sent", draft),
        ("requests", "  of which overdue", late),
        ("requests", "ISP requests answered", answered),
        ("requests", "ISP answer rows", _count(conn, select(func.count()).select_from(isp_answers))),
    ]


def _referrals(conn: Connection) -> StatusRows:
    found = _grouped(conn.execute(select(referrals.c.kind, func.count()).group_by(referrals.c.kind)))
    return [
        ("refer", "referrals (initial)", int(found.get("initial", 0))),
        ("refer", "referrals (supplementary)", int(found.get("supplementary", 0))),
    ]


def _cases(conn: Connection) -> StatusRows:
    found = _grouped(conn.execute(select(cases.c.state, func.count()).group_by(cases.c.state)))
    return [("cases", f"cases {state.replace('_', ' ')}", int(found.get(state, 0))) for state in STATES]
