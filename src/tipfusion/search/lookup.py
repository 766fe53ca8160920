"""Who holds an identifier: every report, suspect, network, lead and ISP answer, each sighting with whose value it is.

Set-based for a web app as much as for the command line: each reading of the typed value is one branch of one query
over `ix_observations_lookup` (current rows, in report order), grouped and limited in SQL, so a value seen a million
times costs `limit` grouped rows read from the index, not a million (p95 under 10 ms at 10 M observations:
benchmarks/lookup_scale.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    CompoundSelect,
    Connection,
    Integer,
    Select,
    String,
    Subquery,
    and_,
    bindparam,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)

from tipfusion.domain import PARTY_LABELS, SUSPECT_ROLES
from tipfusion.search.readings import REPORT, Reading, readings
from tipfusion.store.current import rows_in
from tipfusion.store.lookups import esp_scopes
from tipfusion.store.tables import (
    identifier_observations,
    isp_answers,
    isp_requests,
    lead_identifiers,
    leads,
    report_links,
    reports,
)

# Answer columns that hold an identifier of a kind: the subscriber's phones (E.164), email (canonical) and the IP asked.
_ANSWER_COLUMNS = {"phone": ("phone", "alternate_phone"), "email": ("email",), "ip": ("ip",)}
_Rows = list[dict[str, Any]]
# What a lead lists about an identifier, as search shows it.
_LEAD_COLUMNS = ("lead_ref", "agency", "kind", "value", "canonical", "country", "note", "line")


@dataclass
class SearchResult:
    """What a search found, grouped for people and machines (`as_dict` is the JSON form)."""

    query: str
    kind: str | None
    readings: list[Reading]
    sightings: list[dict[str, Any]] = field(default_factory=list)  # one row per report, kind, value and role
    reports: list[dict[str, Any]] = field(default_factory=list)
    suspects: list[dict[str, Any]] = field(default_factory=list)
    networks: list[dict[str, Any]] = field(default_factory=list)
    leads: list[dict[str, Any]] = field(default_factory=list)
    answers: list[dict[str, Any]] = field(default_factory=list)
    truncated: bool = False

    @property
    def found(self) -> bool:
        return bool(self.sightings or self.reports or self.leads or self.answers)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def search(conn: Connection, raw: str, kind: str | None, phone_region: str, limit: int = 2000) -> SearchResult:
    """Every holder of `raw` read as every plausible kind (or as `kind`)."""
    scopes = esp_scopes(conn) if kind in (None, "esp_user", "group") else []
    result = SearchResult(raw, kind, readings(raw, kind, phone_region, scopes))
    wanted: dict[str, set[str]] = defaultdict(set)
    for reading in result.readings:
        wanted[reading.kind].add(reading.canonical)
    report_numbers = {int(c) for c in wanted.pop(REPORT, set())}
    result.sightings, result.truncated = _sightings(conn, wanted, limit)
    itself = _reports_themselves(conn, report_numbers)
    result.reports = _reports(result.sightings, itself)
    result.suspects = _suspects(result.reports)
    result.networks = _networks(result.suspects)
    result.leads, result.answers = _leads_and_answers(conn, wanted) if wanted else ([], [])
    return result


def _sightings(conn: Connection, wanted: dict[str, set[str]], limit: int) -> tuple[list[dict[str, Any]], bool]:
    """The first `limit` (report, kind, value, role) groups holding a wanted value, in report order, in one query.

    Each wanted `(kind, canonical)` is its own branch, grouped and limited inside the database: `ix_observations_lookup`
    returns one value's current rows already in (report, role) order, so a branch stops after `limit + 1` groups
    however many thousand reports hold a common value. Only the limited groups are merged, ordered and joined to
    their suspect and network (one primary-key seek each).
    """
    if not wanted:
        return [], False
    pairs = [(kind, canonical) for kind, canonicals in sorted(wanted.items()) for canonical in sorted(canonicals)]
    params = {
        f"{name}_{i}": value for i, pair in enumerate(pairs) for name, value in zip(("k", "c"), pair, strict=True)
    }
    rows = [  # rows unpacked as tuples: up to `limit` a search, so no per-row attribute look-ups
        {
            "report_id": int(report_id),
            "kind": kind,
            "canonical": canonical,
            "value": value,
            "role": role,
            "whose": PARTY_LABELS.get(role, role),
            "suspects_own": role in SUSPECT_ROLES,
            "suspect_id": suspect_id,
            "network_id": network_id,
            "sightings": int(sightings),
            "first_seen_utc": first.isoformat() if first else None,
            "last_seen_utc": last.isoformat() if last else None,
        }
        for report_id, kind, canonical, role, value, sightings, first, last, suspect_id, network_id in conn.execute(
            _sightings_query(len(pairs), limit), params
        )
    ]
    return rows[:limit], len(rows) > limit


@lru_cache(maxsize=64)
def _sightings_query(branches: int, limit: int) -> Select[Any]:
    """The sightings query for `branches` wanted values, bound as `k_i` / `c_i`: built once per shape, not per search.

    A number read as every kind it could be is a dozen branches; building their expression tree again on each
    search cost more than running it (~4 ms of a 5 ms search of an NCMEC report number, ~40 ms on a loaded host),
    and a statement of the same shape is also found in SQLAlchemy's compiled cache.
    """
    parts = [
        _branch(bindparam(f"k_{i}", type_=String), bindparam(f"c_{i}", type_=String), limit) for i in range(branches)
    ]
    groups = union_all(*(select(b) for b in parts)).subquery() if branches > 1 else parts[0]
    return (
        select(groups, report_links.c.suspect_id, report_links.c.network_id)
        .select_from(groups.outerjoin(report_links, report_links.c.report_id == groups.c.report_id))
        .order_by(groups.c.report_id, groups.c.kind, groups.c.role, groups.c.canonical)
        .limit(limit + 1)
    )


def _branch(kind: BindParameter[str], canonical: BindParameter[str], limit: int) -> Subquery:
    """One wanted value's first `limit + 1` (report, role) groups, read in index order."""
    o = identifier_observations
    return (
        select(
            o.c.report_id,
            kind.label("kind"),
            canonical.label("canonical"),
            o.c.role,
            func.min(o.c.value).label("value"),
            func.count().label("sightings"),
            func.min(o.c.observed_at).label("first_seen"),
            func.max(o.c.observed_at).label("last_seen"),
        )
        .where(o.c.kind == kind, o.c.canonical == canonical, o.c.is_current.is_(True))
        .group_by(o.c.report_id, o.c.role)
        .order_by(o.c.report_id, o.c.role)
        .limit(limit + 1)
        .subquery()
    )


def _reports_themselves(conn: Connection, numbers: set[int]) -> list[dict[str, Any]]:
    if not numbers:
        return []
    query = select(reports.c.report_id, report_links.c.suspect_id, report_links.c.network_id).select_from(
        reports.outerjoin(report_links, report_links.c.report_id == reports.c.report_id)
    )
    return [
        {"report_id": int(r.report_id), "suspect_id": r.suspect_id, "network_id": r.network_id}
        for r in rows_in(conn, query, reports.c.report_id, sorted(numbers))
    ]


def _reports(sightings: list[dict[str, Any]], itself: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per report: how the value appears in it (whose, which kinds), its suspect and network."""
    out: dict[int, dict[str, Any]] = {}
    for row in itself:
        out[row["report_id"]] = {**row, "itself": True, "roles": [], "kinds": [], "sightings": 0}
    for s in sightings:
        entry = out.setdefault(
            s["report_id"],
            {
                "report_id": s["report_id"],
                "suspect_id": s["suspect_id"],
                "network_id": s["network_id"],
                "itself": False,
                "roles": [],
                "kinds": [],
                "sightings": 0,
            },
        )
        entry["roles"] = sorted({*entry["roles"], s["role"]})
        entry["kinds"] = sorted({*entry["kinds"], s["kind"]})
        entry["sightings"] += s["sightings"]
    return [out[k] for k in sorted(out)]


def _suspects(report_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per suspect, whose the value is in its reports: its own (reported person, associated account) or another
    person's there (a victim, a recipient) — a victim's phone does not make its holder the suspect."""
    out: dict[str, dict[str, Any]] = {}
    for row in report_rows:
        if not row["suspect_id"]:
            continue
        entry = out.setdefault(
            row["suspect_id"],
            {"suspect_id": row["suspect_id"], "network_id": row["network_id"], "roles": set(), "reports": []},
        )
        entry["roles"].update(row["roles"] or (["report itself"] if row["itself"] else []))
        entry["reports"].append(row["report_id"])
    return [
        {
            **entry,
            "roles": sorted(entry["roles"]),
            "whose": "; ".join(PARTY_LABELS.get(r, r) for r in sorted(entry["roles"])),
            "suspects_own": bool(entry["roles"] & SUSPECT_ROLES),
        }
        for entry in sorted(out.values(), key=lambda e: e["suspect_id"])
    ]


def _networks(suspect_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    members: dict[str, list[str]] = defaultdict(list)
    for row in suspect_rows:
        if row["network_id"]:
            members[row["network_id"]].append(row["suspect_id"])
    return [{"network_id": n, "suspects": sorted(s)} for n, s in sorted(members.items())]


def _leads_and_answers(conn: Connection, wanted: dict[str, set[str]]) -> tuple[_Rows, _Rows]:
    """The leads listing the value, and the ISP answers holding it as the subscriber's phone or email or as the IP
    asked about: one round trip for both (each part through its own index), then one for the answers' details."""
    kinds = tuple(sorted(wanted))
    params = {f"v_{i}": sorted(wanted[kind]) for i, kind in enumerate(kinds)}
    found = conn.execute(_leads_and_answers_query(kinds), params).all()
    listed = [{name: getattr(r, name) for name in _LEAD_COLUMNS} for r in found if r.source == "lead"]
    fields: dict[int, set[str]] = defaultdict(set)
    for r in found:
        if r.source == "answer":
            fields[int(r.answer_id)].add(str(r.field))
    return listed, _answer_details(conn, fields)


@lru_cache(maxsize=64)
def _leads_and_answers_query(kinds: tuple[str, ...]) -> CompoundSelect[Any]:
    """The leads-and-answers statement for the wanted kinds, each kind's values one expanding parameter `v_i`:
    built once per set of kinds rather than on every search (as the sightings query is)."""
    li, a = lead_identifiers, isp_answers
    no_int, no_text = cast(null(), Integer), cast(null(), String)
    values: dict[str, BindParameter[Any]] = {kind: bindparam(f"v_{i}", expanding=True) for i, kind in enumerate(kinds)}
    parts = [
        select(
            literal("lead").label("source"),
            *((li.c[name] if name in li.c else leads.c[name]).label(name) for name in _LEAD_COLUMNS),
            no_int.label("answer_id"),
            no_text.label("field"),
        )
        .select_from(li.outerjoin(leads, leads.c.lead_ref == li.c.lead_ref))
        .where(or_(*(and_(li.c.kind == kind, li.c.canonical.in_(values[kind])) for kind in kinds)))
    ]
    parts += [
        select(
            literal("answer").label("source"),
            *((no_int if name == "line" else no_text).label(name) for name in _LEAD_COLUMNS),
            a.c.id.label("answer_id"),
            literal(column).label("field"),
        ).where(a.c[column].in_(values[kind]))
        for kind, columns in _ANSWER_COLUMNS.items()
        if kind in values
        for column in columns
    ]
    both = union_all(*parts)
    return both.order_by(*(both.selected_columns[n] for n in ("source", "lead_ref", "line")))


def _answer_details(conn: Connection, fields: dict[int, set[str]]) -> _Rows:
    if not fields:
        return []
    a = isp_answers
    query = (
        select(
            a.c.id,
            isp_requests.c.reference,
            isp_requests.c.recipient,
            a.c.report_id,
            a.c.ip,
            a.c.port,
            a.c.observed_at,
            a.c.subscriber_name,
            a.c.phone,
            a.c.email,
            report_links.c.suspect_id,
            report_links.c.network_id,
        )
        .select_from(
            a.outerjoin(isp_requests, isp_requests.c.id == a.c.request_id).outerjoin(
                report_links, report_links.c.report_id == a.c.report_id
            )
        )
        .order_by(a.c.id)
    )
    return [
        {
            **dict(r._mapping),
            "report_id": int(r.report_id),
            "observed_at": r.observed_at.isoformat() if r.observed_at else None,
            "matched": sorted(fields[int(r.id)]),
        }
        for r in rows_in(conn, query, a.c.id, sorted(fields))  # ascending slices, each in id order: in id order
    ]
