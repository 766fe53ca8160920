"""What to ask each ISP: every sighting it can resolve, with IP, source port and the exact second in UTC and in
the zone the ISP's logs use. Pure: plain sightings in, one request per ISP out.

An IPv4 sighting on a carrier-grade-NAT network without a source port is left out (the ISP may name the wrong
subscriber, or hundreds) unless the analyst asks to include it, in which case it is marked as such.
Private, reserved and unknown networks are never asked; a sighting without a time cannot be asked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from tipfusion.domain import Sighting

ASKABLE = {"fixed", "mobile", "mobile_cgnat", "hosting_vpn"}
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)

__all__ = ["ASKABLE", "EARLIEST", "Sighting"]


@dataclass
class RequestItem:
    number: int
    sighting: Sighting
    time_utc: str
    time_isp: str
    flag: str  # "" or why the item may not identify a subscriber

    def row(self) -> dict[str, object]:
        s = self.sighting
        return {
            "item": self.number,
            "ip": s.ip,
            "source_port": s.port if s.port is not None else "",
            "time_utc": self.time_utc,
            "time_isp_zone": self.time_isp,
            "isp_log_timezone": s.log_timezone,
            "event": s.event_name or "",
            "report_id": s.report_id,
            "suspect_id": s.suspect_id or "",
            "caution": self.flag,
        }


@dataclass
class IspRequest:
    isp: str
    log_timezone: str
    items: list[RequestItem] = field(default_factory=list)
    excluded: int = 0  # CGNAT sightings without a port, left out


def render_time(moment: datetime, zone: str) -> str:
    """To the second, with the zone's offset written out (what an ISP's log search needs)."""
    return moment.astimezone(ZoneInfo(zone)).isoformat(timespec="seconds")


def group_requests(sightings: list[Sighting], include_unidentifiable: bool = False) -> list[IspRequest]:
    by_isp: dict[str, IspRequest] = {}
    seen: set[tuple[str, int | None, datetime]] = set()
    for s in sorted(sightings, key=lambda x: (x.isp or "", x.observed_at or EARLIEST, x.ip)):
        if not s.isp or s.network_type not in ASKABLE or s.observed_at is None:
            continue
        if (s.ip, s.port, s.observed_at) in seen:  # one event is often reported twice (account and file upload)
            continue
        seen.add((s.ip, s.port, s.observed_at))
        request = by_isp.setdefault(s.isp, IspRequest(s.isp, s.log_timezone or "UTC"))
        flag = ""
        if s.network_type == "mobile_cgnat" and s.port is None and ":" not in s.ip:
            if not include_unidentifiable:
                request.excluded += 1
                continue
            flag = "no source port behind carrier-grade NAT: the answer may not identify one subscriber"
        elif s.network_type == "hosting_vpn":
            flag = "hosting/VPN address: ask for the customer of the service"
        elif s.identifiable is False and s.note == "no_zone":
            flag = "the ESP gave this time without a zone; it was read as UTC"
        request.items.append(
            RequestItem(
                len(request.items) + 1,
                s,
                render_time(s.observed_at, "UTC").replace("+00:00", "Z"),
                render_time(s.observed_at, request.log_timezone),
                flag,
            )
        )
    return [r for r in sorted(by_isp.values(), key=lambda r: r.isp) if r.items or r.excluded]
