"""Input formats as a registry: every module in `tipfusion.ingest.formats` defines one `FORMAT`, found here.

A format is one object that sniffs (how sure it is that some bytes are its own), splits (a document into the pieces
that land or fail alone: one report, each report object of a JSON list, one fileDetails) and parses (a piece into
typed records). Its `role` says what ingest does with it — land reports, attach fileDetails, store leads, keep a
container whole, skip reference data — so the ingest service is classify → plan → write over this registry and never
names a format. Adding a format is one new module there (with an existing role); a deployment's own format can be
added with `register` the same way the built-ins are found.

Sniffing is by content, never by file name alone (a name only decides where the name is the format's identity, as
for the synthetic-data marker). The most confident format wins; an equal confidence goes to the lower `ORDER`, which
is how a zip of XML is a container before it is anything else.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from tipfusion.config import XmlLimits
from tipfusion.errors import DocumentRejected
from tipfusion.ingest.sources import LoadedDocument
from tipfusion.ingest.xmlsafe import sniff_root

Role = Literal["container", "marker", "reference", "report", "file_details", "leads", "answer"]
# What `tipfusion ingest` lands; an ISP answer needs the request it answers (`tipfusion requests answer`).
INGEST_ROLES: frozenset[str] = frozenset({"container", "marker", "reference", "report", "file_details", "leads"})

CERTAIN = 1.0  # the bytes (a magic number) or the name say so outright
LIKELY = 0.5  # the shape says so (a root element, the first character, a header row)
NO = 0.0


@dataclass(slots=True)
class Piece:
    """One part of a document that lands or fails alone."""

    report_id: int
    name: str  # how messages name it: the document, or `document#index`
    pointer: str | None = None  # where it sits in its document (a JSON index); None: it is the whole document
    part_sha256: str | None = None  # its own hash; None: the document's
    payload: Any = None  # what `parse` takes; None: the document's bytes, read again when it lands
    key: str | None = None  # a fileDetails piece: the fileId it describes


@dataclass(frozen=True, slots=True)
class ParseContext:
    """What a parser needs besides the piece: where it came from and the unit's reading rules."""

    source: str
    source_sha256: str
    phone_region: str
    limits: XmlLimits
    report_id: int | None = None
    options: Mapping[str, Any] = field(default_factory=dict)  # a format's own (an ISP answer's zone and mapping)


def _whole(document: LoadedDocument, _limits: XmlLimits) -> list[Piece | DocumentRejected]:
    raise DocumentRejected(document.name, "not_split", "this format's documents are not split into pieces")


def _no_parse(_payload: Any, context: ParseContext) -> Any:
    raise DocumentRejected(context.source, "not_parsed", "this format's documents are not parsed")


@dataclass(frozen=True)
class Format:
    name: str  # what the store calls a document of this format (source_documents.format)
    role: Role
    description: str
    sniff: Callable[[str, bytes], float]  # (name as received, bytes) → CERTAIN, LIKELY or NO
    # whole-document problems raise DocumentRejected; a piece's own problem is returned in its place
    split: Callable[[LoadedDocument, XmlLimits], list[Piece | DocumentRejected]] = _whole
    parse: Callable[[Any, ParseContext], Any] = _no_parse  # a piece's payload → typed records
    part_role: str | None = None  # the role its pieces take in a report's composition (report_parts.role)
    surest: float = LIKELY  # the most its sniff ever says: classify stops once no format left can say more


_EXTRA: dict[str, tuple[int, Format]] = {}


@cache
def formats() -> dict[str, Format]:
    """Every registered format by name, in the order of their `ORDER` (then name)."""
    from tipfusion.ingest import formats as package

    found: list[tuple[int, Format]] = list(_EXTRA.values())
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        fmt = getattr(module, "FORMAT", None)
        if isinstance(fmt, Format):
            found.append((getattr(module, "ORDER", 100), fmt))
    return {f.name: f for _, f in sorted(found, key=lambda pair: (pair[0], pair[1].name))}


@contextmanager
def registered(fmt: Format, order: int = 100) -> Iterator[Format]:
    """Register a format defined outside `tipfusion.ingest.formats` while the block runs (a test, a deployment's
    start-up). Worker processes find only the built-ins, so ingest parses a batch holding such a format's reports
    in-process (`all_in_workers`)."""
    _EXTRA[fmt.name] = (order, fmt)
    formats.cache_clear()
    _sniffing_order.cache_clear()
    try:
        yield fmt
    finally:
        _EXTRA.pop(fmt.name, None)
        formats.cache_clear()
        _sniffing_order.cache_clear()


def all_in_workers() -> bool:
    """Whether a parser process (which imports `tipfusion.ingest.formats` afresh) knows every registered format."""
    return not _EXTRA


def get(name: str) -> Format:
    return formats()[name]


def by_part_role(part_role: str) -> Format | None:
    """The format whose pieces a stored composition part (report, json_report, file_details) was read from."""
    return next((fmt for fmt in formats().values() if fmt.part_role == part_role), None)


def classify(name: str, data: bytes, roles: frozenset[str] = INGEST_ROLES) -> Format | None:
    """The format most sure the document is its own (ties to the earlier one); None when none claims it."""
    best: Format | None = None
    best_score = NO
    for fmt, later in _sniffing_order(roles):
        score = fmt.sniff(name, data)
        if score > best_score:
            best, best_score = fmt, score
        if best is not None and best_score >= later:  # no format left can be surer: an XML report is not also
            break  # asked whether it is a lead list
    _forget_root()
    return best


@cache
def _sniffing_order(roles: frozenset[str]) -> tuple[tuple[Format, float], ...]:
    """The formats of these roles in order, each with the surest any format after it can be."""
    chosen = [fmt for fmt in formats().values() if fmt.role in roles]
    return tuple((fmt, max((f.surest for f in chosen[i + 1 :]), default=NO)) for i, fmt in enumerate(chosen))


def unclaimed(name: str, data: bytes) -> DocumentRejected:
    """Why a document no format claims cannot land: XML with a root no format reads, or nothing known."""
    if _looks_xml(data):
        root = str(sniff_root(data))
        return DocumentRejected(
            name, "wrong_root", f"XML root element is <{root}>", element=root, expected="<report> or <fileDetails>"
        )
    landed = [f.description for f in formats().values() if f.role in {"report", "file_details", "leads"}]
    return DocumentRejected(
        name,
        "unrecognised_format",
        "not a format tipfusion ingests",
        expected="one of: " + "; ".join(landed),
    )


def base_name(name: str) -> str:
    """A document's own name: the last part of a path, or of a zip member's `archive.zip!member` label."""
    return name.replace("\\", "/").rsplit("/", 1)[-1].rsplit("!", 1)[-1]


def _looks_xml(data: bytes) -> bool:
    return data[:64].lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")


_last_root: tuple[bytes | None, str | None] = (None, None)


def xml_root(data: bytes) -> str | None:
    """The root element's local name when the document starts like XML (after a BOM and blank space), else None.

    Several formats ask of the same document (a <report>? a <fileDetails>?): the answer is kept while `classify`
    asks (one tuple, replaced whole, so threads never see half of one) and the document is read once."""
    global _last_root
    held, root = _last_root
    if held is data:
        return root
    root = sniff_root(data) if _looks_xml(data) else None
    _last_root = (data, root)
    return root


def _forget_root() -> None:
    """Let the last document go (it may be large) once it is classified."""
    global _last_root
    _last_root = (None, None)
