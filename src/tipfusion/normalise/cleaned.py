"""What every cleaner takes and gives: the record around a value (`Context`) and the cleaned value (`Cleaned`).

Kept apart from the registry so that cleaners and the registry of kinds never import each other."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


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
