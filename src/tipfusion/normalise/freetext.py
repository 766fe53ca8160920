"""Identifiers hidden in free text (additionalInfo): emails and IP addresses mined as weaker evidence."""

from __future__ import annotations

import re
from collections.abc import Iterator

from tipfusion.normalise.ip import parse_ip

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_IPV6 = re.compile(r"(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{1,4}:){2,7}[0-9A-Fa-f:]{0,4}(?![0-9A-Fa-f:])")


def mine(text: str) -> Iterator[tuple[str, str]]:
    """Yield (kind, raw) pairs for emails and IPs found in `text`; each distinct value once."""
    seen: set[tuple[str, str]] = set()
    for match in _EMAIL.finditer(text):
        item = ("email", match.group(0))
        if item not in seen:
            seen.add(item)
            yield item
    for pattern in (_IPV4, _IPV6):
        for match in pattern.finditer(text):
            raw = match.group(0)
            if parse_ip(raw) is not None and ("ip", raw) not in seen:
                seen.add(("ip", raw))
                yield ("ip", raw)
