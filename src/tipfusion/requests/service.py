"""`tipfusion requests …`: build, track and follow up what is asked of ISPs.

Only sightings of the reported person are asked about (their accounts, accounts associated with them, and the
uploads of their files) — never the child's or another recipient's.

A sighting already in an earlier request is not asked again. Each request is stored with its items (to match the
ISP's answer later), every file it wrote and their SHA-256, and its dates: sent, and due 72 hours after sending.

A notice is written aside and takes its folder's name only once the store has committed its row
(`documents.staging`): a build killed at any point leaves no half-written notice under a notice's name, and the next
build clears (or, when its row was committed, moves into place) what the killed one left. Builds take one lock, so
notices are numbered in order.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, and_, case, func, insert, not_, select, update

from tipfusion.accounts.principal import SYSTEM
from tipfusion.audit import UnitOfWork
from tipfusion.config import Settings
from tipfusion.documents.manifest import file_stem, listed_parts, part_path
from tipfusion.documents.staging import Staging, clear_leftovers
from tipfusion.enrich.isp_table import load_isp_table
from tipfusion.errors import NotFound, TipfusionError
from tipfusion.keys.signing import load_signer
from tipfusion.requests.context import CaseLine, LetterContext, case_line
from tipfusion.requests.isp import ASKABLE, IspRequest, Sighting, group_requests
from tipfusion.store import repository as repo
from tipfusion.store import sightings as stored_sightings
from tipfusion.store.bulk import insert_rows
from tipfusion.store.db import ensure_schema, serialise
from tipfusion.store.repository import now
from tipfusion.store.tables import isp_request_items, isp_requests
from tipfusion.track.service import case_references

ANSWER_WINDOW = timedelta(hours=72)  # IT Rules 2021 r.3(1)(j)
PLATFORM_PREFIX = "platform: "  # isp_requests.recipient of a notice to a platform


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


def sighting_key(sighting: Sighting) -> str:
    """One sighting as a form's checkbox names it: IP, port and the exact second (what an ISP item is keyed on)."""
    moment = sighting.observed_at.isoformat() if sighting.observed_at else ""
    return f"{sighting.ip}|{'' if sighting.port is None else sighting.port}|{moment}"


def load_sightings(engine: Engine, isp: str | None = None) -> tuple[list[Sighting], set[stored_sightings.AskedKey]]:
    """The reported person's IP sightings with their ISP (only `isp`'s when given), and what was asked already."""
    with engine.connect() as conn:
        rows = stored_sightings.suspect_ip_sightings(conn, isp)
        asked = stored_sightings.asked(conn)
    return rows, asked


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
    from tipfusion.requests.letters import write_request  # the writers load for a build only

    ensure_schema(engine)
    table_path = isp_table or (Path(settings.isp_table) if settings.isp_table else None)
    contacts = load_isp_table(table_path).isps if table_path else {}
    sightings = pending_sightings(engine, again, next(iter(isps)) if isps is not None and len(isps) == 1 else None)
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
    finish_leftovers(engine, output, actor)
    for request in group_requests(sightings, include_unidentifiable):
        if not request.items:
            continue
        contact = contacts.get(request.isp)
        with Staging() as staging, UnitOfWork(engine, actor) as uow:
            conn = uow.conn
            serialise(conn, "request builds")
            unasked = request if again else _still_unasked(conn, request, include_unidentifiable)
            if unasked is None:
                continue  # a build beside this one asked all of it meanwhile
            request = unasked
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
            files = write_request(request, context, staging.begin(folder), templates, signer)
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
            _recount_isp(conn, request.isp)
            uow.record(
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
        built.append(
            BuiltRequest(request_id, reference, request.isp, len(request.items), request.excluded, folder, files)
        )
    return built


def _still_unasked(conn: Connection, request: IspRequest, include_unidentifiable: bool) -> IspRequest | None:
    """The request less what another build asked since the sightings were read (two analysts building at once):
    read under the builders' lock, so a sighting is asked once."""
    asked = stored_sightings.asked(conn, {item.sighting.ip for item in request.items})
    left = [i.sighting for i in request.items if _asked_key(i.sighting) not in asked]
    if len(left) == len(request.items):
        return request
    regrouped = [r for r in group_requests(left, include_unidentifiable) if r.items]
    if not regrouped:
        return None
    regrouped[0].excluded = request.excluded
    return regrouped[0]


def _asked_key(sighting: Sighting) -> stored_sightings.AskedKey:
    return stored_sightings.asked_key(sighting.ip, sighting.port, sighting.observed_at)


def finish_leftovers(engine: Engine, output: Path, actor: str) -> list[Path]:
    """Clear what a killed build left in `output`: a notice the store has on record is moved to its name, a
    half-written or unrecorded one removed. Returns the notices moved into place (no audit entry: the files, not the
    store, change; the build that follows is on record)."""
    with UnitOfWork(engine, actor) as uow:
        serialise(uow.conn, "request builds")  # no live build is between creating its work folder and locking it
        return clear_leftovers(output, lambda work, name: _recorded(uow.conn, work, name))


def _recorded(conn: Connection, work: Path, name: str) -> bool:
    """Whether the store holds a request named `name` whose files are the ones the bag in `work` lists."""
    listed = listed_parts(work)
    rows = conn.execute(
        select(isp_requests.c.reference, isp_requests.c.files).where(
            isp_requests.c.output_dir.endswith(name, autoescape=True)
        )
    )
    return any(file_stem(row.reference) == name and dict(row.files or {}) == listed for row in rows)


def pending_sightings(engine: Engine, again: bool = False, isp: str | None = None) -> list[Sighting]:
    """The reported person's IP sightings not yet in a request (all of them with `again`; only `isp`'s if given)."""
    sightings, asked = load_sightings(engine, isp)
    if again:
        return sightings
    return [s for s in sightings if _asked_key(s) not in asked]


PendingRow = stored_sightings.PendingRow


def _counted(conn: Connection, isp: str | None = None) -> list[PendingRow]:
    return sorted(stored_sightings.pending_counts(conn, ASKABLE, isp))


def pending_counts(engine: Engine) -> list[PendingRow]:
    """(ISP, its log zone, sightings still to ask, of which proposed) per ISP, counted over the whole store: what
    `group_requests` would ask of the pending sightings (askable networks, a time given, one event once), proposed
    being all but IPv4 CGNAT sightings without a port. A full recount, linear in the sightings: pages read
    `pending_summary`, which keeps these numbers."""
    with engine.connect() as conn:
        return _counted(conn)


def pending_summary(engine: Engine) -> list[PendingRow]:
    """The numbers of `pending_counts` without counting the store on every page view: kept (a store flag) with
    the sightings' generation they were counted under, recounted for one ISP by each build (in the build's
    transaction) and in full only once ingest or enrich has changed the sightings since. Sending and answering a
    request ask nothing new, so they leave the counts as they are.

    The full recount holds the builders' lock, so a build committing meanwhile cannot leave its ISP counted
    before its items landed; an ingest committing meanwhile changes the generation, so its sightings are counted
    at the next view."""
    with engine.connect() as conn:
        held = stored_sightings.held_pending_counts(conn)
    if held is not None:
        return held.rows
    with UnitOfWork(engine, SYSTEM.username) as uow:  # kept counts, no entry: a cache, not a change anyone made
        conn = uow.conn
        serialise(conn, "request builds")
        held = stored_sightings.held_pending_counts(conn)  # counted by another view while this one waited
        if held is not None:
            return held.rows
        generation = repo.get_flag(conn, repo.SIGHTINGS_GENERATION) or ""
        rows = _counted(conn)
        stored_sightings.keep_pending_counts(conn, generation, rows)
    return rows


def _recount_isp(conn: Connection, isp: str) -> None:
    """After a build, in its transaction (under the builders' lock): that ISP's line counted again, over its own
    sightings only (the ISP index). Kept counts that are out of date anyway are left for the next view."""
    held = stored_sightings.held_pending_counts(conn)
    if held is None:
        return
    generation, rows = held
    stored_sightings.keep_pending_counts(conn, generation, [r for r in rows if r[0] != isp] + _counted(conn, isp))


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


REFERENCE_LIMIT = 200


class ReferenceRefused(TipfusionError):
    """A sent reference that cannot be recorded as given (too long, or with characters that are not printable)."""


def check_reference(value: str | None) -> str | None:
    """The reference a request went out under, as recorded with its sent event: the number the ISP or platform
    gave (their acknowledgement or ticket), or the unit's dispatch register / letter number. Surrounding spaces go;
    empty is None. Refused, not cut or cleaned, when longer than REFERENCE_LIMIT characters or holding a character
    that is not printable (a line break, tab, NUL or other control character pasted from an e-mail): it is quoted
    in letters, exports and the audit trail, where such a character would split or hide what it says."""
    text = (value or "").strip()
    if not text:
        return None
    if len(text) > REFERENCE_LIMIT:
        raise ReferenceRefused(f"reference: {len(text)} characters; at most {REFERENCE_LIMIT}")
    bad = next((c for c in text if not c.isprintable()), None)
    if bad is not None:
        raise ReferenceRefused(
            f"reference: holds a control or unprintable character ({bad!r} at position {text.index(bad) + 1}); "
            "give the number as printed on one line"
        )
    return text


def mark_sent(
    engine: Engine, actor: str, request_id: int, at: datetime | None = None, reference: str | None = None
) -> datetime:
    """Record that a request went out, and under which reference (`check_reference`: the recipient's number or
    the unit's dispatch/letter number); it is due 72 hours later. Marking it sent again (a corrected date) without a
    reference keeps the one recorded. An answered request is not sent again (its answer would lose its request).
    The sent event's audit entry carries the time and the reference."""
    sent = (at or now()).astimezone(UTC)
    given = check_reference(reference)
    if sent > now() + timedelta(minutes=5):
        raise TipfusionError("a request cannot have been sent in the future")
    ensure_schema(engine)
    with UnitOfWork(engine, actor) as uow:
        conn = uow.conn
        row = conn.execute(select(isp_requests).where(isp_requests.c.id == request_id)).first()
        if row is None:
            raise NotFound(f"no request {request_id}")
        if row.status == "answered":
            raise TipfusionError(f"request {row.reference} is answered already; it cannot be marked sent again")
        kept = given or row.sent_reference
        conn.execute(
            update(isp_requests)
            .where(isp_requests.c.id == request_id)
            .values(sent_at=sent, due_at=sent + ANSWER_WINDOW, status="sent", sent_reference=kept)
        )
        details = {"sent_at": sent.isoformat(), "reference": kept, "again": row.status == "sent"}
        uow.record("request.sent", row_kind(row.recipient), row.reference, details)
    return sent + ANSWER_WINDOW


def row_kind(recipient: str) -> str:
    """The audit object type of a request: `platform_request` for a notice to a platform, else `isp_request`."""
    return "platform_request" if recipient.startswith(PLATFORM_PREFIX) else "isp_request"


def request_dict(r: Any, moment: datetime) -> dict[str, Any]:
    """An isp_requests row as `list_requests` gives it (overdue as of `moment`)."""
    return {
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


def list_requests(engine: Engine, at: datetime | None = None) -> list[dict[str, Any]]:
    moment = at or now()
    ensure_schema(engine)
    with engine.connect() as conn:
        rows = conn.execute(select(isp_requests).order_by(isp_requests.c.id)).all()
    return [request_dict(r, moment) for r in rows]


REQUEST_STATES = ("built", "sent", "overdue", "answered")


def _in_state(state: str, moment: datetime) -> Any:
    """The SQL condition of a request state as the pages name it (built is the stored `draft`; overdue is sent,
    unanswered, past its due time)."""
    t = isp_requests.c
    late = and_(t.due_at.is_not(None), t.due_at < moment)
    return {
        "built": t.status == "draft",
        "sent": and_(t.status == "sent", not_(late)),
        "overdue": and_(t.status == "sent", late),
        "answered": t.status == "answered",
    }[state]


def request_page_rows(
    engine: Engine, state: str | None, limit: int, offset: int, at: datetime | None = None
) -> list[dict[str, Any]]:
    """One page of requests (newest first), in `state` when given: the rows `list_requests` gives, read a page
    at a time so the list costs the same with ten thousand requests on record."""
    moment = at or now()
    query = select(isp_requests).order_by(isp_requests.c.id.desc()).limit(limit).offset(offset)
    if state:
        query = query.where(_in_state(state, moment))
    with engine.connect() as conn:
        return [request_dict(r, moment) for r in conn.execute(query)]


def request_state_counts(engine: Engine, at: datetime | None = None) -> dict[str, int]:
    """How many requests are in each state, counted in one grouped query."""
    moment = at or now()
    columns = [func.sum(case((_in_state(state, moment), 1), else_=0)) for state in REQUEST_STATES]
    with engine.connect() as conn:
        found = conn.execute(select(*columns).select_from(isp_requests)).one()
    return {state: int(n or 0) for state, n in zip(REQUEST_STATES, found, strict=True)}


def request_recipients(engine: Engine) -> list[str]:
    """Every ISP and platform (`platform: NAME`) a request went to, once each."""
    with engine.connect() as conn:
        found = conn.execute(select(isp_requests.c.recipient).distinct()).scalars()
        return sorted(str(name) for name in found)


UNKNOWN_PLATFORM = "unknown-esp"


def platform_accounts(engine: Engine) -> list[tuple[str, int, int]]:
    """(platform, reported accounts with the platform's user ID, reports they appear in) per platform, counted in
    the database: what a notice to each would list (`build_platform_requests`)."""
    with engine.connect() as conn:
        return stored_sightings.platform_accounts(conn, UNKNOWN_PLATFORM)


def build_platform_requests(
    engine: Engine, settings: Settings, actor: str, output: Path, platforms: Collection[str] | None = None
) -> list[BuiltRequest]:
    """One notice per reporting platform for the reported accounts (not the children's); only to `platforms`
    when given (the platform an analyst chose in the browser)."""
    from tipfusion.requests.letters import write_letter
    from tipfusion.requests.platforms import AccountRow, platform_letters

    ensure_schema(engine)
    with engine.connect() as conn:
        rows = [
            AccountRow(esp or UNKNOWN_PLATFORM, account, screen, report, suspect)
            for esp, account, screen, report, suspect in stored_sightings.reported_accounts(conn)
            if platforms is None or (esp or UNKNOWN_PLATFORM) in platforms
        ]
        synthetic = repo.get_flag(conn, "synthetic") == "true"
    today = now()
    templates = Path(settings.templates_dir) if settings.templates_dir else None
    signer = load_signer(settings)
    finish_leftovers(engine, output, actor)
    built = []
    for letter in platform_letters(rows):
        with Staging() as staging, UnitOfWork(engine, actor) as uow:
            conn = uow.conn
            serialise(conn, "request builds")
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
            files = write_letter(letter, context, staging.begin(folder), templates, signer)
            request_id = _store_request(
                conn, reference, f"{PLATFORM_PREFIX}{letter.recipient}", len(letter.rows), folder, files, actor
            )
            uow.record(
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
        built.append(BuiltRequest(request_id, reference, letter.recipient, len(letter.rows), 0, folder, files))
    return built
