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
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from sqlalchemy import Engine, select, update

from tipfusion.audit import AuditEvent, append
from tipfusion.config import XmlLimits
from tipfusion.errors import DocumentRejected, TipfusionError, rows_rejected
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
        try:
            return _xlsx_rows(data)
        except Exception as exc:  # openpyxl over hostile bytes: zip, XML and cell errors of every kind
            raise DocumentRejected(
                name,
                "malformed_answer",
                f"cannot read the workbook: {type(exc).__name__}: {_printable(str(exc))}",
                expected="a complete, readable .xlsx workbook (not password-protected) with a header row",
            ) from exc
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def _xlsx_rows(data: bytes) -> list[dict[str, Any]]:
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    sheet = book.active
    if sheet is None:
        raise ValueError("the workbook has no sheet")
    values = list(sheet.iter_rows(values_only=True))
    header = [str(h or "").strip() for h in values[0]] if values else []
    return [dict(zip(header, row, strict=False)) for row in values[1:]]


def _printable(text: str) -> str:
    """A library's message may quote the file's bytes: no NUL (PostgreSQL text refuses it), no control characters."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)[:300]


def _field(column: str, mapping: dict[str, str]) -> str | None:
    if column in mapping:
        return mapping[column]
    key = column.strip().lower().replace(" ", "_").replace("-", "_")
    key = ALIASES.get(key, key)
    return key if key in FIELDS else None


# the stored width of each text field (the column's length): a longer value is refused at parse time, by its line,
# rather than by PostgreSQL at insert time (SQLite would keep it whole)
WIDTHS: dict[str, int] = {
    name: length
    for name in FIELDS
    if name in isp_answers.c and (length := getattr(isp_answers.c[name].type, "length", None))
}


def _unfit(row: dict[str, str]) -> str | None:
    """Why a row's values cannot be stored as they are (a NUL byte, a value wider than its column), or None."""
    for key, value in row.items():
        if "\x00" in value:
            return f"{key} contains a NUL byte (0x00)"
        if key != "pin" and key in WIDTHS and len(value) > WIDTHS[key]:
            return f"{key} is {len(value):,} characters (expected at most {WIDTHS[key]})"
    return None


def _ascii_digits(value: str) -> bool:
    """`str.isdigit` also accepts '²' and '٣', which `int` then refuses or reads as another number."""
    return value.isascii() and value.isdigit()


def _pin(value: str) -> str | None:
    """A postal code in ASCII digits (full-width or other decimal digits read as theirs, spaces dropped), or None."""
    digits = "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in value if not c.isspace())
    return digits if _ascii_digits(digits) and len(digits) <= WIDTHS["pin"] else None


def parse_answers(
    data: bytes, name: str, isp_zone: str, region: str, mapping: dict[str, str] | None = None
) -> list[tuple[int, dict[str, Any]]]:
    """(line, fields) for every row; raises DocumentRejected naming every bad row."""
    try:
        raw_rows = _rows(data, name)
    except (UnicodeDecodeError, ValueError, KeyError, OSError, csv.Error) as exc:
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
        unfit = _unfit(row)
        if unfit:
            problems.append(f"line {line}: {unfit}")
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
            if not _ascii_digits(row["port"]) or not 0 <= int(row["port"]) <= 65535:
                problems.append(f"line {line}: port {row['port']!r} (expected 0-65535)")
                continue
            row["port"] = int(row["port"])
        if row.get("pin"):
            pin = _pin(row["pin"])
            if pin is None:
                problems.append(f"line {line}: pin {row['pin']!r} (expected up to {WIDTHS['pin']} digits)")
                continue
            row["pin"] = pin
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
    try:
        if len(data) > limits.max_document_bytes:
            raise DocumentRejected(
                name,
                "too_large",
                f"the file is {len(data):,} bytes, over the limit of {limits.max_document_bytes:,} (not parsed)",
                expected="a smaller answer file, or raise TIPFUSION_MAX_DOCUMENT_BYTES",
            )
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
