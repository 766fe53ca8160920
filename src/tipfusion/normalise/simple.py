"""Kinds whose cleaning is a few string rules: screen names, ESP user IDs, URLs, groups, report numbers."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit, urlunsplit

from tipfusion.normalise.kinds import Cleaned, Context

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
