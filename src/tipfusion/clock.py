"""The one clock: every "now" and "today" in tipfusion comes from here.

`TIPFUSION_NOW` (an ISO 8601 date-time with its zone) starts the clock at that moment instead of the real one, so a
test — or a rehearsal of an operation — can run the whole pipeline on another day. The clock still runs: two calls
in one process are as far apart as real time says.
"""

from __future__ import annotations

import os
import re
import time
from datetime import UTC, date, datetime, timedelta, tzinfo
from datetime import time as dt_time

from tipfusion.errors import ConfigurationError

_started: tuple[str, float, datetime] | None = None  # (TIPFUSION_NOW as read, monotonic start, its moment)


def _fixed_start(raw: str) -> datetime:
    try:
        moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigurationError(
            f"TIPFUSION_NOW={raw!r}: expected an ISO 8601 date-time with its zone, e.g. 2027-03-15T10:00:00+05:30"
        ) from exc
    if moment.tzinfo is None:
        raise ConfigurationError(f"TIPFUSION_NOW={raw!r}: needs its zone, e.g. {raw}+05:30 or {raw}Z")
    return moment.astimezone(UTC)


def now() -> datetime:
    """The current moment, tz-aware UTC (shifted when TIPFUSION_NOW is set)."""
    global _started
    raw = os.environ.get("TIPFUSION_NOW", "")
    if not raw:
        return datetime.now(UTC)
    if _started is None or _started[0] != raw:
        _started = (raw, time.monotonic(), _fixed_start(raw))
    return _started[2] + timedelta(seconds=time.monotonic() - _started[1])


def today(zone: tzinfo = UTC) -> date:
    """Today's date where the unit is (a day starts at midnight in its zone, not in UTC)."""
    return now().astimezone(zone).date()


# -- dates and times as people write them ------------------------------------------------------------------------
_DAY_LAST = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_WORDS = {"today": 0, "yesterday": -1, "tomorrow": 1}


def forms(country: str) -> str:
    """The forms `parse_moment` accepts, for messages and --help."""
    local = "MM/DD/YYYY" if country.upper() == "US" else "DD/MM/YYYY"
    return f"YYYY-MM-DD, {local}, YYYY-MM-DDTHH:MM[±HH:MM], today, yesterday or now"


def parse_day(text: str, zone: tzinfo, country: str = "IN") -> date:
    """A calendar date: ISO (2026-12-02), the profile's own order (02/12/2026 in India, 12/02/2026 in the US),
    or today/yesterday/tomorrow in the unit's zone. Raises ValueError naming the forms accepted."""
    word = text.strip().lower()
    if word in _WORDS:
        return today(zone) + timedelta(days=_WORDS[word])
    found = _DAY_LAST.fullmatch(word)
    try:
        if found:
            first, second, year = (int(part) for part in found.groups())
            month, day = (first, second) if country.upper() == "US" else (second, first)
            return date(year, month, day)
        return date.fromisoformat(word)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a date: expected {forms(country)}") from exc


def parse_moment(text: str, zone: tzinfo, country: str = "IN", *, end: bool = False) -> datetime:
    """A moment, tz-aware UTC. A date alone is the start of that day in the unit's zone (its last instant with
    `end`), so `--from 2026-11-28 --to 2026-12-05` holds everything done on those days where the unit is; a
    date-time without a zone is the unit's local time."""
    word = text.strip()
    if word.lower() == "now":
        return now()
    try:
        return datetime.combine(parse_day(word, zone, country), dt_time.max if end else dt_time.min, zone).astimezone(
            UTC
        )
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(word.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a date or time: expected {forms(country)}") from exc
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).astimezone(UTC)


def show_time(moment: datetime | str | None, zone: tzinfo) -> str:
    """A moment as people read it: to the minute, in the unit's zone, zone named (`2026-12-02 17:45 IST`)."""
    if not moment:
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:  # SQLite hands back naive UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
