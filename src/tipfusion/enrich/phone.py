"""What a phone number is: valid or not, its type, country, the original allottee of its series, landline area.

libphonenumber knows which operator was *originally allotted* a number series, not who serves the number
today (numbers are ported): the current operator must come from a legal request. So the field is named
`original_allottee` everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from phonenumbers import carrier, geocoder

from tipfusion.normalise.phone import _TYPE_NAMES

VERSION = f"phonenumbers:{phonenumbers.__version__}"


@dataclass(frozen=True, slots=True)
class PhoneInfo:
    e164: str
    valid: bool
    number_type: str | None
    region: str | None
    original_allottee: str | None
    area: str | None


def describe_phone(e164: str) -> PhoneInfo:
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return PhoneInfo(e164, False, None, None, None, None)
    valid = phonenumbers.is_valid_number(number)
    region = phonenumbers.region_code_for_number(number) or None
    if not valid:
        return PhoneInfo(e164, False, None, region, None, None)
    number_type = _TYPE_NAMES.get(phonenumbers.number_type(number), "unknown")
    allottee = carrier.name_for_valid_number(number, "en") or None
    area = None
    if number_type in {"fixed_line", "fixed_line_or_mobile"}:
        area = geocoder.description_for_valid_number(number, "en") or None
    return PhoneInfo(e164, True, number_type, region, allottee, area)
