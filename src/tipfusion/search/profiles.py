"""One suspect, or one network's members, as an analyst reads them: the suspect's own names, addresses, phones, emails
and accounts exactly as reported (reported person and associated accounts only), other people in its reports apart
and labelled (a victim's phone is never the suspect's), where routing placed it and why, its network and its cases.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, select

from tipfusion.audit import UnitOfWork
from tipfusion.domain import PARTY_LABELS, PARTY_ROLES, SUSPECT_ROLES
from tipfusion.errors import NotFound
from tipfusion.refer.dossier import as_reported, shown_form, utc_text
from tipfusion.route.placement import describe, placement_of
from tipfusion.store.current import chunked, current_report_versions
from tipfusion.store.links import alias_resolver, resolve_id
from tipfusion.store.report_detail import report_detail
from tipfusion.store.tables import (
    cases,
    identifier_observations,
    networks,
    priorities,
    referrals,
    report_links,
    routing_decisions,
    suspects,
)


def report_record(engine: Engine, actor: str, report_id: int, details: dict[str, Any]) -> dict[str, Any]:
    """Everything stored for one report (`store.report_detail`; NotFound when the store does not hold it), the view
    audited as `view.report` with `details` in the same unit as the read."""
    with UnitOfWork(engine, actor) as uow:
        detail = report_detail(uow.conn, report_id)
        uow.record("view.report", "report", str(report_id), details)
    return detail


_IDENTIFIER_ORDER = ("esp_user", "email", "phone", "device", "screen_name", "display_name", "url", "ip")


def suspect_profile(conn: Connection, suspect_id: str) -> dict[str, Any]:
    """Everything an analyst asks first about a suspect (old names follow their aliases)."""
    current = resolve_id(conn, suspect_id.strip())
    row = conn.execute(select(suspects).where(suspects.c.suspect_id == current)).first()
    if row is None:
        raise NotFound(f"no suspect {suspect_id!r} (ids look like S242000123; run `tipfusion link` first?)")
    report_ids = sorted(
        int(r)
        for r in conn.execute(select(report_links.c.report_id).where(report_links.c.suspect_id == current)).scalars()
    )
    report_rows = _reports(conn, report_ids)
    suspect_of = dict.fromkeys(report_ids, current)
    esp_of = {r["report_id"]: r["esp"] for r in report_rows}
    o = identifier_observations  # the reports' sightings, read once for both views
    sightings = [
        s
        for chunk in chunked(report_ids)
        for s in conn.execute(select(o).where(o.c.report_id.in_(chunk), o.c.is_current.is_(True)))
    ]
    everyone = as_reported(conn, report_ids, suspect_of, esp_of, sightings, parties=frozenset(PARTY_ROLES))
    people = [r for r in everyone if r["role"] in SUSPECT_ROLES]
    others = [r for r in everyone if r["role"] not in SUSPECT_ROLES]
    identifiers, other_values = _identifiers(sightings)
    return {
        "suspect_id": current,
        "asked_as": suspect_id,
        "network_id": row.network_id,
        "component_id": row.component_id,
        "reports": report_rows,
        "as_reported": people,
        "identifiers": identifiers,
        "other_people": others,
        "other_values": other_values,
        "priority": _priority(conn, current),
        "routing": _routing(conn, current),
        "network": _network(conn, row.network_id),
        "cases": suspect_cases(conn, current),
    }


def _reports(conn: Connection, report_ids: list[int]) -> list[dict[str, Any]]:
    rv = current_report_versions
    out = [
        {
            "report_id": int(r.report_id),
            "esp": r.esp_name or r.esp_scope,
            "incident_type": r.incident_type,
            "incident_at_utc": utc_text(r.incident_at),
        }
        for chunk in chunked(report_ids)
        for r in conn.execute(
            select(rv.c.report_id, rv.c.esp_name, rv.c.esp_scope, rv.c.incident_type, rv.c.incident_at).where(
                rv.c.report_id.in_(chunk)
            )
        )
    ]
    return sorted(out, key=lambda r: r["report_id"])


def _plain(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: sorted(v) if isinstance(v, set) else v for k, v in entry.items()}


def _identifiers(sightings: list[Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every identifier in the reports, grouped by value: the suspect's own, and other people's apart."""
    own: dict[tuple[str, str], dict[str, Any]] = {}
    others: dict[tuple[str, str, str], dict[str, Any]] = {}
    for s in sightings:
        if s.role in SUSPECT_ROLES:
            entry = own.setdefault(
                (s.kind, s.canonical),
                {"kind": s.kind, "canonical": s.canonical, "values": set(), "roles": set(), "reports": set()},
            )
            entry["roles"].add(s.role)
        else:
            entry = others.setdefault(
                (s.role, s.kind, s.canonical),
                {
                    "role": s.role,
                    "whose": PARTY_LABELS.get(s.role, s.role),
                    "kind": s.kind,
                    "canonical": s.canonical,
                    "values": set(),
                    "reports": set(),
                },
            )
        entry["values"].add(s.value)
        entry["reports"].add(int(s.report_id))
        entry["valid"] = bool(entry.get("valid", True) and s.valid)
    for entry in [*own.values(), *others.values()]:
        entry["shown"] = shown_form(entry["kind"], entry["canonical"], sorted(entry["values"]))
    order = {k: n for n, k in enumerate(_IDENTIFIER_ORDER)}
    return (
        [_plain(e) for e in sorted(own.values(), key=lambda e: (order.get(e["kind"], 99), e["kind"], e["shown"]))],
        [_plain(e) for e in sorted(others.values(), key=lambda e: (e["role"], e["kind"], e["shown"]))],
    )


def _priority(conn: Connection, suspect_id: str) -> dict[str, Any] | None:
    row = conn.execute(
        select(priorities).where(priorities.c.object_type == "suspect", priorities.c.object_id == suspect_id)
    ).first()
    return None if row is None else {"score": float(row.score), "pinned": bool(row.pinned), "factors": row.factors}


def _routing(conn: Connection, suspect_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(routing_decisions).where(routing_decisions.c.suspect_id == suspect_id)).first()
    if row is None:
        return None
    detail = row.detail or {}
    return {
        "placement": placement_of(row.station, row.district, bool(row.network_central)),
        "in_words": describe(row),
        "district": row.district,
        "station": row.station,
        "basis": row.basis,
        "confidence": row.confidence,
        "network_central": bool(row.network_central),
        "overridden": bool(row.overridden),
        "notes": detail.get("notes", []),
        "evidence": [e.get("detail") for e in detail.get("evidence", []) if isinstance(e, dict)],
        "deconfliction": detail.get("deconfliction", []),
    }


def _network(conn: Connection, network_id: str | None) -> dict[str, Any] | None:
    if not network_id:
        return None
    row = conn.execute(select(networks).where(networks.c.network_id == network_id)).first()
    if row is None:
        return None
    return {"network_id": network_id, "suspects": int(row.suspects), "reports": int(row.reports)}


def suspect_cases(conn: Connection, suspect_id: str) -> list[dict[str, Any]]:
    """Cases whose referral covers the suspect (a referral made under an older name counts: aliases are followed)."""
    resolve = alias_resolver(conn)
    query = (
        select(referrals, cases.c.id.label("case_id"), cases.c.state, cases.c.station.label("case_station"))
        .select_from(referrals.outerjoin(cases, cases.c.referral_id == referrals.c.id))
        .order_by(referrals.c.id)
    )
    out = []
    for r in conn.execute(query):
        if suspect_id not in {resolve(str(s)) for s in (r.suspects or [])}:
            continue
        out.append(
            {
                "case_id": r.case_id,
                "reference": r.reference,
                "kind": r.kind,
                "subject": r.subject_id,
                "state": r.state,
                "station": r.case_station or r.station,
                "district": r.district,
                "built_utc": utc_text(r.built_at),
            }
        )
    return out


def network_members(conn: Connection, network_id: str) -> list[dict[str, Any]]:
    """The suspects of a network with their report counts, most reports first, with their score and routing."""
    rd = routing_decisions
    query = (
        select(suspects.c.suspect_id, suspects.c.reports, priorities.c.score, rd)
        .select_from(
            suspects.outerjoin(
                priorities, (priorities.c.object_type == "suspect") & (priorities.c.object_id == suspects.c.suspect_id)
            ).outerjoin(rd, rd.c.suspect_id == suspects.c.suspect_id)
        )
        .where(suspects.c.network_id == network_id)
        .order_by(suspects.c.reports.desc(), suspects.c.suspect_id)
    )
    return [
        {
            "suspect_id": r.suspect_id,
            "reports": int(r.reports),
            "score": None if r.score is None else float(r.score),
            "routing": describe(r) if r.basis is not None else "unrouted",
        }
        for r in conn.execute(query)
    ]
