"""Phones: E.164 via libphonenumber, using the attribute's country calling code, else the profile's region."""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import PhoneNumberType

from tipfusion.normalise.cleaned import Cleaned, Context
from tipfusion.normalise.kind import IDENTITY, STIX_CONTACT, Evidence, IdentifierKind, Links, Misp

_TYPE_NAMES = {
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE: "fixed_line",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.PREMIUM_RATE: "premium_rate",
    PhoneNumberType.SHARED_COST: "shared_cost",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.PERSONAL_NUMBER: "personal",
    PhoneNumberType.PAGER: "pager",
    PhoneNumberType.UAN: "uan",
    PhoneNumberType.VOICEMAIL: "voicemail",
    PhoneNumberType.UNKNOWN: "unknown",
}
_CC = re.compile(r"^\+?(\d{1,3})$")
_DIGITS = re.compile(r"\D+")


def _region_for(context: Context) -> str | None:
    if context.country_calling_code:
        match = _CC.match(context.country_calling_code.strip())
        if match:
            region = phonenumbers.region_code_for_country_code(int(match.group(1)))
            if region and region != "ZZ":
                return str(region)
    return context.phone_region or None


def clean_phone(raw: str, context: Context) -> Cleaned | None:
    text = raw.strip()
    digits = _DIGITS.sub("", text)
    if not digits:
        return None
    region = _region_for(context)
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return Cleaned(digits, digits, valid=False, flags=("unparseable_phone",))
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not phonenumbers.is_valid_number(number):
        return Cleaned(e164, e164, valid=False, flags=("invalid_phone",))
    kind = _TYPE_NAMES.get(phonenumbers.number_type(number), "unknown")
    return Cleaned(e164, e164, valid=True, detail=kind)


KIND = IdentifierKind(
    "phone",
    clean_phone,
    label="phone number",
    label_hi="फ़ोन नंबर",
    example="+91 90000 00001",
    rank=0,
    links=Links(IDENTITY, (Evidence("phone", weight=7.0, cap=6),), deconflict=True),
    lead_name="phone",
    misp=Misp(attribute="phone-number"),
    stix=STIX_CONTACT,
)
