"""Cases in the store: opened by a referral, moved by stations through the lifecycle, corrected and transferred with
a reason, listed when overdue, and flagged when new reports or ISP answers reach an open case.

Every change writes a case event and an audit event in the same transaction.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from tipfusion.audit import AuditEvent, UnitOfWork
from tipfusion.audit.decisions import require_reason
from tipfusion.config import Settings
from tipfusion.errors import NotFound, TipfusionError, UnknownValue
from tipfusion.store.current import chunked
from tipfusion.store.links import alias_resolver
from tipfusion.store.repository import now
from tipfusion.store.tables import (
    case_events,
    cases,
    isp_answers,
    isp_request_items,
    isp_requests,
    police_stations,
    referrals,
    report_links,
)
from tipfusion.track.deadlines import Deadlines
from tipfusion.track.lifecycle import CLOSE_REASONS, CORRECTABLE, CaseState, TransitionRefused, apply, check_fir_number

OPEN = ("sent", "acknowledged", "fir_registered", "arrested", "devices_seized", "chargesheet_filed")


def _day(value: Any) -> date | None:
    """A corrected date as the user gave it (`cases correct … VALUE`): ISO text, or a date already."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def open_case(
    uow: UnitOfWork,
    referral_id: int,
    district: str | None,
    station: str | None,
    suspects: int,
    sent_at: datetime,
) -> int:
    """A case for a referral just built, in the referral's unit: its first step is recorded there."""
    case_id = int(
        uow.conn.execute(
            insert(cases)
            .values(
                referral_id=referral_id,
                state="sent",
                district=district,
                station=station,
                suspects=suspects,
                sent_at=sent_at,
                arrests=0,
                devices_seized=0,
                updated_at=sent_at,
            )
            .returning(cases.c.id)
        ).scalar_one()
    )
    _event(uow, case_id, "transition", None, "sent", {"station": station, "district": district}, None)
    return case_id


def _event(
    uow: UnitOfWork,
    case_id: int,
    action: str,
    before: str | None,
    after: str | None,
    fields: dict[str, Any],
    reason: str | None,
) -> int:
    """One step of a case in its history (a domain row, not the audit log) and the audit entry that records it,
    recorded by the unit (committed with the step or not at all); both carry the unit's time. Returns the event's
    number."""
    plain = {k: (v.isoformat() if isinstance(v, date | datetime) else v) for k, v in fields.items()}
    number = uow.conn.execute(
        insert(case_events)
        .values(
            case_id=case_id,
            action=action,
            from_state=before,
            to_state=after,
            fields=plain,
            reason=reason,
            actor=uow.actor,
            at=uow.at or now(),
        )
        .returning(case_events.c.id)
    ).scalar_one()
    details = {"from": before, "to": after, **plain}
    if reason:
        details["reason"] = reason
    uow.record(AuditEvent(f"case.{action}", "case", str(case_id), details))
    return int(number)


def find_case(conn: Connection, case_ref: str) -> Any:
    """A case by its number or by its referral's reference."""
    query = select(cases, referrals.c.reference).join(referrals, referrals.c.id == cases.c.referral_id)
    row = None
    if case_ref.isdigit():
        row = conn.execute(query.where(cases.c.id == int(case_ref))).first()
    if row is None:
        row = conn.execute(query.where(referrals.c.reference == case_ref)).first()
    if row is None:
        raise NotFound(f"no case {case_ref!r} (give a case number or a referral reference)")
    return row


def _state_of(conn: Connection, row: Any) -> CaseState:
    reached = {
        r[0] for r in conn.execute(select(case_events.c.to_state).where(case_events.c.case_id == row.id)) if r[0]
    }
    return CaseState(
        state=row.state,
        suspects=int(row.suspects),
        sent_on=row.sent_at.date(),
        station=row.station,
        acknowledged_on=row.acknowledged_at.date() if row.acknowledged_at else None,
        fir_number=row.fir_number,
        fir_date=row.fir_date,
        fir_station=row.fir_station,
        sections=list(row.sections or []),
        arrests=int(row.arrests),
        arrested=list(row.arrested or []),
        devices_seized=int(row.devices_seized),
        chargesheet_date=row.chargesheet_date,
        closed_reason=row.closed_reason,
        reached=reached,
    )


def _columns(changes: dict[str, Any], stamp: datetime) -> dict[str, Any]:
    values = {k: v for k, v in changes.items() if k != "acknowledged_on"}
    if "acknowledged_on" in changes:
        day = changes["acknowledged_on"]
        values["acknowledged_at"] = datetime(day.year, day.month, day.day, tzinfo=UTC) if day != stamp.date() else stamp
    if changes.get("state") == "closed":
        values["closed_at"] = stamp
    values["updated_at"] = stamp
    return values


def advance(
    engine: Engine,
    settings: Settings,
    actor: str,
    case_ref: str,
    to: str,
    fields: dict[str, Any],
    today: date | None = None,
) -> dict[str, Any]:
    """Move a case one step; return the changed values. Refuses (TransitionRefused) with what is expected."""
    stamp = now()
    today = today or stamp.astimezone(settings.profile.zone).date()
    with UnitOfWork(engine, actor, stamp) as uow:
        conn = uow.conn
        row = find_case(conn, case_ref)
        changes = apply(_state_of(conn, row), to, fields, today, settings.profile.fir_pattern)
        conn.execute(update(cases).where(cases.c.id == row.id).values(**_columns(changes, stamp)))
        _event(uow, int(row.id), "transition", row.state, changes["state"], {**fields, "step": to}, None)
    return changes


def correct(
    engine: Engine,
    settings: Settings,
    actor: str,
    case_ref: str,
    field: str,
    value: str,
    reason: str,
) -> dict[str, Any]:
    """Correct one recorded fact (a mistyped FIR number, a wrong count); the old value stays in the history."""
    require_reason(reason, "a correction")
    if field not in CORRECTABLE:
        raise TransitionRefused(
            f"{field!r} cannot be corrected; correctable: {', '.join(sorted(CORRECTABLE))}", "field"
        )
    stamp = now()
    today = stamp.astimezone(settings.profile.zone).date()
    with UnitOfWork(engine, actor, stamp) as uow:
        conn = uow.conn
        row = find_case(conn, case_ref)
        new: Any = value
        if field in ("fir_date", "chargesheet_date"):
            new = _day(value)
            if new is None or new > today:
                raise TransitionRefused(f"{field}: {value!r} is not a date up to today ({today})", "value")
        elif field == "acknowledged_at":
            day = _day(value)
            if day is None or day > today:
                raise TransitionRefused(f"{field}: {value!r} is not a date up to today ({today})", "value")
            new = datetime(day.year, day.month, day.day, tzinfo=UTC)
        elif field == "fir_number":
            fir_date = row.fir_date
            if fir_date is None:
                raise TransitionRefused(
                    "fir_number: the case has no FIR yet; register it with `cases advance`", "value"
                )
            new = check_fir_number(value, settings.profile.fir_pattern, fir_date)
        elif field == "sections":
            new = [s.strip() for s in value.split(";") if s.strip()]
            if not new:
                raise TransitionRefused("sections: name at least one section", "value")
        elif field in ("arrests", "devices_seized"):
            try:
                new = int(value)
            except ValueError as exc:
                raise TransitionRefused(f"{field}: expected a whole number, got {value!r}", "value") from exc
            if new < 0:
                raise TransitionRefused(f"{field}: cannot be negative", "value")
        elif field == "arrested":
            new = [{"name": n.strip(), "date": ""} for n in value.split(";") if n.strip()]
        elif field == "closed_reason" and value not in CLOSE_REASONS:
            raise TransitionRefused(f"closed_reason: expected one of {', '.join(CLOSE_REASONS)}", "value")
        before = getattr(row, field)
        conn.execute(update(cases).where(cases.c.id == row.id).values({field: new, "updated_at": stamp}))
        _event(
            uow,
            int(row.id),
            "correction",
            row.state,
            row.state,
            {"field": field, "before": before, "after": new},
            reason,
        )
    return {field: new}


def transfer(engine: Engine, actor: str, case_ref: str, station: str, reason: str) -> tuple[str | None, str]:
    """Hand a case to another station; its history (and the referral's original addressee) stays."""
    require_reason(reason, "a transfer")
    with UnitOfWork(engine, actor, now()) as uow:
        conn = uow.conn
        row = find_case(conn, case_ref)
        target = _transfer_target(conn, row, station)
        conn.execute(
            update(cases)
            .where(cases.c.id == row.id)
            .values(station=target.station_id, district=target.district, updated_at=uow.at)
        )
        _event(
            uow,
            int(row.id),
            "transfer",
            row.state,
            row.state,
            {"from_station": row.station, "to_station": target.station_id, "to_district": target.district},
            reason,
        )
    return row.station, target.station_id


def _transfer_target(conn: Connection, row: Any, station: str) -> Any:
    """The receiving station of a transfer (or a request for one), checked the same way for both."""
    if row.state == "closed":
        raise TransitionRefused("a closed case cannot be transferred; correct it first")
    target = conn.execute(select(police_stations).where(police_stations.c.station_id == station)).first()
    if target is None:
        raise UnknownValue(
            f"no station {station!r} in the jurisdiction (see `tipfusion jurisdictions list`)", "station"
        )
    if target.station_id == row.station:
        raise TransitionRefused(f"the case is already with {station}", "station")
    return target


def request_transfer(engine: Engine, actor: str, case_ref: str, station: str, reason: str) -> int:
    """Ask for a case to go to another station: recorded in its history (and audited) for the unit to carry out with
    `transfer`; the case stays where it is until then. Returns the request's event number."""
    require_reason(reason, "a transfer request")
    with UnitOfWork(engine, actor, now()) as uow:
        row = find_case(uow.conn, case_ref)
        target = _transfer_target(uow.conn, row, station)
        return _event(
            uow,
            int(row.id),
            "transfer_request",
            row.state,
            row.state,
            {"from_station": row.station, "to_station": target.station_id, "to_district": target.district},
            reason,
        )


def pending_transfer(conn: Connection, case_id: int) -> Any | None:
    """The latest transfer request no transfer has followed (the event row), or None."""
    latest = conn.execute(
        select(case_events)
        .where(case_events.c.case_id == case_id, case_events.c.action.in_(("transfer_request", "transfer")))
        .order_by(case_events.c.id.desc())
        .limit(1)
    ).first()
    return latest if latest is not None and latest.action == "transfer_request" else None


def case_rows(
    engine: Engine, station: str | None = None, district: str | None = None, state: str | None = None
) -> list[dict[str, Any]]:
    query = select(cases, referrals.c.reference, referrals.c.subject_id, referrals.c.operation).join(
        referrals, referrals.c.id == cases.c.referral_id
    )
    if station:
        query = query.where(cases.c.station == station)
    if district:
        query = query.where(cases.c.district == district)
    if state:
        query = query.where(cases.c.state == state)
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(cases.c.id)).all()
    return [
        {
            "case": r.id,
            "reference": r.reference,
            "subject": r.subject_id,
            "operation": r.operation or "",
            "district": r.district or "",
            "station": r.station or "",
            "state": r.state,
            "fir_number": r.fir_number or "",
            "arrests": r.arrests,
            "devices_seized": r.devices_seized,
            "needs_update": r.needs_update or "",
            "sent_at": r.sent_at,
        }
        for r in rows
    ]


@dataclass(frozen=True)
class CaseReference:
    """What a notice quotes so its recipient can tie it to an investigation: the FIR, once there is one."""

    case_id: int
    referral: str
    station: str | None
    district: str | None
    fir_number: str | None
    fir_date: date | None


def case_references(conn: Connection, suspect_ids: set[str]) -> list[CaseReference]:
    """The open cases (and their FIRs) whose referrals cover any of these suspects (ids followed through merges)."""
    if not suspect_ids:
        return []
    resolve = alias_resolver(conn)
    wanted = {resolve(s) for s in suspect_ids}
    found = []
    for row in conn.execute(
        select(cases, referrals.c.reference, referrals.c.suspects.label("suspect_ids"))
        .join(referrals, referrals.c.id == cases.c.referral_id)
        .where(cases.c.state.in_(OPEN))
        .order_by(cases.c.id)
    ):
        if wanted & {resolve(s) for s in row.suspect_ids or []}:
            found.append(
                CaseReference(
                    int(row.id),
                    row.reference,
                    row.fir_station or row.station,
                    row.district,
                    row.fir_number,
                    row.fir_date,
                )
            )
    return found


def history(engine: Engine, case_ref: str) -> tuple[Any, list[Any]]:
    with engine.connect() as conn:
        row = find_case(conn, case_ref)
        events = conn.execute(
            select(case_events).where(case_events.c.case_id == row.id).order_by(case_events.c.id)
        ).all()
    return row, list(events)


@dataclass(frozen=True)
class OverdueItem:
    district: str
    station: str
    case: int | None
    reference: str
    what: str
    due: datetime
    hours_late: float


def overdue(engine: Engine, settings: Settings, at: datetime | None = None) -> list[OverdueItem]:
    """Acknowledgements, FIRs and ISP answers past their due time, per station (requests no case covers are the
    central unit's)."""
    at = at or now()
    deadlines = Deadlines.of(settings, at)
    items: list[OverdueItem] = []
    with engine.connect() as conn:
        open_cases = conn.execute(
            select(cases, referrals.c.reference, referrals.c.suspects.label("suspect_ids"))
            .join(referrals, referrals.c.id == cases.c.referral_id)
            .where(cases.c.state.in_(OPEN))
        ).all()
        case_of_suspect: dict[str, Any] = {}
        for row in open_cases:
            sent = row.sent_at
            place = (row.district or "central", row.station or "central unit")
            for what in deadlines.late(row.state, sent):
                due = deadlines.due(what, sent)
                hours = (at - due).total_seconds() / 3600
                items.append(OverdueItem(*place, row.id, row.reference, what, due, hours))
            for suspect in row.suspect_ids or []:
                case_of_suspect[suspect] = row
        late = conn.execute(
            select(isp_requests.c.id, isp_requests.c.reference, isp_requests.c.recipient, isp_requests.c.due_at).where(
                isp_requests.c.status == "sent", isp_requests.c.due_at < at
            )
        ).all()
        for request in late:
            answered = {
                r[0] for r in conn.execute(select(isp_answers.c.item).where(isp_answers.c.request_id == request.id))
            }
            waiting = conn.execute(
                select(isp_request_items.c.item, report_links.c.suspect_id)
                .join(report_links, report_links.c.report_id == isp_request_items.c.report_id, isouter=True)
                .where(isp_request_items.c.request_id == request.id)
            ).all()
            places: dict[tuple[str, str, int | None, str], int] = defaultdict(int)
            for item, suspect in waiting:
                if item in answered:
                    continue
                owner = case_of_suspect.get(suspect or "")
                key = (
                    (owner.district or "central", owner.station or "central unit", owner.id, owner.reference)
                    if owner is not None
                    else ("central", "central unit", None, "")
                )
                places[key] += 1
            due = request.due_at
            for (district, station, case_id, reference), count in sorted(places.items(), key=str):
                items.append(
                    OverdueItem(
                        district,
                        station,
                        case_id,
                        reference or request.reference,
                        f"ISP answer: {request.reference} to {request.recipient} ({count} item(s))",
                        due,
                        (at - due).total_seconds() / 3600,
                    )
                )
    return sorted(items, key=lambda i: (i.district, i.station, i.due))


def current_ids(conn: Connection, suspect_ids: list[str]) -> set[str]:
    """Suspect ids as they are now: a later link run may have merged or split them (aliases)."""
    resolve = alias_resolver(conn)
    return {resolve(suspect) for suspect in suspect_ids}


def _holdings(conn: Connection, suspect_ids: set[str]) -> tuple[dict[str, set[int]], dict[int, set[int]]]:
    """Reports per suspect, and ISP answers per report, for many suspects in a few set queries."""
    reports_of: dict[str, set[int]] = defaultdict(set)
    for chunk in chunked(suspect_ids):
        for report, suspect in conn.execute(
            select(report_links.c.report_id, report_links.c.suspect_id).where(report_links.c.suspect_id.in_(chunk))
        ):
            reports_of[suspect].add(int(report))
    answers_of: dict[int, set[int]] = defaultdict(set)
    for chunk in chunked({r for held in reports_of.values() for r in held}):
        for answer, report in conn.execute(
            select(isp_answers.c.id, isp_answers.c.report_id).where(isp_answers.c.report_id.in_(chunk))
        ):
            answers_of[int(report)].add(int(answer))
    return reports_of, answers_of


def _changes(
    snapshot: dict[str, Any], suspects_now: set[str], reports_of: dict[str, set[int]], answers_of: dict[int, set[int]]
) -> dict[str, list[str]]:
    reports_now = {r for s in suspects_now for r in reports_of.get(s, ())}
    answers_now = {a for r in reports_now for a in answers_of.get(r, ())}
    return {
        "reports": [str(r) for r in sorted(reports_now - set(snapshot.get("reports", [])))],
        "answers": [str(a) for a in sorted(answers_now - set(snapshot.get("answers", [])))],
    }


def changes_since(conn: Connection, snapshot: dict[str, Any]) -> dict[str, list[str]]:
    """What the store holds now about a referral's suspects that its packages did not."""
    suspects_now = current_ids(conn, list(snapshot.get("suspects", [])))
    return _changes(snapshot, suspects_now, *_holdings(conn, suspects_now))


def merged_snapshots(conn: Connection, referral_ids: set[int]) -> dict[int, dict[str, Any]]:
    """What each referral and its supplementary referrals told the station, together."""
    merged: dict[int, dict[str, set[Any]]] = {r: defaultdict(set) for r in referral_ids}
    for chunk in chunked(referral_ids):
        for referral, parent, snapshot in conn.execute(
            select(referrals.c.id, referrals.c.parent_id, referrals.c.snapshot).where(
                referrals.c.id.in_(chunk) | referrals.c.parent_id.in_(chunk)
            )
        ):
            root = int(parent) if parent is not None and int(parent) in merged else int(referral)
            for key, values in (snapshot or {}).items():
                merged[root][key].update(values)
    return {r: {k: sorted(v) for k, v in m.items()} for r, m in merged.items()}


def merged_snapshot(conn: Connection, referral_id: int) -> dict[str, Any]:
    return merged_snapshots(conn, {referral_id})[referral_id]


def refresh_flags(engine: Engine, actor: str) -> list[tuple[int, str]]:
    """Flag open cases whose suspects have new reports or ISP answers: a supplementary referral is due.

    Runs after every link run and answer file, so it reads in sets: the open cases, their snapshots, the alias
    table, then reports and answers for all their suspects at once.
    """
    flagged: list[tuple[int, str]] = []
    with UnitOfWork(engine, actor, now()) as uow:  # one refresh, one moment for all its flags
        conn = uow.conn
        open_cases = conn.execute(select(cases).where(cases.c.state.in_(OPEN))).all()
        if not open_cases:
            return flagged
        snapshots = merged_snapshots(conn, {int(row.referral_id) for row in open_cases})
        resolve = alias_resolver(conn)
        now_of = {r: {resolve(s) for s in snap.get("suspects", [])} for r, snap in snapshots.items()}
        reports_of, answers_of = _holdings(conn, {s for held in now_of.values() for s in held})
        for row in open_cases:
            referral = int(row.referral_id)
            changes = _changes(snapshots[referral], now_of[referral], reports_of, answers_of)
            note = ", ".join(f"{len(v)} new {k}" for k, v in changes.items() if v) or None
            if note != row.needs_update:
                conn.execute(update(cases).where(cases.c.id == row.id).values(needs_update=note))
                if note:
                    _event(uow, int(row.id), "flag", row.state, row.state, changes, None)
                    flagged.append((int(row.id), note))
    return flagged


def flag_case(uow: UnitOfWork, case_id: int, note: str, fields: dict[str, Any]) -> None:
    """Flag a case from elsewhere (deconfliction at routing time), in the caller's unit."""
    row = uow.conn.execute(select(cases).where(cases.c.id == case_id)).first()
    if row is None:
        raise TipfusionError(f"no case {case_id}")
    _event(uow, case_id, "flag", row.state, row.state, {"note": note, **fields}, None)


__all__ = [
    "OverdueItem",
    "TransitionRefused",
    "advance",
    "case_rows",
    "changes_since",
    "correct",
    "history",
    "open_case",
    "overdue",
    "pending_transfer",
    "refresh_flags",
    "request_transfer",
    "transfer",
]
