"""`tipfusion route` and `tipfusion jurisdictions …`: import boundaries, gather evidence, decide, store."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shapely.geometry import mapping, shape
from sqlalchemy import Connection, Engine, delete, insert, select

from tipfusion.audit import UnitOfWork
from tipfusion.audit.decisions import record_decision, require_reason
from tipfusion.errors import NotFound, TipfusionError
from tipfusion.route.geocode import HINT, geocode
from tipfusion.route.jurisdictions import Jurisdiction, Station, load_gazetteer, load_landline_areas, read_layer
from tipfusion.route.routing import Decision, Evidence, decide
from tipfusion.route.settings import RoutingSettings
from tipfusion.store import deconfliction, links
from tipfusion.store import routing as reads
from tipfusion.store.bulk import insert_rows
from tipfusion.store.db import ensure_schema
from tipfusion.store.deconfliction import SUBSCRIBER_ID
from tipfusion.store.repository import now
from tipfusion.store.tables import police_stations, routing_decisions, routing_overrides, suspects

ROUTING_FIELDS = [
    "suspect_id",
    "district",
    "station",
    "basis",
    "confidence",
    "network_id",
    "network_central",
    "overridden",
    "notes",
    "deconfliction",
]


def import_jurisdiction(
    engine: Engine,
    actor: str,
    path: Path,
    districts_table: Path | None = None,
    station_field: str = "station",
    district_field: str = "district",
    synthetic: bool = False,
) -> tuple[int, list[str]]:
    """Replace the stored station layer with the one in `path` (problems listed; bad features left out)."""
    stations, problems = read_layer(path, station_field, district_field, districts_table)
    if not stations:
        raise TipfusionError(f"{path}: no usable station polygons" + (f" ({problems[0]})" if problems else ""))
    ensure_schema(engine)
    with UnitOfWork(engine, actor) as uow:
        conn = uow.conn
        conn.execute(delete(police_stations))
        stamp = now()
        conn.execute(
            insert(police_stations),
            [
                {
                    "station_id": s.station_id,
                    "district": s.district,
                    "geometry": mapping(s.geometry),
                    "source": str(path),
                    "synthetic": synthetic,
                    "imported_at": stamp,
                }
                for s in stations
            ],
        )
        uow.record(
            "jurisdiction.imported",
            "jurisdiction",
            str(path),
            {"stations": len(stations), "problems": [str(p) for p in problems], "synthetic": synthetic},
        )
    return len(stations), [str(p) for p in problems]


def load_jurisdiction(engine: Engine) -> Jurisdiction:
    with engine.connect() as conn:
        rows = conn.execute(select(police_stations)).all()
    if not rows:
        raise NotFound("no jurisdiction loaded: tipfusion jurisdictions import FILE (or `jurisdictions demo`)")
    return Jurisdiction([Station(r.station_id, r.district, shape(r.geometry)) for r in rows])


def gather_evidence(
    engine: Engine, gazetteer: dict[str, tuple[float, float, str]], landlines: list[tuple[str, str]] | None = None
) -> dict[str, list[Evidence]]:
    """Routing evidence per suspect, from the reports of the suspect's reported person."""
    evidence: dict[str, list[Evidence]] = defaultdict(list)
    with engine.connect() as conn:
        suspect_of = links.report_suspects(conn)
        for report, addresses in reads.reported_person_addresses(conn):
            if report not in suspect_of:
                continue
            for given in addresses:
                pin = str(given.get("zipCode") or given.get("postalCode") or "").strip()
                country = str(given.get("country") or "").strip().upper()
                if pin and country in {"", "IN"}:
                    text = ", ".join(str(v) for k, v in given.items() if v and k != "type")
                    locality = " ".join(str(given.get(k) or "") for k in ("address", "street1", "city"))
                    found = geocode(pin, locality, gazetteer)
                    evidence[suspect_of[report]].append(
                        Evidence(
                            "report_address",
                            f"report {report}: {text}",
                            (found.lon, found.lat) if found else None,
                            hint_only=bool(found and found.precision == HINT),
                        )
                    )
        for report, address, postcode in reads.isp_answer_addresses(conn):
            if report in suspect_of:
                found = geocode(str(postcode or ""), str(address or ""), gazetteer)
                evidence[suspect_of[report]].append(
                    Evidence(
                        "isp_answer",
                        f"report {report}: subscriber address {address or ''} {postcode or ''}".strip(),
                        (found.lon, found.lat) if found else None,
                        hint_only=bool(found and found.precision == HINT),
                    )
                )
        for report, number, area in reads.landline_sightings(conn):
            if report in suspect_of:
                place = next((d for prefix, d in landlines or [] if number.startswith(prefix)), area)
                if place:
                    evidence[suspect_of[report]].append(
                        Evidence("landline_area", f"report {report}: landline {number} ({place})", place=place)
                    )
        for report, city in reads.fixed_ip_cities(conn):
            if report in suspect_of:
                evidence[suspect_of[report]].append(
                    Evidence("ip_city", f"report {report}: IP estimate {city}", place=city)
                )
        for report, city in reads.esp_location_cities(conn):
            if report in suspect_of:
                evidence[suspect_of[report]].append(
                    Evidence("esp_location", f"report {report}: ESP estimate {city}", place=city)
                )
    return evidence


@dataclass
class RoutingSummary:
    suspects: int
    deconfliction: int
    to_station: int
    to_district: int
    central: int
    networks_central: int
    overridden: int
    by_station: dict[str, int]


def route_all(
    engine: Engine,
    actor: str,
    gazetteer_path: Path | None,
    landlines_path: Path | None = None,
    settings: RoutingSettings | None = None,
) -> RoutingSummary:
    """Decide every suspect's station or district; the settings it decided by are recorded with the run."""
    settings = settings or RoutingSettings()
    ensure_schema(engine)
    jurisdiction = load_jurisdiction(engine)
    evidence = gather_evidence(engine, load_gazetteer(gazetteer_path), load_landline_areas(landlines_path))
    with UnitOfWork(engine, actor) as uow:
        conn = uow.conn
        members = list(conn.execute(select(suspects.c.suspect_id, suspects.c.network_id)))
        overrides = {
            o.suspect_id: o
            for o in conn.execute(
                select(routing_overrides).where(routing_overrides.c.active.is_(True)).order_by(routing_overrides.c.id)
            )
        }
        decisions: dict[str, Decision] = {}
        for suspect, _ in members:
            decision = decide(evidence.get(suspect, []), jurisdiction)
            override = overrides.get(suspect)
            if override is not None:
                decision = Decision(
                    override.district,
                    override.station,
                    "analyst override",
                    "high",
                    [f"{override.actor}: {override.reason}"],
                    decision.evidence,
                    [f"{override.actor}: {override.reason}"],
                )
            decisions[suspect] = decision
        districts_of: dict[str, set[str]] = defaultdict(set)
        for suspect, network in members:
            if network and decisions[suspect].district:
                districts_of[network].add(decisions[suspect].district or "")
        central_networks = {n for n, d in districts_of.items() if len(d) > 1}
        conflicts = deconflict(uow, decisions, settings)
        conn.execute(delete(routing_decisions))
        insert_rows(
            conn,
            routing_decisions,
            (
                "suspect_id",
                "district",
                "station",
                "basis",
                "confidence",
                "network_id",
                "network_central",
                "detail",
                "overridden",
            ),
            [
                (
                    s,
                    d.district,
                    d.station,
                    d.basis,
                    d.confidence,
                    n,
                    n in central_networks,
                    {
                        "notes": d.notes,
                        "evidence": d.evidence,
                        "decided_by": d.decided_by,
                        "deconfliction": conflicts.get(s, []),
                    },
                    s in overrides,
                )
                for s, n in members
                for d in [decisions[s]]
            ],
        )
        by_station: dict[str, int] = defaultdict(int)
        for d in decisions.values():
            if d.station:
                by_station[d.station] += 1
        summary = RoutingSummary(
            len(members),
            len(conflicts),
            sum(1 for d in decisions.values() if d.station),
            sum(1 for d in decisions.values() if d.district and not d.station),
            sum(1 for d in decisions.values() if not d.district),
            len(central_networks),
            len(overrides),
            dict(sorted(by_station.items())),
        )
        recorded = {**summary.__dict__, "settings": settings.as_dict()}
        uow.record("route.completed", "routing", "all", recorded)
    return summary


def deconflict(
    uow: UnitOfWork, decisions: dict[str, Decision], settings: RoutingSettings | None = None
) -> dict[str, list[str]]:
    """Flags for both sides when two suspects routed to different stations or districts share an identifier, and
    for suspects named in another agency's lead list — so two teams never work one person unknowingly.

    Only the holders it needs are read (`store.deconfliction`): the values of the checked kinds 2..N suspects hold,
    grouped in the database, and the holders of the values lead lists and open cases name."""
    from tipfusion.link.extract import lead_evidence

    conn = uow.conn
    settings = settings or RoutingSettings()
    kinds = set(settings.deconflict_kinds)
    holders = Holders(conn, kinds)
    shared = holders.shared(settings.deconflict_max_holders)
    leads = [(ref, *lead_evidence(listed, value)) for ref, listed, value in reads.lead_values(conn)]
    leads = [(ref, kind, key) for ref, kind, key in leads if kind in kinds]
    named = holders.of({(kind, key) for _, kind, key in leads})
    cases = open_cases(conn)
    in_cases = holders.of(
        {(kind, key) for case in cases for kind, key in case_identifiers(case) if kind in kinds}, named
    )
    name = value_namer(conn, {key for kind, key in (*shared, *in_cases) if kind == "device"})
    flags: dict[str, list[str]] = defaultdict(list)

    def place(suspect: str) -> str:
        decision = decisions.get(suspect)
        return (decision.station or decision.district or "central") if decision else "unrouted"

    for (kind, key), owners in shared.items():
        for suspect in owners:
            for other in sorted(owners - {suspect}):
                if place(other) != place(suspect):
                    flags[suspect].append(f"{name(kind, key)} also held by {other} ({place(other)})")
    agency = reads.lead_agencies(conn)
    for lead_ref, kind, key in leads:
        for suspect in named.get((kind, key), set()):
            flags[suspect].append(f"named in lead {lead_ref} from {agency.get(lead_ref) or 'another agency'}")
    for suspect, notes in against_cases(uow, cases, in_cases, place, name, kinds).items():
        flags[suspect].extend(notes)
    return {s: sorted(set(f)) for s, f in flags.items()}


class Holders:
    """Which suspects hold a value of the kinds deconfliction checks (the store reads, keyed as link keys them)."""

    def __init__(self, conn: Connection, kinds: set[str]) -> None:
        from tipfusion.link.extract import subscriber_key

        self.conn, self.kinds = conn, kinds
        self.subscribers: dict[tuple[str, str], set[str]] = defaultdict(set)
        if SUBSCRIBER_ID in kinds:
            for document in deconfliction.subscriber_documents(conn):
                if document.id_number:
                    key = subscriber_key(document.id_type, document.id_number)
                    self.subscribers[(SUBSCRIBER_ID, key)].add(document.suspect)

    def shared(self, max_holders: int) -> dict[tuple[str, str], set[str]]:
        """The values 2..`max_holders` distinct suspects hold, with their holders."""
        found: dict[tuple[str, str], set[str]] = defaultdict(set)
        for held in deconfliction.shared_values(self.conn, self.kinds, max_holders):
            found[(held.kind, held.key)].add(held.suspect)
        found.update({v: set(s) for v, s in self.subscribers.items() if 2 <= len(s) <= max_holders})
        return dict(found)

    def of(
        self, values: set[tuple[str, str]], known: dict[tuple[str, str], set[str]] | None = None
    ) -> dict[tuple[str, str], set[str]]:
        """The holders of `values` (those in `known` not read again), however many hold each."""
        known = known or {}
        found: dict[tuple[str, str], set[str]] = defaultdict(set)
        found.update({v: known[v] for v in values if v in known})
        for held in deconfliction.holders_of(self.conn, values - set(known)):
            found[(held.kind, held.key)].add(held.suspect)
        found.update({v: self.subscribers[v] for v in values if v in self.subscribers})
        return dict(found)


def value_namer(conn: Connection, devices: set[str]) -> Callable[[str, str], str]:
    """`kind value` as a station reads it: a device as the ESPs sent it (a 15-digit IMEI, an IMEISV), not the 14
    digits linking compares; every other kind as compared. `devices`: the device keys it will be asked for."""
    received: dict[str, set[str]] = defaultdict(set)
    for canonical, value in deconfliction.device_values(conn, devices):
        received[canonical].add(value)
    return lambda kind, key: f"{kind} {', '.join(sorted(received.get(key) or {key})) if kind == 'device' else key}"


def open_cases(conn: Connection) -> list[Any]:
    """The open cases, with their referral's reference, suspects and snapshot."""
    from tipfusion.store.tables import cases, referrals
    from tipfusion.track.service import OPEN

    return list(
        conn.execute(
            select(
                cases.c.id,
                cases.c.station,
                cases.c.district,
                cases.c.state,
                referrals.c.reference,
                referrals.c.suspects,
                referrals.c.snapshot,
            )
            .join(referrals, referrals.c.id == cases.c.referral_id)
            .where(cases.c.state.in_(OPEN))
        ).all()
    )


def case_identifiers(case: Any) -> list[tuple[str, str]]:
    """(kind, key) of the identifiers a case's referral snapshot names (`kind:key`)."""
    out = []
    for item in (case.snapshot or {}).get("identifiers", []):
        kind, _, key = str(item).partition(":")
        out.append((kind, key))
    return out


def against_cases(
    uow: UnitOfWork,
    open_cases: list[Any],
    holders: dict[tuple[str, str], set[str]],
    place: Callable[[str], str],
    name: Callable[[str, str], str],
    kinds: set[str],
) -> dict[str, list[str]]:
    """Suspects whose person or identifiers already sit in an open case of another station or district: flag the
    suspect's routing and, once, the case (a case event the station sees)."""
    flags: dict[str, list[str]] = defaultdict(list)
    if not open_cases:  # nothing to flag: the tracking service's import is spared too
        return flags
    from tipfusion.store.tables import case_events
    from tipfusion.track.service import flag_case

    conn = uow.conn
    resolve = links.alias_resolver(conn)
    noted = {
        (int(case_id), str((fields or {}).get("note")))
        for case_id, fields in conn.execute(
            select(case_events.c.case_id, case_events.c.fields).where(case_events.c.action == "flag")
        )
    }
    for case in open_cases:
        where = case.station or case.district or "central"
        members = {resolve(s) for s in case.suspects or []}
        for suspect in members:
            if place(suspect) not in (where, "unrouted"):
                flags[suspect].append(f"in open case {case.id} ({case.reference}, {case.state}) with {where}")
        for kind, key in case_identifiers(case):
            if kind not in kinds:
                continue
            for suspect in holders.get((kind, key), set()) - members:
                if place(suspect) == where:
                    continue
                flags[suspect].append(f"{name(kind, key)} is in open case {case.id} ({case.reference}) with {where}")
                note = f"{name(kind, key)} is also held by suspect {suspect}, routed to {place(suspect)}"
                if (int(case.id), note) not in noted:
                    flag_case(uow, int(case.id), note, {"suspect": suspect})
                    noted.add((int(case.id), note))
    return flags


def override_routing(
    engine: Engine, actor: str, suspect_id: str, reason: str, district: str | None, station: str | None
) -> int:
    require_reason(reason, "a routing override")
    jurisdiction = load_jurisdiction(engine)
    if station is not None:
        match = next((s for s in jurisdiction.stations if s.station_id == station), None)
        if match is None:
            raise NotFound(f"no station {station!r} in the jurisdiction")
        district = district or match.district
    elif district is None or jurisdiction.district_named(district) is None:
        raise NotFound(f"name a station or a district of the jurisdiction (got {district!r})")
    with UnitOfWork(engine, actor) as uow:
        if uow.conn.execute(select(suspects.c.suspect_id).where(suspects.c.suspect_id == suspect_id)).first() is None:
            raise NotFound(f"no suspect {suspect_id}")
        number = record_decision(
            uow,
            routing_overrides,
            "route.override",
            "suspect",
            suspect_id,
            {"suspect_id": suspect_id, "district": district, "station": station, "reason": reason},
            {"district": district, "station": station, "reason": reason},
        )
    return number


def routing_rows(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(routing_decisions).order_by(routing_decisions.c.suspect_id)).all()
    return [
        {
            "suspect_id": r.suspect_id,
            "district": r.district or "",
            "station": r.station or "",
            "basis": r.basis,
            "confidence": r.confidence,
            "network_id": r.network_id or "",
            "network_central": r.network_central,
            "overridden": r.overridden,
            "notes": "; ".join((r.detail or {}).get("notes", [])),
            "deconfliction": "; ".join((r.detail or {}).get("deconfliction", [])),
        }
        for r in rows
    ]


def stations_per_district(engine: Engine) -> tuple[dict[str, int], bool]:
    """How many stations each district has in the layer now loaded, and whether the layer is SYNTHETIC."""
    with engine.connect() as conn:
        rows = conn.execute(select(police_stations.c.district, police_stations.c.synthetic)).all()
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        counts[row.district] += 1
    return dict(sorted(counts.items())), any(row.synthetic for row in rows)
