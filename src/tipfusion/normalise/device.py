"""Device IDs: typed (IMEI, ICCID, …); IMEIs are checked with Luhn and compared on their first 14 digits."""

from __future__ import annotations

import re

from tipfusion.normalise.cleaned import Cleaned, Context
from tipfusion.normalise.kind import IDENTITY, STIX_DESCRIPTION, Evidence, IdentifierKind, Links, Misp

_NON_DIGIT = re.compile(r"\D+")
_SPACE = re.compile(r"[\s:-]+")


def split_device(value: str) -> tuple[str, str]:
    """A cleaned device value into (ID type, ID): `IMEI:490154203237518` → ("IMEI", "490154203237518").

    Exports that carry the type in a field of their own (a MISP object relation) need the two apart.
    """
    id_type, _, identifier = value.partition(":")
    return id_type, identifier


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def clean_device(raw: str, context: Context) -> Cleaned | None:
    text = raw.strip()
    if not text:
        return None
    id_type = (context.id_type or "UNKNOWN").strip().upper().replace(" ", "_") or "UNKNOWN"
    if id_type in {"IMEI", "IMEISV"}:
        digits = _NON_DIGIT.sub("", text)
        if len(digits) == 15:
            ok = luhn_ok(digits)
            flags = () if ok else ("imei_luhn_failed",)
            return Cleaned(f"IMEI:{digits}", f"IMEI:{digits[:14]}", valid=ok, detail="IMEI", flags=flags)
        if len(digits) in (14, 16):
            # 14: IMEI without check digit; 16: IMEISV. Both identify the device by the first 14 digits.
            return Cleaned(f"{id_type}:{digits}", f"IMEI:{digits[:14]}", valid=True, detail=id_type)
        return Cleaned(f"{id_type}:{text}", f"{id_type}:{text}", valid=False, flags=("imei_length",))
    if id_type == "ICCID":
        digits = _NON_DIGIT.sub("", text)
        ok = 18 <= len(digits) <= 22
        return Cleaned(
            f"ICCID:{digits}", f"ICCID:{digits}", valid=ok, detail="ICCID", flags=() if ok else ("iccid_length",)
        )
    value = _SPACE.sub("", text) if id_type in {"MEID", "MAC", "ESN"} else text
    if id_type in {"MEID", "MAC", "ESN"}:
        value = value.upper()
    return Cleaned(f"{id_type}:{value}", f"{id_type}:{value}", valid=True, detail=id_type)


KIND = IdentifierKind(
    "device",
    clean_device,
    label="device ID",
    label_hi="डिवाइस आईडी",
    example="490154203237518",
    rank=3,
    # an officer matches it against the label or `*#06#` screen of a seized handset: the IMEI with its check digit
    shown_as_received=True,
    links=Links(IDENTITY, (Evidence("device", weight=8.0, cap=6),), deconflict=True),
    lead_name="device",
    misp=Misp(template="phone", typed_ids=True),
    stix=STIX_DESCRIPTION,
)
