"""Can an ISP name the subscriber behind this sighting? IP + exact time (+ source port behind CGNAT).

The answer is stored as a short reason code per sighting; `REASONS` says it in words for people.
"""

from __future__ import annotations

from datetime import datetime

REASONS = {
    "not_routable": "private or reserved address: it identifies no subscriber outside the ESP's own network",
    "hosting_vpn": "hosting, VPN or relay address: the provider's customer, not a household — ask the provider",
    "unknown_isp": "no ISP known for this address: load an ASN database or add it to the ISP table",
    "no_time": "no time of use: an ISP cannot resolve an address without the exact time",
    "no_zone": "time given without a zone: confirm the zone with the ESP before asking the ISP",
    "cgnat_no_port": "IPv4 behind carrier-grade NAT without a source port: "
    "the ISP may not be able to identify the subscriber",
    "cgnat_port_time": "IP + source port + exact time (carrier-grade NAT)",
    "ipv6_time": "IPv6 address + exact time",
    "ip_time": "IP + exact time",
}


def identifiability(
    network_type: str, ip_version: int, port: int | None, observed_at: datetime | None, flags: str | None
) -> tuple[bool, str]:
    """(identifiable, reason code): what an analyst sees before any request is sent to an ISP."""
    if network_type in {"private", "reserved"}:
        return False, "not_routable"
    if network_type == "hosting_vpn":
        return False, "hosting_vpn"
    if network_type == "unknown":
        return False, "unknown_isp"
    if observed_at is None:
        return False, "no_time"
    if flags and "no_timezone" in flags.split(","):
        return False, "no_zone"
    if network_type == "mobile_cgnat" and ip_version == 4:
        return (True, "cgnat_port_time") if port is not None else (False, "cgnat_no_port")
    return True, "ipv6_time" if ip_version == 6 else "ip_time"
