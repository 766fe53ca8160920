"""Emails: trim, case-fold; provider rules (dots, +tags) give a separate canonical form."""

from __future__ import annotations

import re
import unicodedata

from tipfusion.normalise.cleaned import Cleaned, Context
from tipfusion.normalise.kind import IDENTITY, STIX_EMAIL, Evidence, IdentifierKind, Links, Misp

# Providers whose mailboxes ignore dots in the local part and/or accept +tag sub-addresses.
# `mail.example.com` is a synthetic demo provider (a reserved domain) that mirrors Gmail's rules.
_PROVIDER_RULES: dict[str, tuple[str, bool, bool]] = {
    # domain: (canonical domain, ignore dots, strip +tag)
    "gmail.com": ("gmail.com", True, True),
    "googlemail.com": ("gmail.com", True, True),
    "mail.example.com": ("mail.example.com", True, True),
    "outlook.com": ("outlook.com", False, True),
    "hotmail.com": ("hotmail.com", False, True),
    "live.com": ("live.com", False, True),
    "icloud.com": ("icloud.com", False, True),
    "me.com": ("icloud.com", False, True),
    "protonmail.com": ("proton.me", False, True),
    "proton.me": ("proton.me", False, True),
    "pm.me": ("proton.me", False, True),
    "fastmail.com": ("fastmail.com", False, True),
    "yandex.com": ("yandex.com", False, True),
}

_LOCAL_OK = re.compile(r"^[^\s@<>()\[\],;:\"]+$")
_DOMAIN_OK = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")


def provider_canonical(local: str, domain: str) -> str:
    rule = _PROVIDER_RULES.get(domain)
    if rule is None:
        return f"{local}@{domain}"
    canonical_domain, ignore_dots, strip_tag = rule
    if strip_tag:
        local = local.split("+", 1)[0]
    if ignore_dots:
        local = local.replace(".", "")
    return f"{local}@{canonical_domain}"


def clean_email(raw: str, _context: Context) -> Cleaned | None:
    text = unicodedata.normalize("NFKC", raw).strip().strip("<>").strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    if not text:
        return None
    folded = text.casefold()
    local, at, domain = folded.rpartition("@")
    domain = domain.rstrip(".")
    if not at or not local or not _LOCAL_OK.match(local):
        return Cleaned(folded, folded, valid=False, flags=("invalid_email",))
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return Cleaned(folded, folded, valid=False, flags=("invalid_email",))
    if not _DOMAIN_OK.match(domain):
        return Cleaned(folded, folded, valid=False, flags=("invalid_email",))
    value = f"{local}@{domain}"
    canonical = provider_canonical(local, domain)
    flags = ("provider_rule",) if canonical != value else ()
    return Cleaned(value, canonical, valid=True, detail=domain, flags=flags)


KIND = IdentifierKind(
    "email",
    clean_email,
    label="email address",
    label_hi="ईमेल पता",
    example="Quiet.Fox+x@mail.example.com",
    rank=1,
    links=Links(IDENTITY, (Evidence("email", weight=8.0, cap=8),), deconflict=True),
    lead_name="email",
    misp=Misp(attribute="email"),
    stix=STIX_EMAIL,
)
