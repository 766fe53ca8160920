"""Hardened XML reading: no DTDs, no entity expansion, no network, bounded size and depth.

Tips arrive from outside; a crafted document (XXE, billion laughs) must be refused with a clear reason,
never expanded. Rejecting any DTD is the rule defusedxml applies too: NCMEC documents never need one.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from io import BytesIO
from typing import Any

from lxml import etree

from tipfusion.config import XmlLimits
from tipfusion.errors import DocumentRejected

_ROOT = re.compile(rb"<(?![?!])(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")
_SPACE = re.compile(rb"[ \t\r\n]*")
_DOCTYPE = re.compile(rb"<!DOCTYPE[^\[>]*(?:\[.*?\][ \t\r\n]*)?>", re.IGNORECASE | re.DOTALL)
_CLOSING = {b"<?": b"?>", b"<!--": b"-->"}
_BOM = b"\xef\xbb\xbf"
_LOCAL = threading.local()


def local_name(tag: object) -> str:
    text = tag if isinstance(tag, str) else str(tag)
    return text.rsplit("}", 1)[-1] if text.startswith("{") else text


def prolog_end(data: bytes) -> tuple[int, int | None]:
    """Where the root element should start, and where a DOCTYPE starts if the prolog has one.

    Walks the whole prolog (declaration, comments, processing instructions, a DOCTYPE) however long it is: a DTD
    placed after 64 KiB of comment is found like any other. Anything unterminated stops the walk where it starts
    (the parser then calls the document malformed).
    """
    position = len(_BOM) if data.startswith(_BOM) else 0
    doctype: int | None = None
    while True:
        space = _SPACE.match(data, position)
        position = space.end() if space else position
        opening = next((o for o in (b"<?", b"<!--") if data.startswith(o, position)), None)
        if opening is not None:
            end = data.find(_CLOSING[opening], position + len(opening))
            if end == -1:
                return position, doctype
            position = end + len(_CLOSING[opening])
        elif doctype is None and data[position : position + 9].upper() == b"<!DOCTYPE":
            doctype = position
            declaration = _DOCTYPE.match(data, position)
            if declaration is None:
                return position, doctype
            position = declaration.end()
        else:
            return position, doctype


def sniff_root(data: bytes) -> str | None:
    """The local name of the root element, from the bytes after the prolog; None if this does not look like XML."""
    position, _ = prolog_end(data)
    head = data[position : position + 8192]
    if not head.startswith(b"<"):
        return None
    position = 0
    while True:
        match = _ROOT.search(head, position)
        if match is None:
            return None
        # skip comments: a '<' inside <!-- --> is not the root
        comment_start = head.rfind(b"<!--", 0, match.start())
        comment_end = head.find(b"-->", comment_start) if comment_start != -1 else -1
        if comment_start != -1 and comment_end == -1:
            return None  # a comment longer than the window: no root in sight
        if comment_start != -1 and comment_end > match.start():
            position = comment_end + 3
            continue
        return match.group(1).decode("ascii", "replace")


def _parser() -> etree.XMLParser:
    """One hardened parser per thread: building a parser costs more than parsing a small document."""
    parser: etree.XMLParser | None = getattr(_LOCAL, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )
        _LOCAL.parser = parser
    return parser


def check_size(data: bytes, source: str, limits: XmlLimits) -> None:
    if len(data) > limits.max_document_bytes:
        raise DocumentRejected(
            source,
            "too_large",
            f"document is {len(data):,} bytes, over the limit of {limits.max_document_bytes:,}",
            expected="a smaller document, or raise TIPFUSION_MAX_DOCUMENT_BYTES",
        )


def _dtd_refused(source: str, line: int | None) -> DocumentRejected:
    return DocumentRejected(
        source,
        "dtd_forbidden",
        "document declares a DTD (entity expansion and external references are refused)",
        element="<!DOCTYPE>",
        line=line,
        expected="no DOCTYPE declaration",
    )


def _refuse_dtd(data: bytes, source: str) -> None:
    """Refuse a DOCTYPE before parsing, wherever in the prolog it stands."""
    _, doctype = prolog_end(data)
    if doctype is not None:
        raise _dtd_refused(source, data.count(b"\n", 0, doctype) + 1)


def _refuse_parsed_dtd(element: etree._Element, data: bytes, source: str) -> None:
    """Second line of defence, from what the parser itself saw (e.g. a UTF-16 prolog the byte scan cannot read).

    Called before any child is used, so an entity the DTD declared can never reach the store as cut text.
    """
    info = element.getroottree().docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise _dtd_refused(source, _doctype_line(data, info.encoding))


def _doctype_line(data: bytes, encoding: str | None) -> int | None:
    """The line of the DOCTYPE in a document the byte scan could not read (the streaming parser does not always
    say which encoding it used: try it, then the Unicode forms an XML document may take)."""
    for codec in dict.fromkeys(filter(None, (encoding, "utf-8", "utf-16", "utf-32"))):
        try:
            text = data.decode(codec)
        except (LookupError, UnicodeDecodeError):
            continue
        index = text.find("<!DOCTYPE")
        if index != -1:
            return text.count("\n", 0, index) + 1
    return None


def _malformed(source: str, message: str, line: int | None) -> DocumentRejected:
    return DocumentRejected(source, "malformed_xml", f"malformed XML: {message}", line=line, expected="well-formed XML")


def parse_tree(data: bytes, source: str, limits: XmlLimits) -> etree._Element:
    """Parse a small document whole (fileDetails)."""
    check_size(data, source, limits)
    _refuse_dtd(data, source)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise _malformed(source, exc.msg, exc.lineno) from exc
    _refuse_parsed_dtd(root, data, source)
    return root


def iter_top_level(data: bytes, source: str, limits: XmlLimits, expected_root: str) -> Iterator[etree._Element]:
    """Yield the children of the root one at a time.

    Documents up to `limits.stream_above_bytes` are parsed whole (libxml2 in C is fastest); larger ones are
    streamed, each top-level child freed after use, so memory is bounded by the largest child.
    Nesting depth is bounded by libxml2 itself (256 levels without huge_tree).
    """
    if len(data) <= limits.stream_above_bytes:
        root = parse_tree(data, source, limits)
        _check_root(root, source, expected_root)
        yield from root
        return
    check_size(data, source, limits)
    _refuse_dtd(data, source)
    context = etree.iterparse(
        BytesIO(data),
        events=("start", "end"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    depth = 0
    root_element: etree._Element | None = None
    try:
        for event, element in context:
            if event == "start":
                depth += 1
                if root_element is None:
                    root_element = element
                    _refuse_parsed_dtd(element, data, source)
                    _check_root(element, source, expected_root)
                continue
            depth -= 1
            if depth == 1:
                yield element
                element.clear(keep_tail=False)
                while root_element is not None and element.getprevious() is not None:
                    del root_element[0]
    except etree.XMLSyntaxError as exc:
        raise _streamed_syntax_error(context, exc, source) from exc
    if root_element is None:
        raise DocumentRejected(source, "malformed_xml", "document has no root element", expected=f"<{expected_root}>")


def _check_root(element: etree._Element, source: str, expected_root: str) -> None:
    name = local_name(element.tag)
    if name != expected_root:
        raise DocumentRejected(
            source,
            "wrong_root",
            f"root element is <{name}>",
            element=name,
            line=element.sourceline,
            expected=f"<{expected_root}>",
        )


def _streamed_syntax_error(context: etree.iterparse[Any], exc: etree.XMLSyntaxError, source: str) -> DocumentRejected:
    """iterparse often reports only "no element found" at line 0; its own error log holds the first real error
    (e.g. an undefined entity reference), with its line."""
    first = next(iter(context.error_log.filter_from_errors()), None)
    if first is None:
        return _malformed(source, exc.msg, exc.lineno or 1)
    return _malformed(source, f"{first.message}, line {first.line}, column {first.column}", first.line)
