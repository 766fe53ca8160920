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
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from tipfusion.errors import DocumentRejected, rows_rejected
from tipfusion.ingest.registry import LIKELY, NO, Format, ParseContext, base_name
from tipfusion.normalise import Context, clean
from tipfusion.normalise.timestamps import ImpossibleTime, parse_timestamp

ORDER = 70

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
        from openpyxl import load_workbook  # only when a spreadsheet is read: the registry is loaded at start-up

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
    except Exception as exc:  # a damaged spreadsheet fails in many ways (BadZipFile, a bad CRC, …): all mean unreadable
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


def parse(payload: Any, context: ParseContext) -> list[tuple[int, dict[str, Any]]]:
    options = context.options
    return parse_answers(
        payload, context.source, options.get("zone", "UTC"), context.phone_region, options.get("mapping")
    )


FORMAT = Format("isp_answer", "answer", "an ISP's answer to a data request (CSV or XLSX)", sniff, parse=parse)
