"""What a value an analyst types could be: every plausible identifier kind, cleaned by the project's own normalisers.

An analyst pastes a phone as `+91 98…`, `098…` or `98-…`, an email in any case or with Gmail dots, a screen name with
its `@`, a hash with or without its type, an ESP user ID without the ESP. Each reading is cleaned exactly as ingest
cleaned the stored value (`tipfusion.normalise.clean`), so a search compares canonical forms through the index and
never pattern-matches text. Pure: the ESP scopes to try come from the caller.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from tipfusion.errors import TipfusionError
from tipfusion.normalise import KINDS, Context, clean
from tipfusion.normalise.hashes import HEX_LENGTHS
from tipfusion.normalise.ip import parse_ip

REPORT = "report"  # the NCMEC report number itself (not an identifier kind: a report's key)
SEARCH_KINDS = (*KINDS, REPORT)

# Device ID types ESPs send (idType / valueType, cleaned as ingest cleans them); a typed prefix names one for sure.
DEVICE_TYPES = (
    "IMEI",
    "IMEISV",
    "MEID",
    "ESN",
    "ICCID",
    "IMSI",
    "MAC",
    "UDID",
    "IDFA",
    "IDFV",
    "ANDROID_ID",
    "GAID",
    "ADVERTISING_ID",
    "SERIAL",
    "SERIAL_NUMBER",
    "DEVICE_ID",
    "UNKNOWN",
)
# Types tried for a bare value whose shape says nothing (a serial number, an opaque device ID).
_OPAQUE_DEVICE_TYPES = ("UNKNOWN", "DEVICE_ID", "SERIAL", "SERIAL_NUMBER")
_HASH_TYPES = (*HEX_LENGTHS, "PDNA", "PHOTODNA")

_DIGITS = re.compile(r"\D+")
_TYPE_WORD = re.compile(r"^([A-Za-z][A-Za-z0-9_-]{1,20})(?:\s*[:=]\s*|\s+)(\S.*)$")  # `IMEI 4901…`, `md5:…`
_MAC = re.compile(r"^(?:[0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f]{12}$")
_UUID = re.compile(r"^[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12}$")
_HEX = re.compile(r"^[0-9A-Fa-f]+$")


@dataclass(frozen=True, slots=True)
class Reading:
    """One way to read the typed value: the kind, the canonical form the store compares, the form people read."""

    kind: str
    canonical: str
    shown: str
    valid: bool = True
    note: str = ""


_Reader = Callable[[str, str, list[str]], list[Reading]]  # (text, phone region, ESP scopes) → readings


def readings(raw: str, kind: str | None, phone_region: str, esp_scopes: Iterable[str]) -> list[Reading]:
    """Every plausible reading of `raw`; only `kind`'s when a kind is named."""
    text = raw.strip()
    if not text:
        raise TipfusionError("nothing to search for: give a phone, email, IP, screen name, hash, device ID or report")
    if kind is not None and kind not in SEARCH_KINDS:
        raise TipfusionError(f"unknown kind {kind!r}: one of {', '.join(SEARCH_KINDS)}")
    scopes = sorted(set(esp_scopes))
    found: dict[tuple[str, str], Reading] = {}
    for name in [kind] if kind is not None else plausible_kinds(text):
        reader = _READERS.get(name) or _simple(name)
        for reading in reader(text, phone_region, scopes):
            found.setdefault((reading.kind, reading.canonical), reading)
    return list(found.values())


def plausible_kinds(text: str) -> list[str]:
    """The kinds a value's shape allows, most telling shapes first: a kind that recognises the shape as its own (an
    ICCID's digits and check digit), then by shape: an email is only an email, an IP only an IP; a bare token
    (`u-7f3a91c2`, `QuietFox87`) may be an ESP user ID, a screen name, a group or a device ID."""
    claimed = [name for name, known in KINDS.items() if known.recognise is not None and known.recognise(text)]
    return [*claimed, *(name for name in _by_shape(text) if name not in claimed)]


def _by_shape(text: str) -> list[str]:
    compact = re.sub(r"[\s().+-]", "", text)
    word = _TYPE_WORD.match(text)
    if word and _type_name(word.group(1)) in DEVICE_TYPES:
        return ["device"]
    if word and _type_name(word.group(1)).replace("-", "") in _HASH_TYPES:
        return ["file_hash"]
    if "@" in text[1:]:
        return ["email"]
    if parse_ip(text) is not None:
        return ["ip"]
    if "://" in text or text.lower().startswith("www."):
        return ["url"]
    if text.startswith("@"):
        return ["screen_name"]
    if compact.isdigit():
        if compact != text:  # written with +, spaces, dashes or brackets: a phone
            return ["phone"] if 6 <= len(compact) <= 15 else []
        return [REPORT, "prior_report", "phone", "device", "esp_user"]
    if _HEX.match(compact) and len(compact) in HEX_LENGTHS.values():
        return ["file_hash"]
    if any(c.isspace() for c in text):
        return ["display_name", "group"]
    if "/" in text:
        return ["esp_user", "group", "chat_room", "url"]
    return ["esp_user", "screen_name", "display_name", "group", "device"]


def _type_name(word: str) -> str:
    return word.strip().upper().replace(" ", "_")


def _one(kind: str, text: str, context: Context | None = None, note: str = "") -> list[Reading]:
    cleaned = clean(kind, text, context)
    if cleaned is None:
        return []
    return [Reading(kind, cleaned.canonical, cleaned.value, cleaned.valid, note)]


def _simple(kind: str) -> _Reader:
    return lambda text, _region, _scopes: _one(kind, text)


def _phone(text: str, region: str, _scopes: list[str]) -> list[Reading]:
    return _one("phone", text, Context(phone_region=region))


def _scoped(kind: str, text: str, scopes: list[str]) -> list[Reading]:
    """ESP user IDs and groups are stored as `<esp scope>/<id>`: the scoped form as typed, else the bare ID under
    every ESP the store holds reports from."""
    scope, slash, rest = text.partition("/")
    if slash and scope.strip() and rest.strip():
        return _one(kind, rest, Context(esp_scope=scope.strip().casefold()), note=f"at ESP {scope.strip()}")
    return [r for esp in scopes for r in _one(kind, text, Context(esp_scope=esp), note=f"at ESP {esp}")]


def _esp_user(text: str, _region: str, scopes: list[str]) -> list[Reading]:
    return _scoped("esp_user", text, scopes)


def _group(text: str, _region: str, scopes: list[str]) -> list[Reading]:
    return _one("group", text) + _scoped("group", text, scopes)


def _device(text: str, _region: str, _scopes: list[str]) -> list[Reading]:
    word = _TYPE_WORD.match(text)
    if word:
        return _one("device", word.group(2), Context(id_type=word.group(1)))
    return [r for t in _device_types(text) for r in _one("device", text, Context(id_type=t))]


def _device_types(text: str) -> list[str]:
    """Device ID types a bare value's shape allows (IMEI by length, ICCID, MAC, MEID, advertising IDs…)."""
    digits = _DIGITS.sub("", text)
    compact = re.sub(r"[\s:-]", "", text)
    if digits and len(digits) == len(compact):
        by_length = {"IMEI": 14 <= len(digits) <= 16, "IMSI": len(digits) == 15, "ICCID": 18 <= len(digits) <= 22}
        return [t for t, fits in by_length.items() if fits] or list(_OPAQUE_DEVICE_TYPES)
    if _MAC.match(text):
        return ["MAC"]
    if _UUID.match(text):
        return ["UDID", "IDFA", "IDFV", "ADVERTISING_ID", "GAID", *_OPAQUE_DEVICE_TYPES]
    if _HEX.match(compact) and len(compact) in (14, 16):
        return ["MEID" if len(compact) == 14 else "ANDROID_ID", *_OPAQUE_DEVICE_TYPES]
    return list(_OPAQUE_DEVICE_TYPES)


def _file_hash(text: str, _region: str, _scopes: list[str]) -> list[Reading]:
    word = _TYPE_WORD.match(text)
    if word:
        return _one("file_hash", word.group(2), Context(hash_type=word.group(1)))
    return _one("file_hash", text)


def _report_number(text: str, _region: str, _scopes: list[str]) -> list[Reading]:
    return _one("prior_report", text, note="named as an earlier report")


def _report(text: str, _region: str, _scopes: list[str]) -> list[Reading]:
    if not text.isdigit():
        raise TipfusionError(f"{text!r} is not a report number (digits only)")
    number = str(int(text))
    return [Reading(REPORT, number, number, note="the report itself")]


# Kinds read with more than their cleaner (a context to try, a type word to strip); every other kind is read by
# its cleaner alone.
_READERS: dict[str, _Reader] = {
    REPORT: _report,
    "prior_report": _report_number,
    "phone": _phone,
    "esp_user": _esp_user,
    "device": _device,
    "file_hash": _file_hash,
    "group": _group,
}
