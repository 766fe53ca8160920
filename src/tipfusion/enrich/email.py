"""What an email address is: its provider's domain, its canonical mailbox, whether the domain is disposable.

The disposable-domain list comes from the `disposable-email-domains` package (shipped with tipfusion, offline);
the unit extends it with a file of its own, one domain a line.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import disposable_email_domains

from tipfusion.errors import ConfigurationError
from tipfusion.normalise import clean

VERSION_PREFIX = "email-rules:1"


@dataclass(frozen=True, slots=True)
class EmailInfo:
    address: str
    domain: str | None
    canonical: str
    provider_rule: bool
    disposable: bool


class DisposableDomains:
    def __init__(self, extra: Path | None = None):
        self.domains: frozenset[str] = frozenset(disposable_email_domains.blocklist)
        digest = hashlib.sha256(",".join(sorted(self.domains)).encode())
        if extra is not None:
            if not extra.exists():
                raise ConfigurationError(f"{extra}: disposable-domain list not found (TIPFUSION_DISPOSABLE_DOMAINS)")
            own = {
                line.strip().lower()
                for line in extra.read_text().splitlines()
                if line.strip() and not line.startswith("#")
            }
            digest.update(",".join(sorted(own)).encode())
            self.domains |= own
        self.version = f"disposable:{digest.hexdigest()[:12]}"

    def __contains__(self, domain: str) -> bool:
        parts = domain.lower().split(".")
        return any(".".join(parts[i:]) in self.domains for i in range(len(parts) - 1))


def describe_email(address: str, disposable: DisposableDomains) -> EmailInfo:
    cleaned = clean("email", address)
    if cleaned is None or not cleaned.valid:
        return EmailInfo(address, None, address, False, False)
    domain = cleaned.value.rsplit("@", 1)[1]
    return EmailInfo(cleaned.value, domain, cleaned.canonical, cleaned.canonical != cleaned.value, domain in disposable)
