"""An ISP's or telecom's answer to a data request (CSV or XLSX, one row per requested sighting).

It lands through `tipfusion requests answer`, not `tipfusion ingest`: a row means something only against the request
it answers (which ISP, which log zone, which columns mean what), so ingest leaves the format out of its
classification (`tipfusion.ingest.registry.INGEST_ROLES`). Columns are mapped by a per-ISP mapping
(`ParseContext.options["mapping"]`), else matched by name; a time without a zone is read in the ISP's log zone
(`options["zone"]`). A file with any bad row is rejected whole, every bad row named.
"""

from __future__ import annotations

import csv
import io
import itertools
import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from tipfusion.errors import DocumentRejected, rows_rejected
from tipfusion.ingest.registry import LIKELY, NO, Format, ParseContext, base_name
from tipfusion.normalise import Context, clean
from tipfusion.normalise.timestamps import ImpossibleTime, parse_timestamp
from tipfusion.store.tables import isp_answers

ORDER = 70
MAX_ROWS = 100_000  # an answer has one row per requested sighting; past this it is refused, not held

SUBSCRIBER_FIELDS = (
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
FIELDS = ("ip", "port", "time", *SUBSCRIBER_FIELDS)  # what a column can be mapped to
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


def sniff(name: str, data: bytes) -> float:
    """A spreadsheet by its name (an .xlsx is a zip: only a name tells it from a batch), or a CSV whose header names
    an IP and a time column. A mapping can make any header an answer's: sniffing is for telling formats apart, the
    answer command reads the file it is given."""
    if base_name(name).lower().endswith(".xlsx"):
        return LIKELY
    header = data[:4096].decode("utf-8-sig", "replace").splitlines()[:1]
    columns = {_field(c, {}) for c in header[0].split(",")} if header else set()
    return LIKELY if {"ip", "time"} <= columns else NO


def _rows(data: bytes, name: str) -> list[dict[str, Any]]:
    if name.lower().endswith(".xlsx"):
        try:
            return _xlsx_rows(data, name)
        except DocumentRejected:
            raise
        except Exception as exc:  # openpyxl over hostile bytes: zip, XML and cell errors of every kind
            raise DocumentRejected(
                name,
                "malformed_answer",
                f"cannot read the workbook: {type(exc).__name__}: {_printable(str(exc))}",
                expected="a complete, readable .xlsx workbook (not password-protected) with a header row",
            ) from exc
    return _at_most(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))), name)


def _at_most(rows: Iterable[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """The rows, refused past MAX_ROWS before they are all held: a 20 MB answer of 600 k rows took 474 MiB."""
    kept = list(itertools.islice(rows, MAX_ROWS + 1))
    if len(kept) > MAX_ROWS:
        raise DocumentRejected(
            name,
            "too_many_rows",
            f"more than {MAX_ROWS:,} rows (not read further)",
            expected=f"one row per requested sighting, at most {MAX_ROWS:,}: split the answer into several files",
        )
    return kept


def _xlsx_rows(data: bytes, name: str) -> list[dict[str, Any]]:
    from openpyxl import load_workbook  # only when a spreadsheet is read: the registry is loaded at start-up

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    sheet = book.active
    if sheet is None:
        raise ValueError("the workbook has no sheet")
    values = sheet.iter_rows(values_only=True)
    first = next(values, None)
    header = [str(h or "").strip() for h in first] if first else []
    return _at_most((dict(zip(header, row, strict=False)) for row in values), name)


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
        raw_rows = _rows(data, name)  # a damaged workbook is rejected inside, naming what openpyxl found
    except (UnicodeDecodeError, ValueError, KeyError, OSError, csv.Error) as exc:
        raise DocumentRejected(
            name,
            "malformed_answer",
            f"cannot read the answer file: {_printable(str(exc))}",
            expected="a CSV or XLSX with a header row",
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


def parse(payload: Any, context: ParseContext) -> list[tuple[int, dict[str, Any]]]:
    options = context.options
    return parse_answers(
        payload, context.source, options.get("zone", "UTC"), context.phone_region, options.get("mapping")
    )


FORMAT = Format("isp_answer", "answer", "an ISP's answer to a data request (CSV or XLSX)", sniff, parse=parse)
