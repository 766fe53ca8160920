"""The registry of identifier kinds and the flags that travel with them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache


@dataclass(frozen=True, slots=True)
class Context:
    """What a cleaner may borrow from the record around the value."""

    phone_region: str = "IN"
    country_calling_code: str | None = None
    esp_scope: str | None = None
    hash_type: str | None = None
    id_type: str | None = None
    chat_client: str | None = None


@dataclass(frozen=True, slots=True)
class Cleaned:
    """A normalised identifier.

    value: the cleaned form shown to people (e.g. trimmed, case-folded email).
    canonical: the form linking compares (e.g. Gmail without dots and +tags); equals value when no rule applies.
    detail: a classification (IP class, phone number type, hash type).
    """

    value: str
    canonical: str
    valid: bool = True
    detail: str | None = None
    flags: tuple[str, ...] = ()


Cleaner = Callable[[str, Context], "Cleaned | None"]


@dataclass(frozen=True, slots=True)
class IdentifierKind:
    """A kind of identifier. `strength` is a prior for linking: how much one shared value says."""

    name: str
    cleaner: Cleaner
    linkable: bool = True
    strength: str = "medium"  # strong | medium | weak
    description: str = field(default="", compare=False)


def _registry() -> dict[str, IdentifierKind]:
    from tipfusion.normalise import device, email, hashes, ip, phone, simple

    kinds = [
        IdentifierKind("email", email.clean_email, strength="strong", description="email address"),
        IdentifierKind("phone", phone.clean_phone, strength="strong", description="phone number, E.164"),
        IdentifierKind(
            "ip",
            ip.clean_ip,
            strength="weak",
            description="IP address (attributes a person only with time, and port on CGNAT)",
        ),
        IdentifierKind("esp_user", simple.clean_esp_user, strength="strong", description="ESP user ID, scoped by ESP"),
        IdentifierKind("screen_name", simple.clean_screen_name, strength="weak", description="screen name / username"),
        IdentifierKind("device", device.clean_device, strength="strong", description="device ID (IMEI, ICCID, …)"),
        IdentifierKind("file_hash", hashes.clean_hash, strength="medium", description="hash of an uploaded file"),
        IdentifierKind("url", simple.clean_url, strength="medium", description="profile or content URL"),
        IdentifierKind("group", simple.clean_group, strength="medium", description="group identifier"),
        IdentifierKind(
            "chat_room", simple.clean_chat_room, strength="medium", description="chat room, scoped by client"
        ),
        IdentifierKind(
            "prior_report",
            simple.clean_report_number,
            strength="strong",
            description="earlier CyberTipline report number",
        ),
        IdentifierKind(
            "display_name", simple.clean_display_name, linkable=False, strength="weak", description="display name"
        ),
    ]
    return {k.name: k for k in kinds}


KINDS: dict[str, IdentifierKind] = _registry()


_DEFAULT = Context()


@lru_cache(maxsize=262_144)
def clean(kind: str, raw: str, context: Context | None = None) -> Cleaned | None:
    """Clean `raw` as identifier `kind`; None when there is no value to keep.

    Cleaners are pure, so results are cached: real batches repeat values (a CGNAT address, a group name)
    thousands of times.
    """
    return KINDS[kind].cleaner(raw, context or _DEFAULT)
