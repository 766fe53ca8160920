"""Hash list files → entries, each bad row a problem naming its line; pure (no store).

CSV (UTF-8, a header row; column order free; `,` `;` or tab separated; lines starting with `#` are comments):

    md5,sha1,sha256,pdq,category,source
    9e107d9d372bb6826bd81d3542a419d6,,,,1,Example national list 2026-11

- hash columns, at least one: `md5`, `sha1`, `sha256`, `pdq` (headers compare case-, space-, `-` and
  `_`-insensitively, with or without a `hash` prefix or suffix: `MD5`, `SHA-1`, `sha_256`, `MD5 Hash`, `hash_md5`,
  `PDQHash`), or one `hash` (`value`, `hash_value`) column with a `type` (`hash_type`, `algorithm`) column naming
  md5, sha1, sha256 or pdq per row;
- `category` (`cat`, `classification`, `label`): the list's own category, kept as given;
- `source` (`origin`, `provider`): who listed it; empty → the import's `--source`.
Other columns are ignored (never stored). A row's hash cells are all good or the row is refused whole.

VICS (Project VIC JSON, OData): an object whose `value` array holds Media records (VICS 2.0, `@odata.context`) or
Case records each with a `Media` array (VICS 1.3, `odata.metadata`). Read from each Media record: `MD5`, `SHA1`,
`SHA256`, `PhotoDNA` (base64 of 144 bytes), `PDQ`, `AlternativeHashes` (`HashName`/`HashValue` pairs), `Category`,
`MediaID`, `PrecategorizationSource`. Nothing else is read: no thumbnail, file name, EXIF or comment.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any

from tipfusion.errors import DocumentRejected

ALGORITHMS = {"md5": 32, "sha1": 40, "sha256": 64, "pdq": 64}  # hex digits
PHOTODNA_BYTES = 144
_HEX = re.compile(r"^[0-9a-f]+$")
_FOLD = re.compile(r"[\s_\-.]+")

_HASH_HEADERS = {"md5": "md5", "sha1": "sha1", "sha256": "sha256", "pdq": "pdq"}
_CATEGORY_HEADERS = {"category", "cat", "classification", "label", "categoryid"}
_SOURCE_HEADERS = {"source", "origin", "provider", "listsource"}
_VALUE_HEADERS = {"hash", "value", "hashvalue"}
_TYPE_HEADERS = {"type", "hashtype", "algorithm", "hashalgorithm", "kind"}


@dataclass(frozen=True, slots=True)
class Entry:
    algorithm: str  # md5 | sha1 | sha256 | pdq | photodna
    value: str  # lower-case hex (PhotoDNA: base64 as given)
    category: str | None
    source: str | None
    media_ref: str  # the VICS MediaID, or `line N`
    line: int

    @property
    def canonical(self) -> str:
        """As ingest writes a file hash (`identifier_observations.canonical`), so matching is one equality join."""
        return f"{self.algorithm}:{self.value}"


@dataclass(frozen=True, slots=True)
class Problem:
    line: int
    field: str | None
    message: str


@dataclass
class Parsed:
    entries: list[Entry]
    problems: list[Problem]
    rows: int  # rows (CSV) or Media records (VICS) read
    ignored_fields: list[str]


def fold(header: str) -> str:
    """A header compared loosely: `SHA-1 Hash` → `sha1`, `hash_md5` → `md5`, `PDQHash` → `pdq`."""
    text = _FOLD.sub("", header.strip().lower())
    for affix in ("hash",):
        if text != affix and text.endswith(affix) and text[: -len(affix)] in _HASH_HEADERS:
            text = text[: -len(affix)]
        if text != affix and text.startswith(affix) and text[len(affix) :] in _HASH_HEADERS:
            text = text[len(affix) :]
    return text


def clean_hex(algorithm: str, raw: str) -> tuple[str | None, str | None]:
    """(value, None) or (None, what was wrong): lower-case hex of the algorithm's length."""
    text = re.sub(r"[\s:]+", "", raw).lower()
    want = ALGORITHMS[algorithm]
    if not _HEX.match(text):
        return None, f"{algorithm} {raw.strip()[:80]!r} is not hexadecimal (expected {want} hex digits)"
    if len(text) != want:
        return None, f"{algorithm} {raw.strip()[:80]!r} has {len(text)} hex digits (expected {want})"
    return text, None


def clean_photodna(raw: str) -> tuple[str | None, str | None]:
    text = raw.strip()
    try:
        size = len(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError):
        return None, f"PhotoDNA {text[:40]!r}… is not base64 (expected base64 of {PHOTODNA_BYTES} bytes)"
    if size != PHOTODNA_BYTES:
        return None, f"PhotoDNA decodes to {size} bytes (expected {PHOTODNA_BYTES})"
    return text, None


def _text(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentRejected(
            source, "malformed_text", f"not UTF-8 text at byte {exc.start}", expected="UTF-8"
        ) from exc


# -- CSV ---------------------------------------------------------------------------------------------------------
def _dialect(header_line: str) -> str:
    counts = {sep: header_line.count(sep) for sep in (",", ";", "\t")}
    return max(counts, key=lambda sep: counts[sep]) if any(counts.values()) else ","


def _records(text: str, separator: str) -> Iterator[tuple[int, list[str] | csv.Error]]:
    """(first line, cells) of each CSV record that is not a comment (`#` first); a record may span lines."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield line, exc
            continue
        if cells and cells[0].lstrip().startswith("#"):
            continue
        yield line, cells


def parse_csv(data: bytes, *, source: str, default_source: str | None = None) -> Parsed:
    text = _text(data, source)
    first = next((line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")), "")
    records = _records(text, _dialect(first))
    header_number, header = next(((n, c) for n, c in records if not isinstance(c, csv.Error) and any(c)), (1, []))
    if not header:
        raise DocumentRejected(
            source, "empty", "no header row", line=1, expected="a header naming md5, sha1, sha256 or pdq"
        )
    roles: dict[int, str] = {}
    ignored: list[str] = []
    for index, name in enumerate(header):
        key = fold(name)
        if key in _HASH_HEADERS:
            roles[index] = _HASH_HEADERS[key]
        elif key in _CATEGORY_HEADERS:
            roles[index] = "category"
        elif key in _SOURCE_HEADERS:
            roles[index] = "source"
        elif key in _VALUE_HEADERS:
            roles[index] = "value"
        elif key in _TYPE_HEADERS:
            roles[index] = "type"
        elif name.strip():
            ignored.append(name.strip())
    if "type" in roles.values() and "value" not in roles.values():  # a `type` beside md5/sha1 columns: media type
        for index in [i for i, role in roles.items() if role == "type"]:
            del roles[index]
            ignored.append(header[index].strip())
    _check_header(source, header_number, header, list(roles.values()))
    entries: list[Entry] = []
    problems: list[Problem] = []
    rows = 0
    for line, cells in records:
        if isinstance(cells, csv.Error):
            problems.append(Problem(line, None, f"unreadable CSV row: {cells}"))
            continue
        if not any(cell.strip() for cell in cells):
            continue
        rows += 1
        found, problem = _csv_row(cells, roles, line, default_source)
        if problem is not None:
            problems.append(problem)
        else:
            entries.extend(found)
    return Parsed(entries, problems, rows, ignored)


def _check_header(source: str, line: int, header: list[str], seen: list[str]) -> None:
    shown = ",".join(header)[:200]
    duplicated = sorted({r for r in seen if seen.count(r) > 1})
    if duplicated:
        raise DocumentRejected(
            source,
            "bad_header",
            f"header names {', '.join(duplicated)} twice",
            line=line,
            element="header",
            expected="each column once",
        )
    if "value" in seen and "type" not in seen:
        raise DocumentRejected(
            source,
            "bad_header",
            "a hash column without a type column",
            line=line,
            element="header",
            expected="a `type` column (md5, sha1, sha256, pdq) beside `hash`, or columns named md5/sha1/sha256/pdq",
        )
    if "value" not in seen and not set(seen) & set(ALGORITHMS):
        raise DocumentRejected(
            source,
            "bad_header",
            f"no hash column in header {shown!r}",
            line=line,
            element="header",
            expected="a column named md5, sha1, sha256 or pdq (or hash + type)",
        )


def _csv_row(
    cells: list[str], roles: dict[int, str], line: int, default_source: str | None
) -> tuple[list[Entry], Problem | None]:
    """One row's entries, or the first thing wrong with it (a row lands whole or not at all)."""
    by_role = {role: cells[index].strip() for index, role in roles.items() if index < len(cells)}
    category = by_role.get("category") or None
    source = by_role.get("source") or default_source
    pairs: list[tuple[str, str]] = []
    if "value" in by_role or "type" in by_role:
        kind = fold(by_role.get("type", ""))
        if kind not in ALGORITHMS:
            return [], Problem(
                line, "type", f"hash type {by_role.get('type', '')!r} (expected md5, sha1, sha256 or pdq)"
            )
        pairs.append((kind, by_role.get("value", "")))
    else:
        pairs.extend((role, value) for role, value in by_role.items() if role in ALGORITHMS and value)
    if not pairs or not any(value for _, value in pairs):
        return [], Problem(line, None, "no hash in this row (expected at least one of md5, sha1, sha256, pdq)")
    out = []
    for algorithm, raw in pairs:
        value, wrong = clean_hex(algorithm, raw)
        if wrong is not None or value is None:
            return [], Problem(line, algorithm, wrong or "empty")
        out.append(Entry(algorithm, value, category, source, f"line {line}", line))
    return out, None


# -- VICS JSON ---------------------------------------------------------------------------------------------------
_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


class _Scanner:
    """Walks a JSON text keeping positions (json.loads forgets them), so a bad Media record names its line."""

    def __init__(self, text: str, source: str):
        self.text = text
        self.source = source
        self.line_at = 0
        self.line = 1

    def line_of(self, pos: int) -> int:
        if pos < self.line_at:  # positions only move forward, except into a record just read
            return self.text.count("\n", 0, pos) + 1
        self.line += self.text.count("\n", self.line_at, pos)
        self.line_at = pos
        return self.line

    def skip(self, pos: int) -> int:
        match = _WS.match(self.text, pos)
        return match.end() if match else pos

    def fail(self, pos: int, message: str, expected: str) -> DocumentRejected:
        return DocumentRejected(self.source, "malformed_json", message, line=self.line_of(pos), expected=expected)

    def expect(self, pos: int, char: str, expected: str) -> int:
        pos = self.skip(pos)
        if self.text[pos : pos + 1] != char:
            raise self.fail(pos, f"found {self.text[pos : pos + 12]!r}", expected)
        return pos + 1

    def value(self, pos: int) -> tuple[Any, int]:
        pos = self.skip(pos)
        try:
            return _DECODER.raw_decode(self.text, pos)
        except json.JSONDecodeError as exc:
            raise self.fail(exc.pos, exc.msg, "valid JSON") from exc

    def members(self, pos: int) -> Generator[tuple[str, int], int, None]:
        """(key, position of its value) for each member of the object at `pos`; the caller reads or skips it."""
        pos = self.expect(pos, "{", "a JSON object")
        pos = self.skip(pos)
        if self.text[pos : pos + 1] == "}":
            return
        while True:
            key, pos = self.value(pos)
            if not isinstance(key, str):
                raise self.fail(pos, "an object key that is not a string", "a string key")
            pos = self.expect(pos, ":", "':' after a key")
            pos = yield key, self.skip(pos)
            pos = self.skip(pos)
            char = self.text[pos : pos + 1]
            if char == "}":
                return
            if char != ",":
                raise self.fail(pos, f"found {self.text[pos : pos + 12]!r}", "',' or '}' in an object")
            pos += 1

    def items(self, pos: int) -> Iterator[tuple[int, Any, int]]:
        """(start, value, end) for each element of the array at `pos`."""
        pos = self.expect(pos, "[", "a JSON array")
        pos = self.skip(pos)
        if self.text[pos : pos + 1] == "]":
            return
        while True:
            start = self.skip(pos)
            item, pos = self.value(start)
            yield start, item, pos
            pos = self.skip(pos)
            char = self.text[pos : pos + 1]
            if char == "]":
                return
            if char != ",":
                raise self.fail(pos, f"found {self.text[pos : pos + 12]!r}", "',' or ']' in an array")
            pos += 1

    def find(self, pos: int, wanted: str) -> tuple[int | None, int]:
        """(position of member `wanted`'s value or None, end of the object at `pos`); checks the whole object."""
        found = None
        walk = self.members(pos)
        end = pos
        try:
            key, at = next(walk)
            while True:
                _, end = self.value(at)
                if key == wanted and found is None:
                    found = at
                key, at = walk.send(end)
        except StopIteration:
            return found, (self.skip(end) + 1) if end > pos else self._empty_end(pos)

    def _empty_end(self, pos: int) -> int:
        return self.expect(self.expect(pos, "{", "a JSON object"), "}", "'}'")


_VICS_HASHES = {"md5": "md5", "sha1": "sha1", "sha256": "sha256", "pdq": "pdq", "photodna": "photodna"}


def parse_vics(data: bytes, *, source: str, default_source: str | None = None) -> Parsed:
    text = _text(data, source)
    scan = _Scanner(text, source)
    at, end = scan.find(0, "value")
    end = scan.skip(end)
    if end != len(text):
        raise scan.fail(end, "data after the JSON document", "one JSON object")
    if at is None:
        raise DocumentRejected(
            source,
            "missing_element",
            "no `value` array",
            element="value",
            expected="a VICS JSON object with a `value` array of Media (or Case) records",
        )
    entries: list[Entry] = []
    problems: list[Problem] = []
    rows = 0
    for start, item, _ in scan.items(at):
        line = scan.line_of(start)
        if isinstance(item, dict) and isinstance(item.get("Media"), list):  # VICS 1.3: a Case with its Media
            media_at, _ = scan.find(start, "Media")
            assert media_at is not None
            for mstart, media, _ in scan.items(media_at):
                rows += 1
                _vics_media(media, scan.line_of(mstart), default_source, entries, problems)
            continue
        rows += 1
        _vics_media(item, line, default_source, entries, problems)
    return Parsed(entries, problems, rows, [])


def _vics_media(
    media: Any, line: int, default_source: str | None, entries: list[Entry], problems: list[Problem]
) -> None:
    if not isinstance(media, dict):
        problems.append(Problem(line, None, f"a {type(media).__name__} where a Media record was expected"))
        return
    fields = {fold(str(k)): v for k, v in media.items()}
    ref = fields.get("mediaid")
    media_ref = f"MediaID {ref}" if ref not in (None, "") else f"line {line}"
    category = fields.get("category")
    if (category is not None and not isinstance(category, int | str)) or isinstance(category, bool):
        problems.append(Problem(line, "Category", f"Category {category!r} (expected a number or text)"))
        return
    category_text = None if category in (None, "") else str(category).strip()
    listed = fields.get("precategorizationsource")
    where = str(listed).strip() if isinstance(listed, str) and listed.strip() else default_source
    pairs: list[tuple[str, str, Any]] = []
    for key, algorithm in _VICS_HASHES.items():
        if fields.get(key) not in (None, ""):
            pairs.append((algorithm, key.upper() if key != "photodna" else "PhotoDNA", fields[key]))
    alternatives = fields.get("alternativehashes") or []
    if not isinstance(alternatives, list):
        problems.append(Problem(line, "AlternativeHashes", "AlternativeHashes is not a list"))
        return
    for alt in alternatives:
        if not isinstance(alt, dict):
            problems.append(Problem(line, "AlternativeHashes", "an AlternativeHashes item that is not an object"))
            return
        alt_fields = {fold(str(k)): v for k, v in alt.items()}
        name = fold(str(alt_fields.get("hashname") or ""))
        if name in _VICS_HASHES and alt_fields.get("hashvalue") not in (None, ""):
            pairs.append(
                (_VICS_HASHES[name], f"AlternativeHashes {alt_fields.get('hashname')}", alt_fields["hashvalue"])
            )
    if not pairs:
        problems.append(
            Problem(line, None, "a Media record with no hash (expected MD5, SHA1, SHA256, PhotoDNA or PDQ)")
        )
        return
    found = []
    for algorithm, field, raw in pairs:
        if not isinstance(raw, str):
            problems.append(Problem(line, field, f"{field} {raw!r} is not text"))
            return
        value, wrong = clean_photodna(raw) if algorithm == "photodna" else clean_hex(algorithm, raw)
        if wrong is not None or value is None:
            problems.append(Problem(line, field, wrong or "empty"))
            return
        found.append(Entry(algorithm, value, category_text, where, media_ref, line))
    entries.extend(found)


def parse(data: bytes, fmt: str, *, source: str, default_source: str | None = None) -> Parsed:
    if fmt == "csv":
        return parse_csv(data, source=source, default_source=default_source)
    if fmt == "vics":
        return parse_vics(data, source=source, default_source=default_source)
    raise DocumentRejected(source, "unknown_format", f"format {fmt!r}", expected="csv or vics")
