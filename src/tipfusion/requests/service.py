"""`tipfusion requests …`: build, track and follow up what is asked of ISPs.

Only sightings of the reported person are asked about (their accounts, accounts associated with them, and the
uploads of their files) — never the child's or another recipient's.

A sighting already in an earlier request is not asked again. Each request is stored with its items (to match the
ISP's answer later), every file it wrote and their SHA-256, and its dates: sent, and due 72 hours after sending.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, select, update

from tipfusion.audit import AuditEvent, append
from tipfusion.config import Settings
from tipfusion.documents.manifest import file_stem, part_path
from tipfusion.domain import SUSPECT_SIDE_SQL
from tipfusion.enrich.isp_table import load_isp_table
from tipfusion.errors import NotFound, TipfusionError
from tipfusion.keys.signing import load_signer
from tipfusion.requests.isp import Sighting, group_requests
from tipfusion.requests.letters import CaseLine, LetterContext, case_line, write_request
from tipfusion.store import repository as repo
from tipfusion.store.bulk import insert_rows, rows_of
from tipfusion.store.db import ensure_schema
from tipfusion.store.repository import now
from tipfusion.store.tables import isp_request_items, isp_requests
from tipfusion.track.service import case_references

ANSWER_WINDOW = timedelta(hours=72)  # IT Rules 2021 r.3(1)(j)


@dataclass
class BuiltRequest:
    request_id: int
    reference: str
    isp: str
    items: int
    excluded: int
    folder: Path
    files: dict[str, str]

    def part(self, suffix: str) -> Path:
        """A part of the sealed notice by its suffix: `.pdf`, `.docx`, `-annex.csv`, `-annex.xlsx`."""
        return part_path(self.folder, self.reference, suffix)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "isp"


def _time(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


def sighting_key(sighting: Sighting) -> str:
    """One sighting as a form's checkbox names it: IP, port and the exact second (what an ISP item is keyed on)."""
    moment = sighting.observed_at.isoformat() if sighting.observed_at else ""
    return f"{sighting.ip}|{'' if sighting.port is None else sighting.port}|{moment}"


def load_sightings(engine: Engine) -> tuple[list[Sighting], set[tuple[str, int | None, str]]]:
    sql = (
        "SELECT o.report_id, r.suspect_id, o.canonical, o.port, o.observed_at, o.event_name, e.isp_name, "
        "e.network_type, e.log_timezone, o.identifiable, o.identifiability_note FROM identifier_observations o "
        "JOIN ip_enrichments e ON e.ip = o.canonical LEFT JOIN report_links r ON r.report_id = o.report_id "
        f"WHERE o.kind = 'ip' AND o.is_current AND o.valid AND o.origin = 'field' AND {SUSPECT_SIDE_SQL}"
    )
    with engine.connect() as conn:
        sightings = [
            Sighting(
                report, suspect, ip, port, _time(at), event, isp, network, zone, None if ok is None else bool(ok), note
            )
            for report, suspect, ip, port, at, event, isp, network, zone, ok, note in rows_of(conn, sql)
        ]
        asked = {
            (ip, port, str(_time(at)))
            for ip, port, at in rows_of(conn, "SELECT ip, port, observed_at FROM isp_request_items")
        }
    return sightings, asked


def build_requests(
    engine: Engine,
    settings: Settings,
    actor: str,
    output: Path,
    isp_table: Path | None = None,
    include_unidentifiable: bool = False,
    again: bool = False,
    isps: Collection[str] | None = None,
    only: Collection[str] | None = None,
) -> list[BuiltRequest]:
    """One request per ISP for the sightings not asked before; letters and annexes, sealed as bags, in `output`.

    `isps` keeps to those ISPs and `only` to the sightings so keyed (`sighting_key`): what an analyst ticked."""
    ensure_schema(engine)
    table_path = isp_table or (Path(settings.isp_table) if settings.isp_table else None)
    contacts = load_isp_table(table_path).isps if table_path else {}
    sightings = pending_sightings(engine, again)
    if isps is not None:
        sightings = [s for s in sightings if s.isp in isps]
    if only is not None:
        sightings = [s for s in sightings if sighting_key(s) in only]
    built: list[BuiltRequest] = []
    today = now()
    with engine.connect() as conn:
        synthetic = repo.get_flag(conn, "synthetic") == "true"
    templates = Path(settings.templates_dir) if settings.templates_dir else None
    signer = load_signer(settings)
    for request in group_requests(sightings, include_unidentifiable):
        if not request.items:
            continue
        contact = contacts.get(request.isp)
        with engine.begin() as conn:
            number = int(conn.execute(select(func.count()).select_from(isp_requests)).scalar_one()) + 1
            day = today.astimezone(settings.profile.zone)  # the unit's day, not UTC's
            reference = f"{settings.request_prefix}/{_slug(request.isp)}/{day:%Y%m%d}/{number}"
            folder = output / file_stem(reference)
            context = LetterContext(
                reference,
                today.astimezone(settings.profile.zone),
                settings.unit,
                contact.nodal_officer if contact else None,
                contact.nodal_email if contact else None,
                contact.postal_address if contact else None,
                synthetic,
                _cases(conn, {i.sighting.suspect_id for i in request.items if i.sighting.suspect_id}),
            )
            files = write_request(request, context, folder, templates, signer)
            request_id = _store_request(conn, reference, request.isp, len(request.items), folder, files, actor)
            insert_rows(
                conn,
                isp_request_items,
                (
                    "request_id",
                    "item",
                    "report_id",
                    "suspect_id",
                    "ip",
                    "port",
                    "observed_at",
                    "event_name",
                    "identifiable",
                ),
                [
                    (
                        request_id,
                        item.number,
                        item.sighting.report_id,
                        item.sighting.suspect_id,
                        item.sighting.ip,
                        item.sighting.port,
                        item.sighting.observed_at,
                        item.sighting.event_name,
                        bool(item.sighting.identifiable),
                    )
                    for item in request.items
                ],
            )
            append(
                conn,
                actor,
                [
                    AuditEvent(
                        "request.built",
                        "isp_request",
                        reference,
                        {
                            "isp": request.isp,
                            "items": len(request.items),
                            "excluded_cgnat_without_port": request.excluded,
                            "files": files,
                            "signed_by": signer.fingerprint if signer else None,
                        },
                    )
                ],
            )
        built.append(
            BuiltRequest(request_id, reference, request.isp, len(request.items), request.excluded, folder, files)
        )
    return built


def pending_sightings(engine: Engine, again: bool = False) -> list[Sighting]:
    """The reported person's IP sightings not yet in a request (all of them with `again`)."""
    sightings, asked = load_sightings(engine)
    if again:
        return sightings
    return [s for s in sightings if (s.ip, s.port, str(s.observed_at)) not in asked]


def _cases(conn: Any, suspect_ids: set[str]) -> tuple[CaseLine, ...]:
    """The open cases a notice serves, quoted by FIR once the station has registered one."""
    return tuple(case_line(c.referral, c.station, c.fir_number, c.fir_date) for c in case_references(conn, suspect_ids))


def _store_request(
    conn: Any, reference: str, recipient: str, items: int, folder: Path, files: dict[str, str], actor: str
) -> int:
    """One tracked request (draft until sent)."""
    return int(
        conn.execute(
            insert(isp_requests)
            .values(
                reference=reference,
                recipient=recipient,
                created_at=now(),
                status="draft",
                items=items,
                output_dir=str(folder),
                files=files,
                actor=actor,
            )
            .returning(isp_requests.c.id)
        ).scalar_one()
    )


def mark_sent(
    engine: Engine, actor: str, request_id: int, at: datetime | None = None, reference: str | None = None
) -> datetime:
    """Record that a request went out (and how: `reference`, the e-mail's message id or the dispatch register
    entry); it is due 72 hours later. An answered request is not sent again (its answer would lose its request)."""
    sent = (at or now()).astimezone(UTC)
    if sent > now() + timedelta(minutes=5):
        raise TipfusionError("a request cannot have been sent in the future")
    ensure_schema(engine)
    with engine.begin() as conn:
        row = conn.execute(select(isp_requests).where(isp_requests.c.id == request_id)).first()
        if row is None:
            raise NotFound(f"no request {request_id}")
        if row.status == "answered":
            raise TipfusionError(f"request {row.reference} is answered already; it cannot be marked sent again")
        dispatch = (reference or "").strip()[:200] or None
        conn.execute(
            update(isp_requests)
            .where(isp_requests.c.id == request_id)
            .values(sent_at=sent, due_at=sent + ANSWER_WINDOW, status="sent", sent_reference=dispatch)
        )
        details = {"sent_at": sent.isoformat(), "dispatch_reference": dispatch}
        append(conn, actor, [AuditEvent("request.sent", "isp_request", row.reference, details)])
    return sent + ANSWER_WINDOW


def list_requests(engine: Engine, at: datetime | None = None) -> list[dict[str, Any]]:
    moment = at or now()
    ensure_schema(engine)
    with engine.connect() as conn:
        rows = conn.execute(select(isp_requests).order_by(isp_requests.c.id)).all()
    return [
        {
            "id": r.id,
            "reference": r.reference,
            "recipient": r.recipient,
            "items": r.items,
            "status": r.status,
            "sent_at": r.sent_at,
            "due_at": r.due_at,
            "overdue": bool(r.status == "sent" and r.due_at is not None and r.due_at < moment),
            "folder": r.output_dir,
            "created_at": r.created_at,
            "sent_reference": r.sent_reference,
            "files": dict(r.files or {}),
        }
        for r in rows
    ]


def build_platform_requests(engine: Engine, settings: Settings, actor: str, output: Path) -> list[BuiltRequest]:
    """One notice per reporting platform for the reported accounts (not the children's)."""
    from tipfusion.requests.letters import write_letter
    from tipfusion.requests.platforms import AccountRow, platform_letters

    ensure_schema(engine)
    sql = (
        "SELECT a.esp_scope, a.esp_identifier, a.screen_name, a.report_id, l.suspect_id FROM accounts a "
        "JOIN reports r ON r.report_id = a.report_id AND r.current_version = a.version "
        "LEFT JOIN report_links l ON l.report_id = a.report_id "
        "WHERE a.role = 'reported' AND a.esp_identifier IS NOT NULL"
    )
    with engine.connect() as conn:
        rows = [
            AccountRow(esp or "unknown-esp", account, screen, report, suspect)
            for esp, account, screen, report, suspect in rows_of(conn, sql)
        ]
        synthetic = repo.get_flag(conn, "synthetic") == "true"
    today = now()
    templates = Path(settings.templates_dir) if settings.templates_dir else None
    signer = load_signer(settings)
    built = []
    for letter in platform_letters(rows):
        with engine.begin() as conn:
            number = int(conn.execute(select(func.count()).select_from(isp_requests)).scalar_one()) + 1
            reference = (
                f"{settings.request_prefix.replace('ISP', 'PLATFORM')}/{_slug(letter.recipient)}/"
                f"{today.astimezone(settings.profile.zone):%Y%m%d}/{number}"
            )
            folder = output / file_stem(reference)
            context = LetterContext(
                reference,
                today.astimezone(settings.profile.zone),
                settings.unit,
                None,
                None,
                None,
                synthetic,
                _cases(conn, {str(r["suspect_id"]) for r in letter.rows if r.get("suspect_id")}),
            )
            files = write_letter(letter, context, folder, templates, signer)
            request_id = _store_request(
                conn, reference, f"platform: {letter.recipient}", len(letter.rows), folder, files, actor
            )
            append(
                conn,
                actor,
                [
                    AuditEvent(
                        "request.built",
                        "platform_request",
                        reference,
                        {
                            "platform": letter.recipient,
                            "accounts": len(letter.rows),
                            "files": files,
                            "signed_by": signer.fingerprint if signer else None,
                        },
                    )
                ],
            )
        built.append(BuiltRequest(request_id, reference, letter.recipient, len(letter.rows), 0, folder, files))
    return built
