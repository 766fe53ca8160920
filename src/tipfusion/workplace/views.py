"""The pages a user opens — report, suspect, network, referral, case — each read only after the scope check.

They return what the existing reads return (`store.report_detail`, `search.profiles`, the case history) so the web
pages and the command line show the same facts. Viewing is audited by the web layer in one place; a refusal is
audited here (see `scope`). Who may open what is decided in `scope` (module docstring): a station or district
officer opens a report, suspect or network only through a referral now in their scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select

from tipfusion.accounts.principal import Principal
from tipfusion.documents.manifest import BagCheck
from tipfusion.errors import NotFound
from tipfusion.refer.verification import verify_package
from tipfusion.search.profiles import network_members, suspect_profile
from tipfusion.store.current import rows_in
from tipfusion.store.links import resolve_id
from tipfusion.store.report_detail import report_detail
from tipfusion.store.tables import case_events, cases, link_explanations, networks, referrals
from tipfusion.track.service import pending_transfer
from tipfusion.workplace.coverage import OWNING_CASE
from tipfusion.workplace.scope import ACTING_ROLES, case_scope, ensure_visible, visible_case, visible_referral


def may_act(principal: Principal, district: str | None, station: str | None) -> bool:
    """Whether the page should offer case actions (the actions check again; this only decides what to show)."""
    return principal.role in ACTING_ROLES and principal.may_see(district, station)


def report_page(engine: Engine, principal: Principal, report_id: int | str) -> dict[str, Any]:
    """Everything the store holds about one report (`store.report_detail`)."""
    with engine.connect() as conn:
        ensure_visible(conn, principal, "report", report_id)
        if not str(report_id).strip().isdigit():
            raise NotFound(f"no report {str(report_id)!r}")
        return report_detail(conn, int(str(report_id).strip()))


def suspect_page(engine: Engine, principal: Principal, suspect_id: str) -> dict[str, Any]:
    """The suspect's profile (`search.profiles.suspect_profile`); its list of cases keeps only those in scope."""
    with engine.connect() as conn:
        ensure_visible(conn, principal, "suspect", suspect_id)
        profile = suspect_profile(conn, suspect_id)
        if not principal.is_central:
            ids = [c["case_id"] for c in profile["cases"] if c["case_id"] is not None]
            shown = {r.id for r in rows_in(conn, select(cases.c.id).where(case_scope(principal)), cases.c.id, ids)}
            profile["cases"] = [c for c in profile["cases"] if c["case_id"] in shown]
    return profile


@dataclass(frozen=True, slots=True)
class NetworkPage:
    network_id: str
    asked_as: str
    suspects: int
    reports: int
    summary: dict[str, Any]  # what the network is and why it hangs together (link's summary)
    strongest_links: tuple[dict[str, Any], ...]  # suspect pairs with their score and evidence, strongest first
    members: tuple[dict[str, Any], ...]  # `search.profiles.network_members`


def visible_network(conn: Connection, principal: Principal, network_id: str, links: int) -> tuple[str, Any, list[Any]]:
    """A network within the principal's scope, old names followed to the current one: its id, its row, and its
    `links` strongest suspect links (a, b, score, evidence) — the one read the network page and graph share."""
    ensure_visible(conn, principal, "network", network_id)
    current = resolve_id(conn, network_id.strip())
    row = conn.execute(select(networks).where(networks.c.network_id == current)).first()
    if row is None:
        raise NotFound(f"no network {network_id!r}")
    le = link_explanations
    strongest = conn.execute(
        select(le.c.a, le.c.b, le.c.score, le.c.evidence)
        .where(le.c.level == "network", le.c.owner_id == current)
        .order_by(le.c.score.desc(), le.c.a, le.c.b)
        .limit(links)
    ).all()
    return current, row, list(strongest)


def network_page(engine: Engine, principal: Principal, network_id: str, links: int = 15) -> NetworkPage:
    with engine.connect() as conn:
        current, row, strongest = visible_network(conn, principal, network_id, links)
        members = network_members(conn, current)
    return NetworkPage(
        current,
        network_id,
        int(row.suspects),
        int(row.reports),
        dict(row.summary or {}),
        tuple({"a": a, "b": b, "score": float(s), "evidence": e} for a, b, s, e in strongest),
        tuple(members),
    )


@dataclass(frozen=True, slots=True)
class ReferralPage:
    referral_id: int
    reference: str
    kind: str  # initial | supplementary
    parent_reference: str | None
    subject_type: str
    subject_id: str
    suspects: tuple[str, ...]
    addressed_district: str | None  # as the package was addressed (a transfer does not change it)
    addressed_station: str | None
    operation: str | None
    built_at: datetime
    built_by: str
    folder: str
    files: dict[str, str]  # file name → SHA-256
    manifest_sha256: str
    snapshot: dict[str, Any]  # what the package told the station
    case_id: int | None
    case_state: str | None
    case_district: str | None  # where the case is now
    case_station: str | None
    supplements: tuple[str, ...]  # later referrals adding to this one
    may_act: bool


def referral_page(engine: Engine, principal: Principal, reference: str) -> ReferralPage:
    with engine.connect() as conn:
        row = visible_referral(conn, principal, reference)
        parent = None
        if row.parent_id is not None:
            parent = conn.execute(select(referrals.c.reference).where(referrals.c.id == row.parent_id)).scalar()
        later = conn.execute(
            select(referrals.c.reference).where(referrals.c.parent_id == row.id).order_by(referrals.c.id)
        ).scalars()
        supplements = tuple(str(r) for r in later)
    return ReferralPage(
        int(row.id),
        row.reference,
        row.kind,
        parent,
        row.subject_type,
        row.subject_id,
        tuple(str(s) for s in row.suspects or []),
        row.district,
        row.station,
        row.operation,
        row.built_at,
        row.actor,
        row.output_dir,
        dict(row.files or {}),
        row.manifest_sha256,
        dict(row.snapshot or {}),
        None if row.case_id is None else int(row.case_id),
        row.case_state,
        row.case_district,
        row.case_station,
        supplements,
        may_act(principal, row.case_district, row.case_station),
    )


def verify_referral(engine: Engine, principal: Principal, reference: str) -> tuple[BagCheck, str | None]:
    """Check the referral's package on disk against its manifest and the store (`refer.verification.verify_package`)."""
    with engine.connect() as conn:
        row = visible_referral(conn, principal, reference)
    return verify_package(engine, Path(row.output_dir))


@dataclass(frozen=True, slots=True)
class CasePage:
    case: dict[str, Any]  # the case's columns, with its referral's reference
    events: tuple[dict[str, Any], ...]  # every step, correction, transfer and flag: who, when, what, why
    referrals: tuple[str, ...]  # the initial referral and its supplements
    pending_transfer: dict[str, Any] | None  # a station's request the unit has not carried out yet
    may_act: bool


def case_page(engine: Engine, principal: Principal, case_ref: str | int) -> CasePage:
    """A case and its history (what `tipfusion cases show` prints)."""
    with engine.connect() as conn:
        row = visible_case(conn, principal, str(case_ref))
        events = conn.execute(
            select(case_events).where(case_events.c.case_id == row.id).order_by(case_events.c.id)
        ).all()
        covered = conn.execute(
            select(referrals.c.reference).join(cases, OWNING_CASE).where(cases.c.id == row.id).order_by(referrals.c.id)
        ).scalars()
        references = tuple(str(r) for r in covered)
        waiting = pending_transfer(conn, int(row.id))
    return CasePage(
        dict(row._mapping),
        tuple(dict(e._mapping) for e in events),
        references,
        None if waiting is None else dict(waiting._mapping),
        may_act(principal, row.district, row.station),
    )
