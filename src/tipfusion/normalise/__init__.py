"""Identifier kinds: one small pure cleaner per kind, each described by an `IdentifierKind` in one registry.

Each cleaner takes the raw value as received (plus context such as the ESP or the phone's country
code) and returns a `Cleaned` — or `None` when there is nothing to keep (empty text). A value that
is present but wrong (an invalid phone, an IMEI failing its Luhn check) is still returned, with
`valid=False`, so the raw evidence is never dropped. Linking uses `canonical`.
"""

from tipfusion.normalise.cleaned import Cleaned, Context
from tipfusion.normalise.kind import IdentifierKind
from tipfusion.normalise.registry import KINDS, clean
from tipfusion.normalise.timestamps import ParsedTime, parse_date, parse_timestamp

__all__ = [
    "KINDS",
    "Cleaned",
    "Context",
    "IdentifierKind",
    "ParsedTime",
    "clean",
    "parse_date",
    "parse_timestamp",
]
