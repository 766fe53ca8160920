"""Date-times as documents print them: to the second, with the zone, in one unbroken piece."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

NBSP = "\u00a0"  # joins the parts of a date-time so a narrow table column never wraps it mid-value


def clock(iso: str | None, zone: ZoneInfo | None = None) -> str:
    """`2025-03-14 21:07:31 UTC`, or in `zone` with its abbreviation (`2025-03-15 02:37:31 IST`); text that is not
    an ISO date-time comes back as it is."""
    if not iso:
        return ""
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    if zone is not None and moment.tzinfo is not None:
        moment = moment.astimezone(zone)
    name = moment.tzname() if moment.tzinfo is not None else ""
    shown = f"{moment:%Y-%m-%d %H:%M:%S} {'UTC' if name in ('UTC', 'Z') else name}".strip()
    return shown.replace(" ", NBSP)
