"""Timestamps are evidence: parsed exactly, stored in UTC, a missing zone flagged rather than guessed silently."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from tipfusion import clock

# xs:dateTime allows any number of fractional digits; Python keeps microseconds.
_FRACTION = re.compile(r"(\.\d{6})\d+")
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=2)


@dataclass(frozen=True, slots=True)
class ParsedTime:
    utc: datetime
    had_zone: bool


class ImpossibleTime(ValueError):
    """A timestamp that cannot be a real moment (month 13, 30 February, year 9999)."""


_XS_DATETIME = re.compile(r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|z|[+-]\d{2}:\d{2})?$")


def parse_timestamp(raw: str, *, now: datetime | None = None, xs_datetime: bool = False) -> ParsedTime:
    """Parse an ISO 8601 / xs:dateTime value.

    Without a zone the value is read as UTC and `had_zone` is False, so callers flag it.
    Raises ImpossibleTime for values that are not real dates or lie outside 1970 … now+2 days, and, with
    `xs_datetime` (the ESP XML, whose schema types the field), for anything not in xs:dateTime's lexical form —
    "2023-01-15 12:30:00" is a different, zone-less format a client should not have sent.
    """
    text = raw.strip()
    if not text:
        raise ImpossibleTime("empty timestamp")
    if xs_datetime and not _XS_DATETIME.match(text):
        raise ImpossibleTime(f"not an xs:dateTime (YYYY-MM-DDThh:mm:ss with Z or ±hh:mm): {raw!r}")
    if "." in text:  # most times carry no fraction: no substitution to make
        text = _FRACTION.sub(r"\1", text)
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ImpossibleTime(f"not an ISO 8601 date-time: {raw!r}") from exc
    had_zone = parsed.tzinfo is not None
    utc = parsed.astimezone(UTC) if had_zone else parsed.replace(tzinfo=UTC)
    latest = (now or clock.now()) + FUTURE_SLACK
    if utc < EARLIEST or utc > latest:
        raise ImpossibleTime(f"date-time out of range (1970 to now): {raw!r}")
    return ParsedTime(utc, had_zone)


def parse_date(raw: str, *, today: date | None = None) -> date:
    """Parse an xs:date (a date of birth); raises ImpossibleTime for impossible or future dates."""
    text = raw.strip()
    if len(text) > 10:
        text = text[:10]  # xs:date may carry a zone; a birth date does not need it
    try:
        parsed = date.fromisoformat(text)
    except ValueError as exc:
        raise ImpossibleTime(f"not an ISO 8601 date: {raw!r}") from exc
    if parsed.year < 1900 or parsed > (today or clock.today()):
        raise ImpossibleTime(f"date out of range (1900 to today): {raw!r}")
    return parsed
