"""SIM card numbers (ICCID, ITU-T E.118): 19 or 20 digits starting 89 (telecommunications), the last a Luhn check digit.

Another agency's lead list names SIMs by ICCID; ESPs send the same number as a device ID typed `ICCID`. So a SIM
links as that device ID (`ICCID:<digits>`, with the device weight): a foreign force's SIM list meets the reports
whose handsets carried it. A number that fails its check digit, its length or its prefix is kept, flagged, as
received evidence always is.
"""

from __future__ import annotations

import re

from tipfusion.normalise.cleaned import Cleaned, Context
from tipfusion.normalise.device import luhn_ok
from tipfusion.normalise.kind import IDENTITY, STIX_DESCRIPTION, IdentifierKind, Links, Misp

_SEPARATORS = re.compile(r"[\s.-]+")
LENGTHS = (19, 20)
PREFIX = "89"  # the ITU-T E.118 major industry identifier for telecommunications


def problems(digits: str) -> tuple[str, ...]:
    """What is wrong with an ICCID's digits, as flags; () when it is well formed."""
    if not (digits.isascii() and digits.isdigit()):
        return ("iccid_not_digits",)
    found = []
    if len(digits) not in LENGTHS:
        found.append("iccid_length")
    if not digits.startswith(PREFIX):
        found.append("iccid_prefix")
    if not luhn_ok(digits):
        found.append("iccid_luhn_failed")
    return tuple(found)


def clean_iccid(raw: str, _context: Context) -> Cleaned | None:
    text = _SEPARATORS.sub("", raw.strip())
    if text.upper().startswith("ICCID:"):
        text = text[6:]
    if not text:
        return None
    flags = problems(text)
    return Cleaned(text, text, valid=not flags, detail="ICCID", flags=flags)


def looks_like_iccid(text: str) -> bool:
    """A typed value that can only be an ICCID: the right length, prefix and check digit."""
    digits = _SEPARATORS.sub("", text.strip())
    return not problems(digits)


KIND = IdentifierKind(
    "iccid",
    clean_iccid,
    label="SIM card number (ICCID)",
    label_hi="सिम कार्ड नंबर (ICCID)",
    example="8991101200003204514",
    rank=3,  # with the device IDs: a provider names the subscriber from it
    links=Links(IDENTITY, deconflict=True, same_as=("device", "ICCID:")),
    lead_name="iccid",
    misp=Misp(template="phone", relation="iccid"),
    stix=STIX_DESCRIPTION,  # STIX 2.1 has no observable for a SIM
    recognise=looks_like_iccid,
)
