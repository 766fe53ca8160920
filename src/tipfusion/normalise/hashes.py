"""File hashes: lower-case hex, the declared type checked against the length."""

from __future__ import annotations

import re

from tipfusion.normalise.cleaned import Cleaned, Context
from tipfusion.normalise.kind import FILE, IdentifierKind, Links

HEX_LENGTHS = {"MD5": 32, "SHA1": 40, "SHA256": 64, "SHA384": 96, "SHA512": 128}
# perceptual hashes written as hex: checked and lower-cased only when declared (a 64-digit hash is SHA-256 otherwise)
PERCEPTUAL_HEX = {"PDQ": 64}
_BY_LENGTH = {length: name for name, length in HEX_LENGTHS.items()}
_HEX = re.compile(r"^[0-9a-f]+$")
_SEPARATORS = re.compile(r"[\s:]+")


def normalise_hash_type(raw: str | None) -> str | None:
    if raw is None:
        return None
    text = raw.strip().upper().replace("-", "").replace("_", "")
    return text or None


def clean_hash(raw: str, context: Context) -> Cleaned | None:
    text = _SEPARATORS.sub("", raw.strip()).lower()
    if not text:
        return None
    declared = normalise_hash_type(context.hash_type)
    if declared in HEX_LENGTHS or declared in PERCEPTUAL_HEX:
        ok = bool(_HEX.match(text)) and len(text) == {**HEX_LENGTHS, **PERCEPTUAL_HEX}[declared]
        flags = () if ok else ("hash_length_mismatch",)
        return Cleaned(
            f"{declared.lower()}:{text}", f"{declared.lower()}:{text}", valid=ok, detail=declared, flags=flags
        )
    if declared is None:
        inferred = _BY_LENGTH.get(len(text)) if _HEX.match(text) else None
        if inferred is None:
            return Cleaned(f"unknown:{text}", f"unknown:{text}", valid=False, flags=("hash_type_unknown",))
        return Cleaned(
            f"{inferred.lower()}:{text}",
            f"{inferred.lower()}:{text}",
            valid=True,
            detail=inferred,
            flags=("hash_type_inferred",),
        )
    # A declared type we do not know (e.g. a perceptual hash): keep exactly, case preserved.
    kept = raw.strip()
    return Cleaned(f"{declared.lower()}:{kept}", f"{declared.lower()}:{kept}", valid=True, detail=declared)


# Files go to MISP and STIX as file objects with every hash the ESP gave (refer.interop), not one value at a time.
KIND = IdentifierKind(
    "file_hash",
    clean_hash,
    label="file hash",
    label_hi="फ़ाइल हैश",
    example="9e107d9d372bb6826bd81d3542a419d6",
    links=Links(FILE),
    lead_name="file_hash",
)
