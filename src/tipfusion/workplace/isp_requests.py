"""Requests to ISPs and platforms as the analyst works them in the browser: what is still to be asked (per ISP),
build a notice for the sightings ticked, download its parts, record that it was sent, and take in the answer.

The same services as `tipfusion requests build | list | sent | answer` (`tipfusion.requests`), run as the
principal. The central unit asks (analysts and admins); every other role is refused as not found, audited. Every
list and request viewed, every part downloaded, is on the audit record (`view.*`, `request.exported`); building,
sending and answering are audited by the services themselves.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import Engine, func, select

from tipfusion import clock
from tipfusion.accounts.policy import CENTRAL_WORKERS
from tipfusion.accounts.principal import Principal
from tipfusion.audit import UnitOfWork
from tipfusion.config import Settings
from tipfusion.documents.manifest import digest_of
from tipfusion.errors import DocumentRejected, IntegrityFailure, TipfusionError
from tipfusion.requests.answers import AnswerSummary, ingest_answer_bytes
from tipfusion.requests.isp import group_requests
from tipfusion.requests.service import (
    PLATFORM_PREFIX,
    REQUEST_STATES,
    BuiltRequest,
    ReferenceRefused,
    build_requests,
    check_reference,
    mark_sent,
    pending_sightings,
    pending_summary,
    request_dict,
    request_page_rows,
    request_recipients,
    request_state_counts,
    row_kind,
    sighting_key,
)
from tipfusion.store.tables import isp_answers, isp_request_items, isp_requests
from tipfusion.workplace.cases import FieldErrors
from tipfusion.workplace.intake import upload_name
from tipfusion.workplace.packages import MEDIA_TYPES, located
from tipfusion.workplace.scope import deny, require_roles

PAGE_SIZE = 50  # ISPs pending and requests listed on one page of the overview
FORM_ITEMS = 1000  # sightings listed on one build form (a form of a hundred thousand checkboxes helps no one)
ANSWER_SUFFIXES = (".csv", ".xlsx")


@dataclass(frozen=True, slots=True)
class PendingItem:
    """A sighting of a reported person not yet asked about: a checkbox of the build form."""

    key: str
    ip: str
    port: int | None
    observed_at: datetime
    time_isp: str  # the second as the ISP's logs keep it, offset written out
    event: str | None
    report_id: int
    suspect_id: str | None
    caution: str  # "" or why the answer may not identify one subscriber
    ticked: bool  # proposed: everything but a CGNAT sighting without a port


@dataclass(frozen=True, slots=True)
class PendingIsp:
    """One ISP's sightings still to ask, the first `FORM_ITEMS` of them listed (`total` counts them all)."""

    isp: str
    log_timezone: str
    items: list[PendingItem]
    total: int


@dataclass(frozen=True, slots=True)
class PendingCount:
    """A line of the overview: how much is still to ask of one ISP (counted in the database)."""

    isp: str
    log_timezone: str
    pending: int
    proposed: int


@dataclass(frozen=True, slots=True)
class RequestLine:
    """A request as the list shows it; `state` is built | sent | overdue | answered."""

    id: int
    reference: str
    recipient: str
    platform: bool
    items: int
    state: str
    created_at: datetime | None
    sent_at: datetime | None
    due_at: datetime | None
    sent_reference: str | None


@dataclass(frozen=True, slots=True)
class RequestsOverview:
    """One page of the overview: a page of the ISPs with sightings still to ask, a page of the requests (in
    `state` when one is chosen), how many requests are in each state, and every recipient asked (for the answer
    form)."""

    pending: list[PendingCount]
    pending_total: int  # ISPs with something pending, all pages
    requests: list[RequestLine]
    states: dict[str, int]
    state: str
    page: int
    pages: int
    recipients: list[str]

    def count(self, state: str) -> int:
        return self.states.get(state, 0)

    @property
    def isps(self) -> list[str]:
        return [name for name in self.recipients if not name.startswith(PLATFORM_PREFIX)]


@dataclass(frozen=True, slots=True)
class RequestPart:
    name: str
    path: Path
    media_type: str
    sha256: str


@dataclass
class RequestPage:
    line: RequestLine
    folder: str
    files: dict[str, str]  # part name → SHA-256 recorded when built
    items: list[Any]  # isp_request_items rows
    answered_items: set[int] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class AnswerOutcome:
    """An uploaded answer: what landed (rows matched to items), or that the file was quarantined and why."""

    file: str
    summary: AnswerSummary | None
    quarantined: DocumentRejected | None


def _require(engine: Engine, principal: Principal, what: str, action: str = "view") -> None:
    with engine.connect() as conn:
        require_roles(conn, principal, CENTRAL_WORKERS, what, action=action)  # as `tipfusion requests …`


def _line(row: dict[str, Any]) -> RequestLine:
    state = "built" if row["status"] == "draft" else "overdue" if row["overdue"] else str(row["status"])
    recipient = str(row["recipient"])
    return RequestLine(
        int(row["id"]),
        str(row["reference"]),
        recipient.removeprefix(PLATFORM_PREFIX),
        recipient.startswith(PLATFORM_PREFIX),
        int(row["items"]),
        state,
        row.get("created_at"),
        row.get("sent_at"),
        row.get("due_at"),
        row.get("sent_reference"),
    )


def _pending(engine: Engine, isp: str) -> list[PendingIsp]:
    out = []
    for request in group_requests(pending_sightings(engine, isp=isp), include_unidentifiable=True):
        items = [
            PendingItem(
                sighting_key(item.sighting),
                item.sighting.ip,
                item.sighting.port,
                item.sighting.observed_at or clock.now(),
                item.time_isp,
                item.sighting.event_name,
                item.sighting.report_id,
                item.sighting.suspect_id,
                item.flag,
                not item.flag.startswith("no source port"),
            )
            for item in request.items[:FORM_ITEMS]
        ]
        out.append(PendingIsp(request.isp, request.log_timezone, items, len(request.items)))
    return out


def requests_overview(
    engine: Engine, principal: Principal, state: str = "", page: int = 1, size: int | None = None
) -> RequestsOverview:
    """Sightings still to be asked, per ISP, and the requests with their state (overdue: 72 hours after sending,
    unanswered), a page of each: the pending counts are the kept ones (`pending_summary`, equal to a recount of
    the store), the requests read a page at a time. Audited as a view of the list."""
    _require(engine, principal, "isp requests")
    chosen = state if state in REQUEST_STATES else ""
    size = size or PAGE_SIZE
    moment = clock.now()
    pending = [PendingCount(*counted) for counted in pending_summary(engine)]
    states = request_state_counts(engine, moment)
    listed = states[chosen] if chosen else sum(states.values())
    pages = max(1, -(-max(listed, len(pending)) // size))
    page = min(max(page, 1), pages)
    start = (page - 1) * size
    rows = request_page_rows(engine, chosen or None, size, start, moment)
    overview = RequestsOverview(
        pending[start : start + size],
        len(pending),
        [_line(r) for r in rows],
        states,
        chosen,
        page,
        pages,
        request_recipients(engine),
    )
    details = {
        "channel": "web",
        "pending_isps": len(pending),
        "requests": len(overview.requests),
        "state": chosen or None,
        "page": page,
    }
    with UnitOfWork(engine, principal.username) as uow:
        uow.record("view.list", "list", "isp_requests", details)
    return overview


def pending_for(engine: Engine, principal: Principal, isp: str) -> PendingIsp:
    """One ISP's sightings still to be asked (the build form); NotFound when none is pending for that name."""
    _require(engine, principal, "isp requests")
    found = _pending(engine, isp)
    if not found:
        with engine.connect() as conn:
            raise deny(conn, principal, "page", f"isp requests/{isp}", "view", "nothing pending for that ISP")
    details = {"channel": "web", "isp": isp, "items": len(found[0].items)}
    with UnitOfWork(engine, principal.username) as uow:
        uow.record("view.list", "list", "isp_pending", details)
    return found[0]


def build_for(
    engine: Engine, settings: Settings, principal: Principal, output: Path, isp: str, selected: Collection[str]
) -> BuiltRequest:
    """A notice (PDF, DOCX) and annex (CSV, XLSX) to `isp` for the sightings ticked, sealed in `output`.

    Refusals are `FieldErrors` on `item` (nothing ticked, or what was ticked is no longer pending)."""
    _require(engine, principal, "build isp request", action="request")
    chosen = {key for key in selected if key}
    if not chosen:
        raise FieldErrors({"item": "tick at least one sighting to ask about"})
    try:
        built = build_requests(
            engine, settings, principal.username, output, include_unidentifiable=True, isps={isp}, only=chosen
        )
    except TipfusionError as error:
        raise FieldErrors({"item": str(error)}) from error
    if not built:
        raise FieldErrors({"item": f"none of the ticked sightings is still pending for {isp} (asked meanwhile?)"})
    return built[0]


def _request_row(engine: Engine, principal: Principal, request_id: int, action: str) -> Any:
    with engine.connect() as conn:
        row = conn.execute(select(isp_requests).where(isp_requests.c.id == request_id)).first()
        if row is None:
            raise deny(conn, principal, "page", f"isp request {request_id}", action, "no such request")
    return row


def request_page(engine: Engine, principal: Principal, request_id: int) -> RequestPage:
    """One request: its items, its parts with their SHA-256, its dates; audited as a view."""
    _require(engine, principal, "isp request")
    row = _request_row(engine, principal, request_id, "view")
    line = _line(request_dict(row, clock.now()))
    with engine.connect() as conn:
        items = conn.execute(
            select(isp_request_items)
            .where(isp_request_items.c.request_id == request_id)
            .order_by(isp_request_items.c.item)
        ).all()
        answered = set(
            conn.execute(select(func.distinct(isp_answers.c.item)).where(isp_answers.c.request_id == request_id))
            .scalars()
            .all()
        )
    with UnitOfWork(engine, principal.username) as uow:
        uow.record("view.isp_request", row_kind(row.recipient), row.reference, {"channel": "web"})
    return RequestPage(line, str(row.output_dir), dict(row.files or {}), list(items), {int(i) for i in answered})


def request_part(engine: Engine, principal: Principal, request_id: int, name: str) -> RequestPart:
    """A part of a built request, its bytes checked against the SHA-256 recorded when it was written; the download
    is audited (`request.exported`). NotFound (audited) for a name the request did not write."""
    _require(engine, principal, "isp request", action="download")
    row = _request_row(engine, principal, request_id, "download")
    files: dict[str, str] = dict(row.files or {})
    path = located(Path(row.output_dir), name) if name in files else None
    if path is None:
        with engine.connect() as conn:
            raise deny(conn, principal, "page", f"{row.reference}/{name}", "download", "no such part")
    found = digest_of(path)
    if found != files[name]:
        raise IntegrityFailure(
            f"request {row.reference}: part {name!r} no longer matches its SHA-256 (stored {files[name]}, found "
            f"{found}); it is not served"
        )
    media = MEDIA_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(name)[0] or "application/octet-stream"
    details = {"channel": "web", "part": name, "sha256": found, "bytes": path.stat().st_size}
    with UnitOfWork(engine, principal.username) as uow:
        uow.record("request.exported", row_kind(row.recipient), row.reference, details)
    return RequestPart(name, path, media, found)


def request_folder(engine: Engine, principal: Principal, request_id: int) -> tuple[str, Path]:
    """(reference, folder) of a built request, for a download of the whole sealed folder (audited)."""
    _require(engine, principal, "isp request", action="download")
    row = _request_row(engine, principal, request_id, "download")
    details = {"channel": "web", "part": "folder.zip", "files": dict(row.files or {})}
    with UnitOfWork(engine, principal.username) as uow:
        uow.record("request.exported", row_kind(row.recipient), row.reference, details)
    return str(row.reference), Path(row.output_dir)


def record_sent(
    engine: Engine, settings: Settings, principal: Principal, request_id: int, sent_at: str, reference: str
) -> datetime:
    """Record that the request went out at `sent_at` (as people write it, the unit's zone unless it says
    otherwise; empty: now) under `reference` (the number the ISP or platform gave, or the unit's dispatch/letter
    number; `requests.service.check_reference`); returns when the answer is due. Errors by form field."""
    _require(engine, principal, "isp request", action="send")
    _request_row(engine, principal, request_id, "send")
    errors = {}
    when = None
    if sent_at.strip():
        try:
            when = clock.parse_moment(sent_at.replace("T", " "), settings.profile.zone, settings.profile.country)
        except ValueError as error:
            errors["sent_at"] = str(error)
    try:
        check_reference(reference)
    except ReferenceRefused as error:
        errors["reference"] = str(error)
    if errors:
        raise FieldErrors(errors)
    try:
        return mark_sent(engine, principal.username, request_id, when, reference)
    except TipfusionError as error:
        name = "sent_at" if "future" in str(error) else "request"
        raise FieldErrors({name: str(error)}) from error


def import_answer(
    engine: Engine,
    settings: Settings,
    principal: Principal,
    isp: str,
    filename: str | None,
    stream: BinaryIO,
    limit: int,
    mapping: str = "",
) -> AnswerOutcome:
    """An ISP's answer (CSV or XLSX) through the same validation, matching and quarantine as `tipfusion requests
    answer`. A file that cannot land is quarantined whole and returned with the reason (not raised); refusals before
    anything is stored (no file, wrong kind, too large, an ISP never asked) are `FieldErrors`."""
    _require(engine, principal, "isp answer", action="answer")
    known = {name for name in request_recipients(engine) if not name.startswith(PLATFORM_PREFIX)}
    if isp not in known:
        raise FieldErrors({"isp": f"no request was made to {isp!r}"})
    columns = parse_mapping(mapping)
    name = upload_name(filename)
    if not name.lower().endswith(ANSWER_SUFFIXES):
        raise FieldErrors({"answer": f"{name}: expected the ISP's answer as .csv or .xlsx"})
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise FieldErrors({"answer": f"{name}: larger than the {limit:,}-byte upload limit"})
    if not data:
        raise FieldErrors({"answer": f"{name}: the file is empty"})
    try:
        summary = ingest_answer_bytes(
            engine, principal.username, data, name, isp, settings.profile.phone_region, columns, settings.xml_limits
        )
    except DocumentRejected as rejected:
        if rejected.reason == "no_request":
            raise FieldErrors({"isp": str(rejected)}) from rejected
        return AnswerOutcome(name, None, rejected)
    return AnswerOutcome(name, summary, None)


def parse_mapping(text: str) -> dict[str, str]:
    """`Subscriber Name=subscriber_name`, one a line (the CLI's repeated `--map`); a line without `=` is refused."""
    mapping = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        source, _, target = line.partition("=")
        if not target.strip() or not source.strip():
            raise FieldErrors({"mapping": f"{line!r}: expected COLUMN=field, one a line"})
        mapping[source.strip()] = target.strip()
    return mapping
