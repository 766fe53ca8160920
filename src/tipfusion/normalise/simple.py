"""Kinds whose cleaning is a few string rules: screen names, ESP user IDs, URLs, groups, report numbers."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit, urlunsplit

from tipfusion.normalise.cleaned import Cleaned, Context
from tipfusion.normalise.kind import (
    ACCOUNT,
    GROUP,
    IDENTITY,
    STIX_LOGIN,
    STIX_URL,
    STIX_USER_ID,
    Evidence,
    IdentifierKind,
    Links,
    Misp,
)

_SPACES = re.compile(r"\s+")
_ESP_SUFFIX = re.compile(r"[,.]?\s+(inc|llc|ltd|limited|corp|corporation|gmbh|plc)\.?$", re.IGNORECASE)


def _fold(raw: str) -> str:
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", raw)).strip().casefold()


def esp_scope(name: str | None, email: str | None = None) -> str:
    """A stable key for the reporting ESP: its reporting email's domain if known, else its folded name.

    User IDs are only unique within one ESP, so every ESP user ID is prefixed with this key.
    """
    if email and "@" in email:
        domain = email.strip().rsplit("@", 1)[1].casefold().rstrip(".")
        if domain:
            return domain
    if name:
        folded = _ESP_SUFFIX.sub("", _fold(name)).strip(" ,.")
        if folded:
            return folded
    return "unknown-esp"


def clean_screen_name(raw: str, _context: Context) -> Cleaned | None:
    text = _fold(raw).lstrip("@").strip()
    if not text:
        return None
    return Cleaned(text, text)


def clean_display_name(raw: str, _context: Context) -> Cleaned | None:
    text = _fold(raw)
    return Cleaned(text, text) if text else None


def clean_esp_user(raw: str, context: Context) -> Cleaned | None:
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text:
        return None
    scope = context.esp_scope or "unknown-esp"
    value = f"{scope}/{text}"
    return Cleaned(value, value, detail=scope)


def clean_url(raw: str, _context: Context) -> Cleaned | None:
    text = raw.strip()
    if not text:
        return None
    try:
        parts = urlsplit(text if "://" in text else f"https://{text}")
        host = (parts.hostname or "").casefold()
        port = parts.port
    except ValueError:
        return Cleaned(text, text, valid=False, flags=("invalid_url",))
    if not host:
        return Cleaned(text, text, valid=False, flags=("invalid_url",))
    scheme = parts.scheme.casefold()
    netloc = host if port is None or (scheme, port) in {("http", 80), ("https", 443)} else f"{host}:{port}"
    path = parts.path.rstrip("/") or ""
    value = urlunsplit((scheme, netloc, path, parts.query, ""))
    canonical = urlunsplit(("", netloc.removeprefix("www."), path, parts.query, "")).lstrip("/")
    return Cleaned(value, canonical, detail=host)


def clean_group(raw: str, context: Context) -> Cleaned | None:
    text = _fold(raw)
    if not text:
        return None
    value = f"{context.esp_scope}/{text}" if context.esp_scope else text
    return Cleaned(value, value)


def clean_chat_room(raw: str, context: Context) -> Cleaned | None:
    text = _fold(raw)
    if not text:
        return None
    client = _fold(context.chat_client or "") or (context.esp_scope or "")
    value = f"{client}/{text}" if client else text
    return Cleaned(value, value)


def clean_report_number(raw: str, _context: Context) -> Cleaned | None:
    text = raw.strip()
    if not text:
        return None
    if not text.isdigit():
        return Cleaned(text, text, valid=False, flags=("invalid_report_number",))
    value = str(int(text))
    return Cleaned(value, value)


_ACCOUNT_OBJECT = Misp(template="user-account", relation="username", fixed=(("account-type", "social-media"),))

ESP_USER = IdentifierKind(
    "esp_user",
    clean_esp_user,
    label="account (user ID)",
    label_hi="खाता (यूज़र आईडी)",
    example="u-7f3a91c2",
    rank=4,
    links=Links(ACCOUNT, deconflict=True),
    lead_name="esp_user",
    esp_scoped=True,
    misp=_ACCOUNT_OBJECT,
    stix=STIX_USER_ID,
)
SCREEN_NAME = IdentifierKind(
    "screen_name",
    clean_screen_name,
    label="screen name",
    label_hi="स्क्रीन नाम",
    example="@QuietFox87",
    rank=5,
    links=Links(IDENTITY, (Evidence("screen_name", weight=2.0, cap=4),)),
    lead_name="screen_name",
    misp=_ACCOUNT_OBJECT,
    stix=STIX_LOGIN,
)
URL = IdentifierKind(
    "url",
    clean_url,
    label="web address (URL)",
    label_hi="वेब पता (यूआरएल)",
    example="https://social.example.com/quietfox87",
    links=Links(IDENTITY, (Evidence("url", weight=7.0, cap=6),), accounts_only=True, deconflict=True),
    lead_name="url",
    misp=Misp(attribute="url"),
    stix=STIX_URL,
    exported_as_received=True,
)
GROUP_KIND = IdentifierKind(
    "group",
    clean_group,
    label="group",
    label_hi="समूह",
    example="Quiet Corner",
    links=Links(GROUP),
    esp_scoped=True,
)
CHAT_ROOM = IdentifierKind(
    "chat_room", clean_chat_room, label="chat room", label_hi="चैट रूम", example="room-17", links=Links(GROUP)
)
PRIOR_REPORT = IdentifierKind(
    "prior_report",
    clean_report_number,
    label="earlier CyberTipline report",
    label_hi="पूर्व साइबरटिपलाइन रिपोर्ट",
    example="123456789",
    links=Links(IDENTITY, (Evidence("prior_report", weight=9.0, cap=50),)),
)
DISPLAY_NAME = IdentifierKind(
    "display_name",
    clean_display_name,
    label="display name",
    label_hi="प्रदर्शित नाम",
    example="Quiet Fox",
    # weak corroboration, like a screen name: alone it joins no one, beside a home line or a name it tips the
    # balance; the frequency discount and the cap make a display name many accounts use worth nothing
    links=Links(IDENTITY, (Evidence("display_name", weight=2.0, cap=4),)),
)
