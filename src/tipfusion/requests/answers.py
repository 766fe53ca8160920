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

import csv
import hashlib
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from sqlalchemy import Engine, select, update

from tipfusion.audit import AuditEvent, append
from tipfusion.errors import DocumentRejected, rows_rejected
from tipfusion.normalise import Context, clean
from tipfusion.normalise.timestamps import ImpossibleTime, parse_timestamp
from tipfusion.store import repository as repo
from tipfusion.store.bulk import insert_rows
from tipfusion.store.db import ensure_schema
from tipfusion.store.repository import now
from tipfusion.store.tables import isp_answers, isp_request_items, isp_requests

FIELDS = (
    "ip",
    "port",
    "time",
    "subscriber_name",
    "address",
    "pin",
    "phone",
    "alternate_phone",
    "email",
    "id_document_type",
    "id_document_number",
    "connection_type",
)
ALIASES = {
    "ip_address": "ip",
    "connection": "connection_type",
    "source_port": "port",
    "date_time": "time",
    "datetime": "time",
    "session_time": "time",
    "time_isp_zone": "time",
    "name": "subscriber_name",
    "mobile": "phone",
    "alt_phone": "alternate_phone",
    "id_type": "id_document_type",
    "id_number": "id_document_number",
    "pincode": "pin",
    "pin_code": "pin",
}
ANSWER_COLUMNS = (
    "request_id",
    "item",
    "report_id",
    "ip",
    "port",
    "observed_at",
    "subscriber_name",
    "address",
    "pin",
    "phone",
    "alternate_phone",
    "email",
    "id_document_type",
    "id_document_number",
    "connection_type",
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


def _rows(data: bytes, name: str) -> list[dict[str, Any]]:
    if name.lower().endswith(".xlsx"):
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = book.active
        assert sheet is not None
        values = list(sheet.iter_rows(values_only=True))
        header = [str(h or "").strip() for h in values[0]] if values else []
        return [dict(zip(header, row, strict=False)) for row in values[1:]]
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def _field(column: str, mapping: dict[str, str]) -> str | None:
    if column in mapping:
        return mapping[column]
    key = column.strip().lower().replace(" ", "_").replace("-", "_")
    key = ALIASES.get(key, key)
    return key if key in FIELDS else None


def parse_answers(
    data: bytes, name: str, isp_zone: str, region: str, mapping: dict[str, str] | None = None
) -> list[tuple[int, dict[str, Any]]]:
    """(line, fields) for every row; raises DocumentRejected naming every bad row."""
    try:
        raw_rows = _rows(data, name)
    except (UnicodeDecodeError, ValueError, KeyError, OSError) as exc:
        raise DocumentRejected(
            name, "malformed_answer", f"cannot read the answer file: {exc}", expected="a CSV or XLSX with a header row"
        ) from exc
    out, problems = [], []
    for line, raw in enumerate(raw_rows, start=2):
        row: dict[str, Any] = {}
        for column, value in raw.items():
            target = _field(str(column or ""), mapping or {})
            if target and value not in (None, ""):
                row[target] = str(value).strip()
        if not row:
            continue
        if not row.get("ip") or not row.get("time"):
            problems.append(f"line {line}: ip and time are required")
            continue
        ip = clean("ip", row["ip"])
        if ip is None or not ip.valid:
            problems.append(f"line {line}: ip {row['ip']!r} is not an IP address")
            continue
        row["ip"] = ip.value
        try:
            parsed = parse_timestamp(row["time"])
            moment = (
                parsed.utc
                if parsed.had_zone
                else datetime.fromisoformat(row["time"]).replace(tzinfo=ZoneInfo(isp_zone)).astimezone(UTC)
            )
        except (ImpossibleTime, ValueError) as exc:
            problems.append(f"line {line}: time {row['time']!r}: {exc}")
            continue
        row["time"] = moment
        if row.get("port"):
            if not str(row["port"]).isdigit() or not 0 <= int(row["port"]) <= 65535:
                problems.append(f"line {line}: port {row['port']!r} (expected 0-65535)")
                continue
            row["port"] = int(row["port"])
        for key in ("phone", "alternate_phone"):
            if row.get(key):
                phone = clean("phone", row[key], Context(phone_region=region))
                if phone is None or not phone.valid:
                    problems.append(f"line {line}: {key} {row[key]!r} is not a valid phone number")
                    break
                row[key] = phone.value
        else:
            if row.get("email"):
                email = clean("email", row["email"])
                if email is None or not email.valid:
                    problems.append(f"line {line}: email {row['email']!r} is not an email address")
                    continue
                row["email"] = email.canonical
            out.append((line, row))
    if problems:
        raise rows_rejected(name, problems)
    if not out:
        raise DocumentRejected(name, "empty", "no answer rows", expected="at least one row after the header")
    return out


def ingest_answers(
    engine: Engine, actor: str, path: Path, isp: str | None, region: str, mapping: dict[str, str] | None = None
) -> AnswerSummary:
    """Store an answer file (byte for byte) and its rows, matched to the requests they answer; or quarantine it."""
    return ingest_answer_bytes(engine, actor, path.read_bytes(), str(path), isp, region, mapping)


def ingest_answer_bytes(
    engine: Engine,
    actor: str,
    data: bytes,
    name: str,
    isp: str | None,
    region: str,
    mapping: dict[str, str] | None = None,
) -> AnswerSummary:
    """`ingest_answers` for bytes already read (an upload), recorded under `name` (`.xlsx` is read as a workbook)."""
    ensure_schema(engine)
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
    try:
        rows = parse_answers(data, name, zone, region, mapping)
        matched = _match(engine, rows, [r.id for r in candidates], name)
    except DocumentRejected as exc:
        with engine.begin() as conn:
            repo.store_sources(conn, [repo.SourceRow(sha, name, data, "isp_answer")], run_id=0)
            repo.add_quarantine(
                conn,
                [
                    {
                        "run_id": 0,
                        "source_sha256": sha,
                        "source_name": name,
                        "reason": exc.reason,
                        "message": exc.message,
                        "expected": exc.expected,
                    }
                ],
            )
            append(
                conn,
                actor,
                [AuditEvent("document.quarantined", "source_document", sha, {"name": name, "reason": exc.reason})],
            )
        raise
    stamp = now()
    with engine.begin() as conn:
        repo.store_sources(conn, [repo.SourceRow(sha, name, data, "isp_answer")], run_id=0)
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
        conn.execute(update(isp_requests).where(isp_requests.c.id.in_(answered)).values(status="answered"))
        references = [r.reference for r in requests if r.id in answered]
        append(
            conn,
            actor,
            [AuditEvent("request.answered", "isp_request", ref, {"file": name, "sha256": sha}) for ref in references],
        )
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
        items = conn.execute(select(isp_request_items).where(isp_request_items.c.request_id.in_(request_ids))).all()
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
