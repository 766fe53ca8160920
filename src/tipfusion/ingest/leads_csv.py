"""Bulk identifier lists from other sources (a foreign force's phone list, …): stored as leads, not reports.

Format (UTF-8 CSV with a header row; column order free, extra columns kept as the note):

    lead_ref,agency,kind,value,country,received_at,note
    DE-BKA-2026-0142,BKA Germany,phone,+44 7700 900123,GB,2026-10-01T09:00:00Z,distribution ring

Required columns: lead_ref, kind, value. `kind` is an identifier kind's lead name (each kind says whether
lead lists can carry it: `tipfusion.normalise.registry.LEAD_KINDS`). `country` (ISO alpha-2) is the region
for a phone written without its country code. A file with any bad row is rejected whole, listing every bad row.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator

from tipfusion.config import XmlLimits
from tipfusion.domain import LeadItem
from tipfusion.errors import DocumentRejected, rows_rejected
from tipfusion.normalise import Context, clean
from tipfusion.normalise.registry import LEAD_KINDS
from tipfusion.normalise.timestamps import ImpossibleTime, parse_timestamp

REQUIRED = ("lead_ref", "kind", "value")
KEPT_PROBLEMS = 50  # a message names the first bad rows; the rest are counted (a list of a million bad rows)


class _Problems:
    """Bad rows: the first KEPT_PROBLEMS described, all of them counted."""

    def __init__(self) -> None:
        self.kept: list[str] = []
        self.count = 0

    def append(self, problem: str) -> None:
        self.count += 1
        if len(self.kept) < KEPT_PROBLEMS:
            self.kept.append(problem)


def looks_like_leads(data: bytes) -> bool:
    header = data[:4096].decode("utf-8-sig", "replace").splitlines()[:1]
    if not header:
        return False
    columns = {c.strip().lower() for c in header[0].split(",")}
    return all(c in columns for c in REQUIRED)


def parse_leads(data: bytes, *, source: str, phone_region: str, limits: XmlLimits | None = None) -> list[LeadItem]:
    """Every item of a lead list, or DocumentRejected naming every bad row (the list lands whole or not at all)."""
    return list(iter_leads(data, source=source, phone_region=phone_region, limits=limits))


def iter_leads(data: bytes, *, source: str, phone_region: str, limits: XmlLimits | None = None) -> Iterator[LeadItem]:
    """The items of a lead list one at a time; raises DocumentRejected (naming every bad row) once it has read them
    all, so a consumer that writes as it goes must undo what it wrote (ingest writes inside a savepoint).

    Streaming is what keeps a large list bounded: the fuzzer's 72 MiB list of 1.4 million rows, read into text, a
    `StringIO` (4 bytes a character once read by line) and a list of items, peaked at 1,016 MiB. Here the bytes are
    decoded a line at a time and an item is dropped once written."""
    if limits is not None and len(data) > limits.max_document_bytes:
        raise DocumentRejected(
            source,
            "too_large",
            f"document is {len(data):,} bytes, over the limit of {limits.max_document_bytes:,}",
            expected="a smaller document, or raise TIPFUSION_MAX_DOCUMENT_BYTES",
        )
    _check_utf8(data, source)
    reader = csv.DictReader(_text_lines(data))
    try:
        yield from _parse(reader, source, phone_region)
    except csv.Error as exc:  # a field past the csv module's limit (128 KiB), a quote the reader cannot close
        raise DocumentRejected(
            source,
            "malformed_csv",
            f"line {reader.line_num}: {exc}",
            line=reader.line_num,
            expected=f"CSV fields of at most {csv.field_size_limit():,} characters",
        ) from exc


def _check_utf8(data: bytes, source: str) -> None:
    """Refuse a list that is not UTF-8 before reading any row (as a whole decode would), a mebibyte at a time."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for start in range(0, len(data), 1 << 20):
            decoder.decode(data[start : start + (1 << 20)])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise DocumentRejected(source, "malformed_csv", f"not UTF-8 text: {exc.reason}", expected="UTF-8 CSV") from exc


def _text_lines(data: bytes) -> Iterator[str]:
    """The document's lines as text, decoded one at a time (after `_check_utf8`; a UTF-8 sequence never holds a
    newline byte). Lines end at newline only, as `StringIO` splits them; a byte-order mark is dropped."""
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    while start < len(data):
        end = data.find(b"\n", start)
        end = len(data) if end == -1 else end + 1
        yield data[start:end].decode("utf-8")
        start = end


def _parse(reader: csv.DictReader[str], source: str, phone_region: str) -> Iterator[LeadItem]:
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
    items = 0
    problems = _Problems()
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
        items += 1
        yield (
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
    if problems.count:
        raise rows_rejected(source, problems.kept, problems.count)
    if not items:
        raise DocumentRejected(source, "empty", "no lead rows", expected="at least one row after the header")
