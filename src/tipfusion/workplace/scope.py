"""Need-to-know, in one place: which referrals and cases a principal's queries may touch, and the one refusal.

Every workplace function filters by `case_scope` (lists) or calls `ensure_visible` / `ensure_may_act` (single
objects) before it reads or changes anything. A refusal is always `NotFound` with the same words whether the object
is missing or merely out of scope, so a station cannot probe another station's numbers; and every refusal is written
to the audit log as `access.denied` (committed at once, so it survives the error the caller goes on to raise).

The rules:

* admin and analyst: everything, and may act on every case;
* supervisor: reads everything, changes nothing case-related;
* district officer: the cases (and their referrals) now placed in their district, every station of it;
* station officer: the cases now placed at their station;
* auditor: none of this (the audit log only).

A case's place is where it is *now* (`cases.district`, `cases.station`): a transfer hands the work, and the need to
know, to the receiving station. A report, suspect or network is visible to a district or station officer only through
a referral in their scope: a suspect the referral covers (old ids follow their aliases), a report the package held or
now linked to such a suspect, a network that was itself the subject of the referral.
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import ColumnElement, Connection, Table, false, select, true

from tipfusion.accounts.policy import CASE_ACTORS, CASE_READERS
from tipfusion.accounts.principal import Principal, Role
from tipfusion.audit.log import AuditEvent, append
from tipfusion.errors import NotFound
from tipfusion.store.tables import cases, referrals
from tipfusion.track.service import find_case
from tipfusion.workplace.coverage import OWNING_CASE, coverage, report_suspect

ObjectKind = Literal["referral", "case", "report", "suspect", "network", "page"]

ACTING_ROLES = CASE_ACTORS  # accounts.policy: as `tipfusion cases advance`
"""Roles that may change a case (within their scope); supervisors and auditors only read."""

READING_ROLES = CASE_READERS  # accounts.policy: as `tipfusion cases list`
"""Roles that read referrals and cases (within their scope): everyone but the auditor."""


def scope_filter(principal: Principal, table: Table = cases, station: str = "station") -> ColumnElement[bool]:
    """The WHERE clause that keeps a principal to their work, over a table with a `district` column and a station
    column (`station`, or `station_id` on `police_stations`).

    Use it on `cases`, on `referrals` joined to their case with `coverage.OWNING_CASE` (a referral's own columns
    keep its original addressee, which a transfer does not change), and on the stations a dashboard lists.
    """
    if principal.role is Role.AUDITOR:
        return false()
    if principal.is_central:
        return true()
    if principal.role is Role.DISTRICT:
        return table.c.district == principal.district
    return table.c[station] == principal.station


def case_scope(principal: Principal) -> ColumnElement[bool]:
    """`scope_filter` over `cases`: the clause every list of referrals or cases applies."""
    return scope_filter(principal, cases)


def deny(
    conn: Connection, principal: Principal, kind: ObjectKind, object_id: object, action: str, why: str
) -> NotFound:
    """Audit a refused attempt and return the NotFound to raise.

    Commits `conn`: the refusal must be on record even though the caller's request fails. Call it before the caller
    has written anything it would not want committed (the workplace functions refuse before they write).
    """
    details: dict[str, Any] = {
        "username": principal.username,
        "role": str(principal.role),
        "district": principal.district,
        "station": principal.station,
        "action": action,
        "why": why,
    }
    append(conn, principal.username, [AuditEvent("access.denied", kind, str(object_id), details)])
    conn.commit()
    return NotFound(f"no {kind} {str(object_id)!r}")


def require_roles(
    conn: Connection, principal: Principal, roles: frozenset[Role], what: str, action: str = "view"
) -> None:
    """Refuse (audited, as not found) a page or list that the principal's role has no business with."""
    if principal.role not in roles:
        raise deny(conn, principal, "page", what, action, f"role {principal.role} may not use it")


def visible_case(conn: Connection, principal: Principal, case_ref: str, action: str = "view") -> Any:
    """The case row (by number or referral reference), or NotFound (audited) when absent or out of scope."""
    if principal.role is Role.AUDITOR:
        raise deny(conn, principal, "case", case_ref, action, "auditors see the audit log only")
    try:
        row = find_case(conn, str(case_ref))
    except NotFound:
        raise deny(conn, principal, "case", case_ref, action, "no such case") from None
    if not principal.may_see(row.district, row.station):
        raise deny(conn, principal, "case", case_ref, action, "outside scope")
    return row


def visible_referral(conn: Connection, principal: Principal, reference: str, action: str = "view") -> Any:
    """The referral row (by reference or number) with its case's id, place and state, or NotFound (audited)."""
    if principal.role is Role.AUDITOR:
        raise deny(conn, principal, "referral", reference, action, "auditors see the audit log only")
    query = select(
        referrals,
        cases.c.id.label("case_id"),
        cases.c.state.label("case_state"),
        cases.c.district.label("case_district"),
        cases.c.station.label("case_station"),
    ).join(cases, OWNING_CASE, isouter=True)
    text = str(reference).strip()
    row = conn.execute(query.where(referrals.c.reference == text)).first()
    if row is None and text.isdigit():
        row = conn.execute(query.where(referrals.c.id == int(text))).first()
    if row is None:
        raise deny(conn, principal, "referral", reference, action, "no such referral")
    if not principal.may_see(row.case_district, row.case_station):
        raise deny(conn, principal, "referral", reference, action, "outside scope")
    return row


def ensure_visible(conn: Connection, principal: Principal, kind: ObjectKind, object_id: str | int) -> None:
    """Raise NotFound (and audit `access.denied`) unless the principal may open this object.

    Central roles pass for reports, suspects and networks (the page's own read says whether the object exists);
    district and station officers pass only through a referral in their scope (see the module's rules).
    """
    if kind == "case":
        visible_case(conn, principal, str(object_id))
        return
    if kind == "referral":
        visible_referral(conn, principal, str(object_id))
        return
    if principal.role is Role.AUDITOR:
        raise deny(conn, principal, kind, object_id, "view", "auditors see the audit log only")
    if principal.is_central:
        return
    held = coverage(conn, case_scope(principal))
    if kind == "suspect" and held.covers_suspect(str(object_id).strip()):
        return
    if kind == "network" and held.covers_network(str(object_id).strip()):
        return
    if kind == "report" and str(object_id).strip().isdigit():
        number = int(str(object_id).strip())
        suspect = report_suspect(conn, number)
        if number in held.reports or (suspect is not None and held.covers_suspect(suspect)):
            return
    raise deny(conn, principal, kind, object_id, "view", "outside scope")


def ensure_may_act(conn: Connection, principal: Principal, case_ref: str, action: str) -> Any:
    """The case row a principal may change, or NotFound (audited): supervisors and auditors change nothing."""
    if principal.role not in ACTING_ROLES:
        raise deny(conn, principal, "case", case_ref, action, f"role {principal.role} may not change cases")
    return visible_case(conn, principal, case_ref, action)
