"""IP addresses: canonical text, IPv4-mapped IPv6 unwrapped, classified by what the address can tell."""

from __future__ import annotations

import ipaddress
import re
from bisect import bisect_right

from tipfusion.normalise.cleaned import Cleaned, Context
from tipfusion.normalise.kind import ADDRESS, STIX_IP, Evidence, IdentifierKind, Links, Misp

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


def _ranges(spec: list[tuple[str, str]]) -> tuple[list[int], list[tuple[int, str]]]:
    networks = sorted((ipaddress.ip_network(n), label) for n, label in spec)
    starts = [int(n.network_address) for n, _ in networks]
    ends = [(int(n.broadcast_address), label) for n, label in networks]
    return starts, ends


# Special-purpose registries (RFC 6890 and successors), most specific entries listed; anything else is public
# (IPv4) or public if global unicast 2000::/3 (IPv6). Looked up by bisection: this runs for every IP sighting.
_V4 = _ranges(
    [
        ("0.0.0.0/8", "reserved"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "cgnat"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link_local"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "reserved"),
        ("192.0.2.0/24", "documentation"),
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "documentation"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),
    ]
)
_V6 = _ranges(
    [
        ("::/128", "reserved"),
        ("::1/128", "loopback"),
        ("100::/64", "reserved"),
        ("2001:db8::/32", "documentation"),
        ("3fff::/20", "documentation"),
        ("fc00::/7", "private"),
        ("fe80::/10", "link_local"),
        ("ff00::/8", "multicast"),
    ]
)
_GLOBAL_V6 = ipaddress.ip_network("2000::/3")


def classify(addr: IpAddress) -> str:
    """public | private | cgnat | documentation | loopback | link_local | multicast | reserved."""
    value = int(addr)
    starts, ends = _V4 if addr.version == 4 else _V6
    index = bisect_right(starts, value) - 1
    if index >= 0:
        end, label = ends[index]
        if value <= end:
            return label
    if addr.version == 6 and addr not in _GLOBAL_V6:
        return "reserved"
    return "public"


def clean_ip(raw: str, _context: Context) -> Cleaned | None:
    if not raw.strip():
        return None
    addr = parse_ip(raw)
    if addr is None:
        return Cleaned(raw.strip(), raw.strip(), valid=False, flags=("invalid_ip",))
    text = str(addr)
    return Cleaned(text, text, valid=True, detail=classify(addr), flags=(f"ipv{addr.version}",))


# An IP is identity evidence only where it attributes a subscriber (link.extract.ip_key says which key).
KIND = IdentifierKind(
    "ip",
    clean_ip,
    label="IP address",
    label_hi="आईपी पता",
    example="198.51.100.7",
    rank=2,
    links=Links(
        ADDRESS,
        (
            Evidence("ip_fixed", weight=5.0, cap=4),  # a fixed-line address
            Evidence("ip_v6_prefix", weight=5.0, cap=4),  # an IPv6 /64
            Evidence("ip_cgnat_port", weight=8.0, cap=3),  # a CGNAT address with its source port and exact second
        ),
    ),
    lead_name="ip",
    refuse_invalid=True,
    misp=Misp(attribute="ip-src", seen=True),
    stix=STIX_IP,
)
