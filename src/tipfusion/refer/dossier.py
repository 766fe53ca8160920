"""Everything the store knows about a set of suspects, gathered once into plain records: the content of a referral.

A station officer must be able to act on a package without calling the central unit, so every identifier keeps
its provenance (report, ESP, time) and its enrichment, every IP sighting its port, both clocks and whether an ISP
can name the subscriber from it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from tipfusion.domain import PARTY_LABELS, PARTY_ROLES, SUSPECT_ROLES, party_role
from tipfusion.normalise.registry import KINDS
from tipfusion.refer.words import english
from tipfusion.store.current import (
    chunked,
    current_accounts,
    current_files,
    current_report_annotations,
    current_report_versions,
)
from tipfusion.store.tables import (
    email_enrichments,
    identifier_observations,
    ip_enrichments,
    isp_answers,
    isp_request_items,
    isp_requests,
    networks,
    phone_enrichments,
    priorities,
    report_links,
    routing_decisions,
)

# What "Suspect as reported" lists, in this order: who the person is, where, how to reach them, their accounts.
AS_REPORTED_FIELDS = (
    "name",
    "age",
    "date_of_birth",
    "address",
    "phone",
    "email",
    "esp_account",
    "screen_name",
    "display_name",
)


def utc_text(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def local_text(moment: datetime | None, zone: ZoneInfo) -> str | None:
    return moment.astimezone(zone).isoformat() if moment else None


@dataclass
class Dossier:
    """A referral's content: plain JSON-ready records (the package's JSON part is this, verbatim)."""

    subject_type: str  # suspect | network
    subject_id: str
    suspects: list[str]
    network_id: str | None
    network: dict[str, Any] | None
    priority: dict[str, Any] | None
    suspect_priorities: dict[str, dict[str, Any]]
    routing: list[dict[str, Any]]
    reports: list[dict[str, Any]]
    identifiers: list[dict[str, Any]]
    ip_timeline: list[dict[str, Any]]
    other_parties: list[dict[str, Any]]  # recipients', victims' and the incident's values: never the suspect's
    files: list[dict[str, Any]]
    answers: list[dict[str, Any]]
    requests: list[dict[str, Any]]
    display_timezone: str
    # the suspect as the ESPs reported them (names, ages, addresses, phones, emails, accounts): the reported
    # person's and associated accounts only, each value with its role, reports and ESPs
    as_reported: list[dict[str, Any]] = field(default_factory=list)
    # home broadband lines the suspects share with other suspects linking kept apart: one address, possibly several
    # people — one request to the ISP names the subscriber, the accounts stay listed apart (issue 17 §2)
    households: list[dict[str, Any]] = field(default_factory=list)
    sections: list[dict[str, str]] = field(default_factory=list)
    statements: list[dict[str, str]] = field(default_factory=list)
    checklist: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def snapshot(self) -> dict[str, Any]:
        """What this package told the station: the base a supplementary referral is measured against."""
        return {
            "suspects": sorted(self.suspects),
            "reports": sorted(r["report_id"] for r in self.reports),
            "identifiers": sorted(f"{i['kind']}:{i['canonical']}" for i in self.identifiers),
            "answers": sorted(a["answer_id"] for a in self.answers),
            "networks": sorted({r["network_id"] for r in self.routing if r.get("network_id")}),
        }

    @property
    def files_not_viewed(self) -> int:
        return sum(1 for f in self.files if f["viewed_by_esp"] is False)


def shown_form(kind: str, canonical: str, values: list[str]) -> str:
    """What a person reads for an identifier: the kind says (a device ID as the ESP sent it, not as linking compares
    it); a kind the registry does not know (stored by an older version) is shown as stored."""
    known = KINDS.get(kind)
    return known.shown(canonical, values) if known else canonical


def _enrichment_text(kind: str, row: Any) -> str:
    if row is None:
        return ""
    if kind == "ip":
        parts = [
            f"AS{row.asn}" if row.asn else "",
            row.isp_name or row.as_org or "",
            english("network_type", row.network_type),
        ]
        if row.cgnat:
            parts.append("carrier-grade NAT: port needed")
        place = ", ".join(x for x in (row.city_estimate, row.country_estimate) if x)
        if place:
            parts.append(f"estimate {place} (not evidence of location)")
        if row.warning:
            parts.append(row.warning)
        return "; ".join(p for p in parts if p)
    if kind == "phone":
        parts = [row.number_type or "", row.region or ""]
        if row.original_allottee:
            parts.append(f"original allottee {row.original_allottee}")
        return "; ".join(p for p in parts if p) or ("valid" if row.valid else "not a valid number")
    if kind == "email":
        return "; ".join(
            p
            for p in (
                f"domain {row.domain}" if row.domain else "",
                "disposable address" if row.disposable else "",
                f"provider form {row.canonical}" if row.provider_rule else "",
            )
            if p
        )
    return ""


def gather(conn: Connection, subject_type: str, subject_id: str, suspect_ids: list[str], zone: ZoneInfo) -> Dossier:
    suspect_of: dict[int, str] = {}
    network_of: dict[str, str | None] = {}
    for chunk in chunked(sorted(suspect_ids)):
        for row in conn.execute(
            select(report_links.c.report_id, report_links.c.suspect_id, report_links.c.network_id).where(
                report_links.c.suspect_id.in_(chunk)
            )
        ):
            suspect_of[int(row.report_id)] = row.suspect_id
            network_of[row.suspect_id] = row.network_id
    report_ids = sorted(suspect_of)

    report_rows: list[dict[str, Any]] = []
    esp_of: dict[int, str] = {}
    annotations: dict[int, list[str]] = defaultdict(list)
    rv, ra = current_report_versions, current_report_annotations
    for chunk in chunked(report_ids):
        for row in conn.execute(select(rv).where(rv.c.report_id.in_(chunk))):
            esp_of[int(row.report_id)] = row.esp_name or row.esp_scope
            report_rows.append(
                {
                    "report_id": int(row.report_id),
                    "suspect_id": suspect_of[int(row.report_id)],
                    "version": int(row.version),
                    "esp": row.esp_name or row.esp_scope,
                    "incident_type": row.incident_type,
                    "platform": row.platform,
                    "escalation": row.escalation_text,
                    "ncmec_priority": row.ncmec_priority,
                    "incident_at_utc": utc_text(row.incident_at),
                    "incident_at_local": local_text(row.incident_at, zone),
                    "received_utc": utc_text(row.date_received),
                }
            )
        for note in conn.execute(select(ra.c.report_id, ra.c.name).where(ra.c.report_id.in_(chunk))):
            annotations[int(note.report_id)].append(note.name)
    for report in report_rows:
        report["annotations"] = sorted(annotations.get(report["report_id"], []))
    report_rows.sort(key=lambda r: (r["incident_at_utc"] or "", r["report_id"]))

    o = identifier_observations
    sightings: list[Any] = []
    for chunk in chunked(report_ids):
        sightings += conn.execute(
            select(o).where(o.c.report_id.in_(chunk), o.c.is_current.is_(True)).order_by(o.c.observed_at, o.c.id)
        ).all()
    values_of: dict[str, set[str]] = defaultdict(set)
    for s in sightings:
        values_of[s.kind].add(s.canonical)
    enrichment: dict[tuple[str, str], Any] = {}
    for kind, table, key in (
        ("ip", ip_enrichments, ip_enrichments.c.ip),
        ("phone", phone_enrichments, phone_enrichments.c.e164),
        ("email", email_enrichments, email_enrichments.c.address),
    ):
        for chunk in chunked(sorted(values_of.get(kind, ()))):
            for row in conn.execute(select(table).where(key.in_(chunk))):
                enrichment[(kind, row[0])] = row

    grouped: dict[tuple[str, str], dict[str, Any]] = {}
    others: dict[tuple[str, str, str], dict[str, Any]] = {}
    timeline: dict[tuple[str, int | None, str | None, str | None], dict[str, Any]] = {}
    upload_ip: dict[tuple[int, int], str] = {}
    for s in sightings:
        rid = int(s.report_id)
        if s.role not in SUSPECT_ROLES:  # someone else's value (a recipient, a victim) or the incident's
            _other_party(others, s, rid, esp_of.get(rid, ""), suspect_of[rid])
            continue
        entry = grouped.setdefault(
            (s.kind, s.canonical),
            {
                "kind": s.kind,
                "canonical": s.canonical,
                "values": set(),
                "roles": set(),
                "reports": set(),
                "esps": set(),
                "suspects": set(),
                "first_seen_utc": None,
                "last_seen_utc": None,
                "valid": bool(s.valid),
                "flags": set(),
                "enrichment": _enrichment_text(s.kind, enrichment.get((s.kind, s.canonical))),
                "provenance": [],
            },
        )
        entry["values"].add(s.value)
        entry["roles"].add(s.role)
        entry["reports"].add(rid)
        entry["esps"].add(esp_of.get(rid, ""))
        entry["suspects"].add(suspect_of[rid])
        if s.flags:
            entry["flags"].update(f for f in s.flags.split(",") if f)
        seen = utc_text(s.observed_at)
        if seen:
            entry["first_seen_utc"] = min(filter(None, [entry["first_seen_utc"], seen]))
            entry["last_seen_utc"] = max(filter(None, [entry["last_seen_utc"], seen]))
        if len(entry["provenance"]) < 20:
            entry["provenance"].append(f"rid {rid} ({esp_of.get(rid, '')}) {s.path}")
        if s.kind == "ip":
            _sighting(timeline, s, seen, local_text(s.observed_at, zone), enrichment, esp_of.get(rid, ""), suspect_of)
            if s.file_ordinal is not None:
                upload_ip[(rid, int(s.file_ordinal))] = s.canonical
    identifiers = []
    for entry in grouped.values():
        identifiers.append(
            {
                **entry,
                "shown": shown_form(entry["kind"], entry["canonical"], sorted(entry["values"])),
                "values": sorted(entry["values"]),
                "roles": sorted(entry["roles"]),
                "reports": sorted(entry["reports"]),
                "esps": sorted(x for x in entry["esps"] if x),
                "suspects": sorted(entry["suspects"]),
                "flags": sorted(entry["flags"]),
            }
        )
    other_parties = sorted(
        (
            {**entry, "values": sorted(entry["values"]), "reports": sorted(entry["reports"])}
            for entry in others.values()
        ),
        key=lambda e: (_ROLE_ORDER.get(e["role"], 99), _KIND_ORDER.get(e["kind"], 99), e["kind"], e["canonical"]),
    )
    identifiers.sort(key=lambda i: (_KIND_ORDER.get(i["kind"], 99), i["kind"], -len(i["reports"]), i["canonical"]))
    ip_timeline = sorted(
        (
            {**t, "reports": sorted(t["reports"]), "esps": sorted(t["esps"]), "suspects": sorted(t["suspects"])}
            for t in timeline.values()
        ),
        key=lambda t: (t["time_utc"] or "", t["ip"], t["port"] or 0, t["event"] or ""),
    )

    by_file: dict[tuple[int, str], dict[str, Any]] = {}
    for chunk in chunked(report_ids):
        cf = current_files
        for row in conn.execute(select(cf).where(cf.c.report_id.in_(chunk)).order_by(cf.c.report_id, cf.c.ordinal)):
            file_key = (int(row.report_id), str(row.file_id or f"#{row.ordinal}"))
            _merge_file(
                by_file,
                file_key,
                {
                    "report_id": int(row.report_id),
                    "file_id": row.file_id,
                    "file_name": row.file_name or row.original_file_name,
                    "original_file_name": row.original_file_name,
                    "hashes": row.hashes or {},
                    "uploaded_utc": utc_text(row.uploaded_at),
                    "uploaded_local": local_text(row.uploaded_at, zone),
                    "upload_ip": upload_ip.get((int(row.report_id), int(row.ordinal))),
                    "relevance": row.relevance,
                    "classification": row.industry_classification,
                    "annotations": sorted((row.annotations or {}).keys())
                    if isinstance(row.annotations, dict)
                    else sorted(row.annotations or []),
                    "viewed_by_esp": row.viewed_by_esp,
                    "publicly_available": row.publicly_available,
                    "details_documents": 1,
                },
            )
    file_rows = list(by_file.values())
    file_rows.sort(key=lambda f: (f["report_id"], f["file_name"] or ""))

    answers: list[dict[str, Any]] = []
    requests: dict[str, dict[str, Any]] = {}
    for chunk in chunked(report_ids):
        for row in conn.execute(select(isp_answers).where(isp_answers.c.report_id.in_(chunk))):
            answers.append(
                {
                    "answer_id": int(row.id),
                    "report_id": int(row.report_id),
                    "ip": row.ip,
                    "port": row.port,
                    "time_utc": utc_text(row.observed_at),
                    "subscriber_name": row.subscriber_name,
                    "address": row.address,
                    "pin": row.pin,
                    "phone": row.phone,
                    "alternate_phone": row.alternate_phone,
                    "email": row.email,
                    "id_document": " ".join(x for x in (row.id_document_type, row.id_document_number) if x),
                    "connection_type": row.connection_type,
                    "received_utc": utc_text(row.received_at),
                }
            )
        for item in conn.execute(
            select(
                isp_requests.c.reference,
                isp_requests.c.recipient,
                isp_requests.c.status,
                isp_requests.c.sent_at,
                isp_requests.c.due_at,
                isp_requests.c.sent_reference,
                isp_request_items.c.report_id,
            )
            .join(isp_request_items, isp_request_items.c.request_id == isp_requests.c.id)
            .where(isp_request_items.c.report_id.in_(chunk))
        ):
            request = requests.setdefault(
                item.reference,
                {
                    "reference": item.reference,
                    "recipient": item.recipient,
                    "status": item.status,
                    "sent_utc": utc_text(item.sent_at),
                    "sent_reference": item.sent_reference,  # the recipient's or the unit's number it went under
                    "due_utc": utc_text(item.due_at),
                    "due_local": local_text(item.due_at, zone),
                    "items": 0,
                },
            )
            request["items"] += 1
    answers.sort(key=lambda a: a["answer_id"])

    ranks = {
        row.object_id: {"score": float(row.score), "pinned": bool(row.pinned), "factors": row.factors}
        for chunk in chunked(sorted(set(suspect_ids) | {subject_id}))
        for row in conn.execute(
            select(priorities).where(
                priorities.c.object_type.in_(["suspect", "network"]), priorities.c.object_id.in_(chunk)
            )
        )
    }
    routing = [
        {
            "suspect_id": row.suspect_id,
            "district": row.district,
            "station": row.station,
            "basis": row.basis,
            "confidence": row.confidence,
            "network_id": row.network_id,
            "network_central": bool(row.network_central),
            "decided_by": _decided_by(row.basis, row.detail or {}),
            "notes": (row.detail or {}).get("notes", []),
            "deconfliction": (row.detail or {}).get("deconfliction", []),
        }
        for chunk in chunked(sorted(suspect_ids))
        for row in conn.execute(select(routing_decisions).where(routing_decisions.c.suspect_id.in_(chunk)))
    ]
    routing.sort(key=lambda r: r["suspect_id"])
    network_id = subject_id if subject_type == "network" else network_of.get(subject_id)
    network = None
    if network_id:
        found = conn.execute(select(networks).where(networks.c.network_id == network_id)).first()
        if found is not None:
            network = {
                **(found.summary or {}),
                "network_id": network_id,
                "suspect_count": found.suspects,
                "report_count": found.reports,
            }
    return Dossier(
        subject_type=subject_type,
        subject_id=subject_id,
        suspects=sorted(suspect_ids),
        network_id=network_id,
        network=network,
        priority=ranks.get(subject_id),
        suspect_priorities={s: ranks[s] for s in sorted(suspect_ids) if s in ranks},
        routing=routing,
        reports=report_rows,
        identifiers=identifiers,
        ip_timeline=ip_timeline,
        other_parties=other_parties,
        files=file_rows,
        answers=answers,
        requests=sorted(requests.values(), key=lambda r: r["reference"]),
        display_timezone=zone.key,
        as_reported=as_reported(conn, report_ids, suspect_of, esp_of, sightings),
        households=households(conn, sightings, enrichment, suspect_of),
    )


HOUSEHOLD_NOTE = (
    "one home broadband line, several suspects linking kept apart: one address, possibly several people "
    "(family, flatmates) — the ISP names one subscriber; each account is listed apart, none is taken to be another"
)


def households(
    conn: Connection, sightings: list[Any], enrichment: dict[tuple[str, str], Any], suspect_of: dict[int, str]
) -> list[dict[str, Any]]:
    """Each fixed-line address a referred suspect was seen on that other suspects were seen on too (as the reported
    person), with every suspect on it and their reports and companies: the household a station visits once."""
    lines = sorted(
        {
            s.canonical
            for s in sightings
            if s.kind == "ip"
            and s.role in SUSPECT_ROLES
            and getattr(enrichment.get(("ip", s.canonical)), "network_type", None) == "fixed"
        }
    )
    o = identifier_observations
    on_line: dict[str, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    for chunk in chunked(lines):
        for row in conn.execute(
            select(o.c.canonical, o.c.report_id, report_links.c.suspect_id)
            .join(report_links, report_links.c.report_id == o.c.report_id)
            .where(
                o.c.kind == "ip",
                o.c.canonical.in_(chunk),
                o.c.is_current.is_(True),
                o.c.role.in_(sorted(SUSPECT_ROLES)),
            )
        ):
            on_line[row.canonical][row.suspect_id].add(int(row.report_id))
    referred = set(suspect_of.values())
    found = []
    for line, held in sorted(on_line.items()):
        if len(held) < 2:
            continue
        found.append(
            {
                "line": line,
                "enrichment": _enrichment_text("ip", enrichment.get(("ip", line))),
                "suspects": sorted(held),
                "in_this_referral": sorted(set(held) & referred),
                "elsewhere": sorted(set(held) - referred),
                "reports": [
                    f"{suspect}: {', '.join(map(str, sorted(reports)))}" for suspect, reports in sorted(held.items())
                ],
                "note": HOUSEHOLD_NOTE,
            }
        )
    return found


_ROLE_ORDER = {role: n for n, role in enumerate(PARTY_ROLES)}


def _sighting(
    timeline: dict[tuple[str, int | None, str | None, str | None], dict[str, Any]],
    s: Any,
    seen: str | None,
    local: str | None,
    enrichment: dict[tuple[str, str], Any],
    esp: str,
    suspect_of: dict[int, str],
) -> None:
    """One row per distinct sighting (IP, port, second, event): an ESP often reports one login or upload under the
    account and again under each file, and a network's reports repeat it; the row lists every report."""
    rid = int(s.report_id)
    key = (s.canonical, s.port, seen, s.event_name)
    row = timeline.get(key)
    if row is None:
        ip_row = enrichment.get(("ip", s.canonical))
        row = timeline[key] = {
            "time_utc": seen,
            "time_local": local,
            "times_as_received": [],
            "ip": s.canonical,
            "port": s.port,
            "event": s.event_name,
            "isp": (ip_row.isp_name or ip_row.as_org) if ip_row is not None else None,
            "identifiable": s.identifiable,
            "identifiability": s.identifiability_note,
            "reports": set(),
            "esps": set(),
            "suspects": set(),
            "sightings": 0,
        }
    elif s.identifiable and not row["identifiable"]:  # one report gave what the ISP needs (a zone, a port)
        row["identifiable"], row["identifiability"] = s.identifiable, s.identifiability_note
    if s.observed_at_raw and s.observed_at_raw not in row["times_as_received"]:
        row["times_as_received"].append(s.observed_at_raw)
    row["reports"].add(rid)
    if esp:
        row["esps"].add(esp)
    row["suspects"].add(suspect_of[rid])
    row["sightings"] += 1


def _decided_by(basis: str, detail: dict[str, Any]) -> list[str]:
    """The evidence a routing decision went by (the address it was routed by). Decisions stored before routing
    recorded it fall back to the located evidence of the decision's kind."""
    if "decided_by" in detail:
        return [str(x) for x in detail["decided_by"]]
    return [str(e["detail"]) for e in detail.get("evidence", []) if e.get("kind") == basis and e.get("point")]


def address_text(address: dict[str, Any]) -> str:
    """An address as the ESP gave it, one line, its parts in the order received (its type is said apart)."""
    return ", ".join(str(v) for k, v in address.items() if v not in (None, "") and k != "type")


class _AsReported:
    """The suspect as the ESPs reported them: from the current version's reported-person and associated accounts
    only (never a recipient's, a victim's or the reporter's), each value once per suspect with every report."""

    def __init__(self, suspect_of: dict[int, str], esp_of: dict[int, str]):
        self.suspect_of = suspect_of
        self.esp_of = esp_of
        self.rows: dict[tuple[str, str, str, str], dict[str, Any]] = {}

    def add(self, rid: int, role: str, what: str, value: Any, *details: str) -> None:
        """One value once per suspect and role, with every report, company and detail (type, form as sent)."""
        if value in (None, ""):
            return
        key = (self.suspect_of[rid], what, str(value), role)
        row = self.rows.setdefault(
            key,
            {
                "suspect_id": key[0],
                "field": what,
                "value": str(value),
                "details": [],
                "role": role,
                "role_label": PARTY_LABELS.get(role, role),
                "reports": set(),
                "esps": set(),
            },
        )
        row["reports"].add(rid)
        if self.esp_of.get(rid):
            row["esps"].add(self.esp_of[rid])
        row["details"] += [d for d in details if d and d not in row["details"]]

    def account(self, acc: Any, role: str) -> None:
        rid = int(acc.report_id)
        details = acc.details if isinstance(acc.details, dict) else {}
        name = " ".join(str(x) for x in (acc.first_name, details.get("middleName"), acc.last_name) if x)
        self.add(rid, role, "name", name)
        self.add(rid, role, "age", acc.age, f"also given as {details['age']}" if details.get("age") else "")
        self.add(rid, role, "date_of_birth", acc.date_of_birth.isoformat() if acc.date_of_birth else None)
        for address in details.get("addresses") or []:
            if isinstance(address, dict):
                kind = f"{address['type']} address" if address.get("type") else ""
                self.add(rid, role, "address", address_text(address), kind)
        names = [str(x) for x in details.get("displayNames") or ([acc.display_name] if acc.display_name else [])]
        if acc.esp_identifier:  # the account with its screen and display names in one row
            kind = f"{details['type']} account" if details.get("type") else ""
            about = [str(x) for x in (details.get("platform"), acc.esp_service, kind) if x]
            if acc.screen_name:
                about.append(f"screen name {acc.screen_name}")
            if names:
                about.append("display name " + ", ".join(names))
            self.add(rid, role, "esp_account", acc.esp_identifier, *about)
            return
        self.add(rid, role, "screen_name", acc.screen_name)
        for display in names:
            self.add(rid, role, "display_name", display)

    def contact(self, s: Any) -> None:
        """A phone or an email of one of the suspect's accounts, normalised, with what the ESP sent if different."""
        self.add(
            int(s.report_id),
            s.role,
            s.kind,
            s.value,
            f"as sent: {s.raw.strip()}" if s.raw and s.raw.strip() != s.value else "",
            "verified by the company" if s.verified else "",
            "found in the account's free text" if s.origin == "free_text" else "",
        )

    def records(self) -> list[dict[str, Any]]:
        order = {name: n for n, name in enumerate(AS_REPORTED_FIELDS)}
        return sorted(
            ({**r, "reports": sorted(r["reports"]), "esps": sorted(r["esps"])} for r in self.rows.values()),
            key=lambda r: (
                r["suspect_id"],
                order[r["field"]],
                _ROLE_ORDER.get(r["role"], 99),
                -len(r["reports"]),
                r["value"],
            ),
        )


def as_reported(
    conn: Connection,
    report_ids: Sequence[int],
    suspect_of: dict[int, str],
    esp_of: dict[int, str],
    sightings: Iterable[Any] | None = None,
    parties: frozenset[str] = SUSPECT_ROLES,
) -> list[dict[str, Any]]:
    """Names, ages, addresses, phones, emails and accounts as the ESPs gave them, for the accounts whose party is
    in `parties` (the suspect's side by default; other people's, apart, for a profile that lists them).

    An account's party follows `party_role`: an account associated with a recipient is the recipient's, never the
    suspect's. `sightings` are the reports' current observations when the caller already holds them."""
    found = _AsReported(suspect_of, esp_of)
    a = current_accounts
    held: dict[int, list[Any]] = defaultdict(list)
    for chunk in chunked(list(report_ids)):
        for acc in conn.execute(select(a).where(a.c.report_id.in_(chunk)).order_by(a.c.report_id, a.c.ordinal)):
            held[int(acc.report_id)].append(acc)
    party_of: dict[tuple[int, int], str] = {}
    for rid, people in held.items():
        role_of = {int(acc.ordinal): acc.role for acc in people}
        for acc in people:
            party = party_role(
                acc.role, role_of.get(int(acc.parent_ordinal)) if acc.parent_ordinal is not None else None
            )
            party_of[(rid, int(acc.ordinal))] = party
            if party in parties:
                found.account(acc, party)
    if sightings is None:
        o = identifier_observations
        sightings = (
            s
            for chunk in chunked(list(report_ids))
            for s in conn.execute(
                select(o).where(o.c.report_id.in_(chunk), o.c.is_current.is_(True), o.c.kind.in_(["phone", "email"]))
            )
        )
    for s in sightings:
        account = (int(s.report_id), -1 if s.account_ordinal is None else int(s.account_ordinal))
        if s.kind in ("phone", "email") and party_of.get(account) in parties:
            found.contact(s)
    return found.records()


def _other_party(others: dict[tuple[str, str, str], dict[str, Any]], s: Any, rid: int, esp: str, suspect: str) -> None:
    """A value that is not the suspect's, kept apart with whose it is (a recipient who is another suspect is
    network evidence; a child victim is a safeguarding fact)."""
    entry = others.setdefault(
        (s.role, s.kind, s.canonical),
        {
            "role": s.role,
            "role_label": PARTY_LABELS.get(s.role, s.role),
            "kind": s.kind,
            "canonical": s.canonical,
            "values": set(),
            "reports": set(),
            "esp": esp,
            "in_reports_of": suspect,
            "provenance": [],
        },
    )
    entry["values"].add(s.value)
    entry["reports"].add(rid)
    if len(entry["provenance"]) < 20:
        entry["provenance"].append(f"rid {rid} ({esp}) {s.path}")


def _merge_file(by_file: dict[tuple[int, str], dict[str, Any]], key: tuple[int, str], row: dict[str, Any]) -> None:
    """Several fileDetails documents may describe one file: one row per file, every document's details in it
    (hashes and annotations joined; the first value of each field, later different ones kept beside it)."""
    held = by_file.get(key)
    if held is None:
        by_file[key] = row
        return
    held["details_documents"] += 1
    held["hashes"] = {**row["hashes"], **held["hashes"]}
    held["annotations"] = sorted(set(held["annotations"]) | set(row["annotations"]))
    for name, value in row.items():
        if name in {"hashes", "annotations", "details_documents", "report_id", "file_id"} or value is None:
            continue
        if held.get(name) is None:
            held[name] = value
        elif held[name] != value:
            also = held.setdefault("also_reported", {})
            if value not in also.setdefault(name, []):
                also[name].append(value)


# What a station can act on first: numbers and addresses a provider can name, then accounts and screen names.
_KIND_ORDER = {name: kind.rank for name, kind in KINDS.items()}
