"""Report numbers, checked where they are read: ASCII digits only, and small enough for the store's 64-bit column.

`str.isdigit` accepts `²³` (which `int()` then refuses) and Python ints have no ceiling, so an unchecked number
failed only when the store refused it — and took the whole batch with it. Checked here, a bad number is one
document's error, named with its file and element.
"""

from __future__ import annotations

import re

MAX_REPORT_ID = 2**63 - 1  # BIGINT on PostgreSQL, INTEGER on SQLite
_DIGITS = re.compile(r"[0-9]+")


class BadReportId(ValueError):
    """The text is not a usable report number; `reason` is the quarantine code, the message says why."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def parse_report_id(raw: object) -> int:
    """The report number in `raw` (text or a JSON integer), or BadReportId saying what is wrong with it."""
    text = str(raw).strip() if raw is not None and not isinstance(raw, bool) else ""
    if not text:
        raise BadReportId("missing_report_id", "no report number")
    if _DIGITS.fullmatch(text) is None:
        raise BadReportId("missing_report_id", f"report number is not a number (ASCII digits 0-9): {text[:40]!r}")
    value = int(text) if len(text) <= 40 else MAX_REPORT_ID + 1  # int() of thousands of digits is refused or slow
    if value > MAX_REPORT_ID:
        raise BadReportId(
            "report_id_out_of_range", f"report number {text[:40]} is larger than the largest the store holds"
        )
    return value


EXPECTED = f"a report number of ASCII digits 0-9, at most {MAX_REPORT_ID}"
