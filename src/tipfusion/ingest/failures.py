"""Any failure while reading or parsing one document becomes that document's rejection, never the batch's end.

Parsers raise DocumentRejected for what they know is wrong; this turns everything else (a RecursionError from
JSON nested 10,000 deep, an OverflowError, an I/O error half-way through a file) into the same thing, with a
stable reason code, so the document is quarantined with its reason and the rest of the batch lands.
"""

from __future__ import annotations

from collections.abc import Iterable

from tipfusion.audit import AuditEvent
from tipfusion.domain import QuarantineEntry
from tipfusion.errors import DocumentRejected


def failure(source: str, exc: BaseException, report_id: int | None = None) -> DocumentRejected:
    """The document's rejection, kept without its traceback (see `detached`)."""
    if isinstance(exc, DocumentRejected):
        return detached(exc)
    if isinstance(exc, RecursionError):
        reason, message, expected = "too_deep", "nested too deeply to read", "a document nested less deeply"
    elif isinstance(exc, MemoryError):
        reason, message, expected = "too_large", "too large to hold in memory", "a smaller document"
    elif isinstance(exc, OSError):
        reason, message, expected = "unreadable", f"cannot read: {exc.strerror or exc}", "a readable file"
    else:
        reason = "parse_failed"
        message = f"could not be read ({type(exc).__name__}: {str(exc)[:200]})"
        expected = "a document this version of tipfusion can read (please report it)"
    return DocumentRejected(source, reason, message, expected=expected, report_id=report_id)


def detached(exc: DocumentRejected) -> DocumentRejected:
    """A rejection kept until its batch is written, without the tracebacks of it and of what caused it.

    A traceback holds the frames the parser raised through, and their locals hold the document's bytes: the five
    56 MiB reports a batch refused were all held until the garbage collector broke the cycles (281 MiB), though
    each chunk of pass 2 holds one. Its message, reason, file and element are what the quarantine keeps."""
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        link.__traceback__ = None
        link = link.__cause__ or link.__context__
    return exc


def quarantined_events(entries: Iterable[QuarantineEntry]) -> list[AuditEvent]:
    """The audit record of entries newly quarantined (one event each, naming the document, reason and format)."""
    return [AuditEvent("document.quarantined", "source_document", e.source_sha256, e.audit_details()) for e in entries]
