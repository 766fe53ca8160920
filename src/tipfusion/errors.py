"""Every error a user can act on names the file, the element and what was expected."""

from __future__ import annotations

from dataclasses import dataclass


class TipfusionError(Exception):
    """Base class; the CLI maps these to a message and exit code in one place."""

    exit_code = 1


@dataclass
class DocumentRejected(TipfusionError):
    """A source document (or one report inside it) cannot land; it goes to quarantine.

    `reason` is a stable machine code (e.g. `malformed_xml`), `element` a path such as
    `report/personOrUserReported[1]/ipCaptureEvent[2]/ipAddress`.
    """

    source: str
    reason: str
    message: str
    element: str | None = None
    line: int | None = None
    expected: str | None = None
    report_id: int | None = None

    def __str__(self) -> str:
        where = self.source
        if self.line is not None:
            where += f":{self.line}"
        parts = [f"{where}: {self.message}"]
        if self.report_id is not None:
            parts.append(f"report {self.report_id}")
        if self.element:
            parts.append(f"element {self.element}")
        if self.expected:
            parts.append(f"expected {self.expected}")
        return "; ".join(parts)


def rows_rejected(source: str, problems: list[str], count: int | None = None) -> DocumentRejected:
    """A table-like file with bad rows lands whole or not at all: name every bad row (the first 50). `count` is how
    many there were when `problems` holds only the first ones."""
    return DocumentRejected(
        source,
        "invalid_rows",
        f"{len(problems) if count is None else count} bad row(s): " + "; ".join(problems[:50]),
        expected="every row valid (the file lands whole or not at all)",
    )


class InputRefused(TipfusionError):
    """A value a person gave is refused. `fields` names the input(s) it is about (a form's fields, a command's
    options), so a form shows the message beside them and the command line prints it whole; `each`, when given, is
    what each of those fields shows instead (e.g. "required" beside every missing one)."""

    def __init__(self, message: str, *fields: str, each: str | None = None) -> None:
        super().__init__(message)
        self.fields = fields
        self.each = each


class AccessRefused(TipfusionError):
    """The logged-in account's role may not do this (see `accounts.policy`); the attempt is in the audit log."""

    exit_code = 1


class ConfigurationError(TipfusionError):
    exit_code = 2


class NotFound(TipfusionError):
    exit_code = 3


class UnknownValue(NotFound, InputRefused):
    """A name a person gave (a station, a district) that the store does not hold: not found (exit 3), beside its
    input."""


class AuditChainBroken(TipfusionError):
    exit_code = 4


class IntegrityFailure(TipfusionError):
    """Something sealed no longer matches its hashes or its signature: a package part, stored evidence."""

    exit_code = 5
