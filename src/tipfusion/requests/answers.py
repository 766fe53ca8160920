"""ISP and telecom answers: who held the address at that second. Validated like ingest; strong evidence after.

An answer file (CSV or XLSX) has one row per requested sighting. Columns are mapped to tipfusion's fields by a
per-ISP mapping (`--map "Subscriber Name=subscriber_name"`, repeatable), else matched by name. Every row must
name the IP and the time (a time without a zone is read in the ISP's log zone, as their logs are kept) and must
match an item of a request sent to that ISP — to the second, and on the source port where one was asked. A file
with any bad row is quarantined whole, every bad row named; nothing of it lands.

What lands becomes identity evidence for linking (the subscriber's phone, email and ID document) and the
strongest routing evidence (the subscriber's address, located by its PIN).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, update

from tipfusion.audit import UnitOfWork
from tipfusion.config import XmlLimits
from tipfusion.domain import QuarantineEntry
from tipfusion.errors import DocumentRejected, TipfusionError
from tipfusion.ingest.failures import quarantined_events
from tipfusion.ingest.formats.isp_answer import FORMAT as ANSWER
from tipfusion.ingest.formats.isp_answer import SUBSCRIBER_FIELDS
from tipfusion.ingest.registry import ParseContext
from tipfusion.store import repository as repo
from tipfusion.store.bulk import insert_rows
from tipfusion.store.current import chunked, rows_in
from tipfusion.store.db import ensure_schema
from tipfusion.store.repository import now
from tipfusion.store.tables import isp_answers, isp_request_items, isp_requests

# the isp_answers columns: which request item a row answers, then the subscriber fields the answer format reads
ANSWER_COLUMNS = (
    "request_id",
    "item",
    "report_id",
    "ip",
    "port",
    "observed_at",
    *SUBSCRIBER_FIELDS,
    "source_sha256",
    "line",
    "received_at",
)


@dataclass(frozen=True, slots=True)
class MatchedRow:
    """One answer row and the request item it answers (what the web page lists after an upload)."""

    line: int
    reference: str
    item: int
    ip: str
    port: int | None
    observed_at: datetime
    named: bool  # the row names a subscriber


@dataclass
class AnswerSummary:
    file: str
    rows: int
    requests: list[str]
    matched: list[MatchedRow] = field(default_factory=list)
    already_stored: bool = False  # the same bytes were stored before: nothing was added (re-ingest is a no-op)


def ingest_answers(
    engine: Engine,
    actor: str,
    path: Path,
    isp: str | None,
    region: str,
    mapping: dict[str, str] | None = None,
    limits: XmlLimits | None = None,
) -> AnswerSummary:
    """Store an answer file (byte for byte) and its rows, matched to the requests they answer; or quarantine it.

    Like ingest, a file over the document limit is kept (up to the archive limit) and quarantined unparsed, so
    nothing is lost and nothing huge is parsed; past the archive limit it is refused unread."""
    limits = limits or XmlLimits()
    size = path.stat().st_size
    if size > limits.max_archive_bytes:
        raise TipfusionError(
            f"{path}: the file is {size:,} bytes, over the limit of {limits.max_archive_bytes:,} (not read, not "
            "stored); expected a smaller answer file, or raise TIPFUSION_MAX_ARCHIVE_BYTES"
        )
    return ingest_answer_bytes(engine, actor, path.read_bytes(), str(path), isp, region, mapping, limits)


def ingest_answer_bytes(
    engine: Engine,
    actor: str,
    data: bytes,
    name: str,
    isp: str | None,
    region: str,
    mapping: dict[str, str] | None = None,
    limits: XmlLimits | None = None,
) -> AnswerSummary:
    """`ingest_answers` for bytes already read (an upload), recorded under `name` (`.xlsx` is read as a workbook)."""
    ensure_schema(engine)
    limits = limits or XmlLimits()
    sha = hashlib.sha256(data).hexdigest()
    with engine.connect() as conn:
        requests = conn.execute(select(isp_requests).where(isp_requests.c.status != "draft")).all()
        if conn.execute(select(isp_answers.c.id).where(isp_answers.c.source_sha256 == sha).limit(1)).first():
            return AnswerSummary(name, 0, [], already_stored=True)
    candidates = [r for r in requests if isp is None or r.recipient == isp]
    if not candidates:
        raise DocumentRejected(
            name,
            "no_request",
            f"no sent request to {isp or 'any ISP'} to match",
            expected="a request marked sent (tipfusion requests sent ID)",
        )
    zone = _zone(engine, candidates[0].recipient) if isp else "UTC"
    options = {"zone": zone, "mapping": mapping or {}}
    try:
        if len(data) > limits.max_document_bytes:
            raise DocumentRejected(
                name,
                "too_large",
                f"the file is {len(data):,} bytes, over the limit of {limits.max_document_bytes:,} (not parsed)",
                expected="a smaller answer file, or raise TIPFUSION_MAX_DOCUMENT_BYTES",
            )
        rows = ANSWER.parse(data, ParseContext(name, sha, region, limits, options=options))
        matched = _match(engine, rows, [r.id for r in candidates], name)
    except DocumentRejected as exc:
        with UnitOfWork(engine, actor) as uow:
            repo.store_sources(uow.conn, [repo.SourceRow(sha, name, data, ANSWER.name)], run_id=0)
            fresh = repo.add_quarantine(uow.conn, [QuarantineEntry.of(exc, sha, 0, fmt=ANSWER.name)])
            uow.record_all(quarantined_events(fresh))
        raise
    stamp = now()
    with UnitOfWork(engine, actor) as uow:
        conn = uow.conn
        repo.store_sources(conn, [repo.SourceRow(sha, name, data, ANSWER.name)], run_id=0)
        insert_rows(
            conn,
            isp_answers,
            ANSWER_COLUMNS,
            [
                (
                    item.request_id,
                    item.item,
                    item.report_id,
                    item.ip,
                    item.port,
                    item.observed_at,
                    row.get("subscriber_name"),
                    row.get("address"),
                    row.get("pin"),
                    row.get("phone"),
                    row.get("alternate_phone"),
                    row.get("email"),
                    row.get("id_document_type"),
                    row.get("id_document_number"),
                    row.get("connection_type"),
                    sha,
                    line,
                    stamp,
                )
                for line, row, item in matched
            ],
        )
        answered = sorted({item.request_id for _, _, item in matched})
        for part in chunked(answered):
            conn.execute(update(isp_requests).where(isp_requests.c.id.in_(part)).values(status="answered"))
        references = [r.reference for r in requests if r.id in answered]
        for ref in references:
            uow.record("request.answered", "isp_request", ref, {"file": name, "sha256": sha})
    by_id = {r.id: r.reference for r in requests}
    rows_matched = [
        MatchedRow(
            line,
            by_id[item.request_id],
            int(item.item),
            item.ip,
            item.port,
            item.observed_at,
            bool(row.get("subscriber_name")),
        )
        for line, row, item in matched
    ]
    return AnswerSummary(name, len(matched), references, rows_matched)


def _zone(engine: Engine, recipient: str) -> str:
    """The zone the ISP's logs use (from enrichment, from the ISP table): its answers' times are in it."""
    from tipfusion.store.tables import ip_enrichments

    with engine.connect() as conn:
        zone = conn.execute(
            select(ip_enrichments.c.log_timezone).where(ip_enrichments.c.isp_name == recipient).limit(1)
        ).scalar()
    return str(zone or "UTC")


def _match(
    engine: Engine, rows: list[tuple[int, dict[str, Any]]], request_ids: list[int], name: str
) -> list[tuple[int, dict[str, Any], Any]]:
    with engine.connect() as conn:
        items = rows_in(conn, select(isp_request_items), isp_request_items.c.request_id, request_ids)
    index: dict[tuple[str, datetime], list[Any]] = {}
    for item in items:
        index.setdefault((item.ip, item.observed_at), []).append(item)
    matched, problems = [], []
    for line, row in rows:
        found = [
            i
            for i in index.get((row["ip"], row["time"]), [])
            if row.get("port") is None or i.port is None or i.port == row["port"]
        ]
        if not found:
            problems.append(
                f"line {line}: {row['ip']} at {row['time'].isoformat()} "
                f"{'port ' + str(row['port']) if row.get('port') is not None else ''} was not asked"
            )
            continue
        matched.append((line, row, found[0]))
    if problems:
        raise DocumentRejected(
            name,
            "unmatched_rows",
            f"{len(problems)} row(s) match no request: " + "; ".join(problems[:50]),
            expected="rows answering items of a sent request",
        )
    return matched
