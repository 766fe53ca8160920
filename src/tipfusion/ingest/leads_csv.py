"""Bulk identifier lists from other sources (a foreign force's phone list, …): stored as leads, not reports.

Format (UTF-8 CSV with a header row; column order free, extra columns kept as the note):

    lead_ref,agency,kind,value,country,received_at,note
    DE-BKA-2026-0142,BKA Germany,phone,+44 7700 900123,GB,2026-10-01T09:00:00Z,distribution ring

Required columns: lead_ref, kind, value. `kind` is an identifier kind's lead name (each kind says whether
lead lists can carry it: `tipfusion.normalise.registry.LEAD_KINDS`). `country` (ISO alpha-2) is the region
for a phone written without its country code. A file with any bad row is rejected whole, listing every bad row.
"""

from __future__ import annotations

import csv
import io

from tipfusion.domain import LeadItem
from tipfusion.errors import DocumentRejected, rows_rejected
from tipfusion.normalise import Context, clean
from tipfusion.normalise.registry import LEAD_KINDS
from tipfusion.normalise.timestamps import ImpossibleTime, parse_timestamp

REQUIRED = ("lead_ref", "kind", "value")


def looks_like_leads(data: bytes) -> bool:
    header = data[:4096].decode("utf-8-sig", "replace").splitlines()[:1]
    if not header:
        return False
    columns = {c.strip().lower() for c in header[0].split(",")}
    return all(c in columns for c in REQUIRED)


def parse_leads(data: bytes, *, source: str, phone_region: str) -> list[LeadItem]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentRejected(source, "malformed_csv", f"not UTF-8 text: {exc.reason}", expected="UTF-8 CSV") from exc
    reader = csv.DictReader(io.StringIO(text))
    try:
        return _parse(reader, source, phone_region)
    except csv.Error as exc:  # a field past the csv module's limit (128 KiB), a quote the reader cannot close
        raise DocumentRejected(
            source,
            "malformed_csv",
            f"line {reader.line_num}: {exc}",
            line=reader.line_num,
            expected=f"CSV fields of at most {csv.field_size_limit():,} characters",
        ) from exc


def _parse(reader: csv.DictReader[str], source: str, phone_region: str) -> list[LeadItem]:
    fields = [f.strip().lower() for f in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in fields]
    if missing:
        raise DocumentRejected(
            source,
            "missing_element",
            f"header lacks column(s) {', '.join(missing)}",
            line=1,
            element="header",
            expected=", ".join(REQUIRED),
        )
    items: list[LeadItem] = []
    problems: list[str] = []
    for row_number, raw_row in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw_row.items() if k is not None}
        if not any(row.values()):
            continue
        nul = next((k or "(header)" for k, v in row.items() if "\x00" in k or "\x00" in v), None)
        if nul is not None:  # PostgreSQL text cannot hold it; SQLite would: refused on both, by line
            problems.append(f"line {row_number}: column {nul!r} contains a NUL byte (0x00)")
            continue
        word = row.get("kind", "").lower().replace(" ", "_")
        value = row.get("value", "")
        if not row.get("lead_ref"):
            problems.append(f"line {row_number}: lead_ref is empty (expected the lead's reference)")
            continue
        identifier = LEAD_KINDS.get(word)
        if identifier is None:
            problems.append(f"line {row_number}: kind {word!r} (expected one of {', '.join(sorted(LEAD_KINDS))})")
            continue
        kind = identifier.name
        context = Context(phone_region=(row.get("country") or phone_region).upper())
        cleaned = clean(kind, value, context)
        if cleaned is None:
            problems.append(f"line {row_number}: value is empty (expected a {word})")
            continue
        if identifier.refuse_invalid and not cleaned.valid:
            problems.append(f"line {row_number}: value {value!r} is not a valid {identifier.label}")
            continue
        received = None
        if row.get("received_at"):
            try:
                received = parse_timestamp(row["received_at"]).utc
            except ImpossibleTime as exc:
                problems.append(f"line {row_number}: received_at {exc}")
                continue
        extra = {
            k: v
            for k, v in row.items()
            if k not in {"lead_ref", "agency", "kind", "value", "country", "received_at", "note"} and v
        }
        note = row.get("note") or None
        if extra:
            note = "; ".join([*((note and [note]) or []), *(f"{k}={v}" for k, v in extra.items())])
        items.append(
            LeadItem(
                lead_ref=row["lead_ref"],
                kind=kind,
                value=cleaned.value,
                canonical=cleaned.canonical,
                raw=value,
                line=row_number,
                valid=cleaned.valid,
                detail=cleaned.detail,
                agency=row.get("agency") or None,
                country=row.get("country") or None,
                received_at=received,
                note=note,
            )
        )
    if problems:
        raise rows_rejected(source, problems)
    if not items:
        raise DocumentRejected(source, "empty", "no lead rows", expected="at least one row after the header")
    return items
