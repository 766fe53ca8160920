"""A quarantine entry: what could not land, named well enough to find and fix it — built here and nowhere else.

Every path that refuses something (a document no format claims, a report the parser rejects, a row the store refuses,
fileDetails waiting for their report, an ISP answer that matches no request) makes one of these; the store writes its
`row()`, the run summary prints its `describe()`, the audit log records its `audit_details()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tipfusion.errors import DocumentRejected

ORPHAN = "orphan_file_details"  # the reason fileDetails wait under: not a rejection, their report has not landed
MARKER_REFUSED = "synthetic_marker_refused"  # a synthetic-data marker that would have flagged a store of real reports


@dataclass(frozen=True, slots=True)
class QuarantineEntry:
    source_sha256: str  # the stored document the entry points at (its bytes are kept)
    source_name: str  # the file as received (a zip member as `archive.zip!member`)
    reason: str  # a stable machine code, e.g. malformed_xml
    message: str
    run_id: int = 0
    format: str | None = None  # the input format it was read as; None when no format claimed it
    pointer: str | None = None  # where inside the document: a JSON index, a fileId, a zip member
    report_id: int | None = None
    element: str | None = None  # e.g. report/personOrUserReported[1]/ipCaptureEvent[2]/ipAddress
    line: int | None = None
    expected: str | None = None

    @classmethod
    def of(
        cls, error: DocumentRejected, sha256: str, run_id: int, *, pointer: str | None = None, fmt: str | None = None
    ) -> QuarantineEntry:
        """The entry for a rejection; `error.source` may name a piece (`file.json#3`), the entry names the file."""
        return cls(
            source_sha256=sha256,
            source_name=error.source.split("#", 1)[0],
            reason=error.reason,
            message=error.message,
            run_id=run_id,
            format=fmt,
            pointer=pointer,
            report_id=error.report_id,
            element=error.element,
            line=error.line,
            expected=error.expected,
        )

    @classmethod
    def waiting(
        cls, sha256: str, name: str, file_id: str, report_id: int, why: str, run_id: int, fmt: str
    ) -> QuarantineEntry:
        """fileDetails whose report did not land: kept byte for byte until it does."""
        return cls(
            source_sha256=sha256,
            source_name=name,
            reason=ORPHAN,
            message=f"fileDetails {file_id} for report {report_id}: {why}",
            run_id=run_id,
            format=fmt,
            pointer=file_id,
            report_id=report_id,
            element="fileDetails/reportId",
            expected=f"report {report_id}",
        )

    @classmethod
    def marker_refused(cls, sha256: str, name: str, why: str, run_id: int) -> QuarantineEntry:
        """A synthetic-data marker (or ground-truth table) not honoured: the store holds reports its batch did not
        bring, so it stays unflagged (kept byte for byte; the entry says why and how to flag the store on purpose)."""
        return cls(
            source_sha256=sha256,
            source_name=name,
            reason=MARKER_REFUSED,
            message=f"the synthetic-data marker was refused and the store NOT flagged synthetic: {why}",
            run_id=run_id,
            format="synthetic_marker",
            expected="a synthetic batch into an empty or already synthetic store, or `tipfusion ingest --synthetic`",
        )

    @property
    def rejected(self) -> bool:
        """False for fileDetails waiting for their report (counted apart, not as quarantined)."""
        return self.reason != ORPHAN

    @property
    def key(self) -> tuple[str, str | None, str]:
        """One open entry per (document, place in it, reason): the same failure again adds nothing."""
        return self.source_sha256, self.pointer, self.reason

    def row(self) -> dict[str, Any]:
        """The columns of quarantine_entries."""
        return {
            "run_id": self.run_id,
            "source_sha256": self.source_sha256,
            "source_name": self.source_name,
            "format": self.format,
            "pointer": self.pointer,
            "report_id": self.report_id,
            "reason": self.reason,
            "message": self.message,
            "element": self.element,
            "line": self.line,
            "expected": self.expected,
        }

    def audit_details(self) -> dict[str, Any]:
        return {
            "name": self.source_name,
            "reason": self.reason,
            "report_id": self.report_id,
            "element": self.element,
            "format": self.format,
        }

    def describe(self) -> str:
        """One line for a run summary: where, why, and what was expected."""
        where = self.source_name + (f":{self.line}" if self.line else "")
        text = f"{where}: {self.reason}: {self.message}"
        if self.element:
            text += f" [element {self.element}]"
        if self.expected:
            text += f" (expected {self.expected})"
        return text
