"""Hardened XML reading: no DTDs, no entity expansion, no network, bounded size and depth.

Tips arrive from outside; a crafted document (XXE, billion laughs) must be refused with a clear reason,
never expanded. Rejecting any DTD is the rule defusedxml applies too: NCMEC documents never need one.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from io import BytesIO

from lxml import etree

from tipfusion.config import XmlLimits
from tipfusion.errors import DocumentRejected

_ROOT = re.compile(rb"<(?![?!])(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_LOCAL = threading.local()
_LOCAL = threading.local()


def local_name(tag: object) -> str:
    text = tag if isinstance(tag, str) else str(tag)
    return text.rsplit("}", 1)[-1] if text.startswith("{") else text


def sniff_root(data: bytes) -> str | None:
    """The local name of the root element, from the first bytes; None if this does not look like XML."""
    head = data[:8192].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"<"):
        return None
    position = 0
    while True:
        match = _ROOT.search(head, position)
        if match is None:
            return None
        # skip comments: a '<' inside <!-- --> is not the root
        comment_start = head.rfind(b"<!--", 0, match.start())
        if comment_start != -1 and head.find(b"-->", comment_start) > match.start():
            position = head.find(b"-->", comment_start) + 3
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


def _refuse_dtd(data: bytes, source: str) -> None:
    match = _DOCTYPE.search(data[:65536])
    if match is not None:
        line = data[: match.start()].count(b"\n") + 1
        raise DocumentRejected(
            source,
            "dtd_forbidden",
            "document declares a DTD (entity expansion and external references are refused)",
            element="<!DOCTYPE>",
            line=line,
            expected="no DOCTYPE declaration",
        )


def parse_tree(data: bytes, source: str, limits: XmlLimits) -> etree._Element:
    """Parse a small document whole (fileDetails)."""
    check_size(data, source, limits)
    _refuse_dtd(data, source)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise DocumentRejected(
            source, "malformed_xml", f"malformed XML: {exc.msg}", line=exc.lineno, expected="well-formed XML"
        ) from exc
    if root.getroottree().docinfo.doctype:
        raise DocumentRejected(source, "dtd_forbidden", "document declares a DTD", expected="no DOCTYPE declaration")
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
                    _check_root(element, source, expected_root)
                continue
            depth -= 1
            if depth == 1:
                yield element
                element.clear(keep_tail=False)
                while root_element is not None and element.getprevious() is not None:
                    del root_element[0]
    except etree.XMLSyntaxError as exc:
        raise DocumentRejected(
            source, "malformed_xml", f"malformed XML: {exc.msg}", line=exc.lineno, expected="well-formed XML"
        ) from exc
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
