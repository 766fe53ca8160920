"""IP addresses: canonical text, IPv4-mapped IPv6 unwrapped, classified by what the address can tell."""

from __future__ import annotations

import ipaddress
import re

from tipfusion.normalise.kinds import Cleaned, Context

CGNAT = ipaddress.ip_network("100.64.0.0/10")
DOCUMENTATION = tuple(
    ipaddress.ip_network(n)
    for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "198.18.0.0/15", "2001:db8::/32")
)
_LEADING_ZERO_V4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_ip(raw: str) -> IpAddress | None:
    """Parse an address as ESPs write it: brackets, zone ids and zero-padded octets tolerated."""
    text = raw.strip().strip("[]")
    text = text.split("%", 1)[0]
    if _LEADING_ZERO_V4.match(text):
        text = ".".join(str(int(part)) for part in text.split("."))
    try:
        addr: IpAddress = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def classify(addr: IpAddress) -> str:
    """public | private | cgnat | documentation | loopback | link_local | multicast | reserved."""
    if addr.is_loopback:
        return "loopback"
    if addr.is_link_local:
        return "link_local"
    if addr.is_multicast:
        return "multicast"
    if addr.version == 4 and addr in CGNAT:
        return "cgnat"
    if any(addr.version == net.version and addr in net for net in DOCUMENTATION):
        return "documentation"
    if addr.is_unspecified or addr.is_reserved:
        return "reserved"
    if addr.is_private:
        return "private"
    if addr.is_global:
        return "public"
    return "reserved"


def clean_ip(raw: str, context: Context) -> Cleaned | None:
    if not raw.strip():
        return None
    addr = parse_ip(raw)
    if addr is None:
        return Cleaned(raw.strip(), raw.strip(), valid=False, flags=("invalid_ip",))
    text = str(addr)
    return Cleaned(text, text, valid=True, detail=classify(addr), flags=(f"ipv{addr.version}",))
