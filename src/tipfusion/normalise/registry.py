"""The registry of identifier kinds: the one list every stage derives its kinds from.

Adding a kind is one module that defines its `IdentifierKind` (cleaner, display, linking, export, lead name) and one
line here; ingest, search, linking, routing, referrals and the MISP/STIX exports read the record.
"""

from __future__ import annotations

from functools import lru_cache

from tipfusion.normalise import device, email, hashes, iccid, ip, phone, simple
from tipfusion.normalise.cleaned import Cleaned, Context
from tipfusion.normalise.kind import ACCOUNT, IdentifierKind

KINDS: dict[str, IdentifierKind] = {
    kind.name: kind
    for kind in (
        email.KIND,
        phone.KIND,
        ip.KIND,
        simple.ESP_USER,
        simple.SCREEN_NAME,
        device.KIND,
        hashes.KIND,
        simple.URL,
        simple.GROUP_KIND,
        simple.CHAT_ROOM,
        simple.PRIOR_REPORT,
        simple.DISPLAY_NAME,
        iccid.KIND,
    )
}

# What a lead list's `kind` column may say, and the kind each word means.
LEAD_KINDS: dict[str, IdentifierKind] = {k.lead_name: k for k in KINDS.values() if k.lead_name}


def link_defaults() -> tuple[dict[str, float], dict[str, int]]:
    """The link settings' default weight and cap of every evidence key the kinds contribute."""
    evidence = [e for k in KINDS.values() if k.links for e in k.links.evidence]
    return {e.key: e.weight for e in evidence}, {e.key: e.cap for e in evidence}


def kinds_linking(*how: str) -> frozenset[str]:
    """The kinds whose values link reports in one of these ways (`tipfusion.normalise.kind.IDENTITY`, …)."""
    return frozenset(k.name for k in KINDS.values() if k.links and k.links.how in how)


ACCOUNT_KEYS: frozenset[str] = kinds_linking(ACCOUNT)
"""The kinds that are an account itself (`Links.how` ACCOUNT: the ESP user ID), as linking meets them: reports
holding one are one node in suspect resolution, and a recipient's is evidence of a message between suspects."""


_DEFAULT = Context()


@lru_cache(maxsize=262_144)
def clean(kind: str, raw: str, context: Context | None = None) -> Cleaned | None:
    """Clean `raw` as identifier `kind`; None when there is no value to keep.

    Cleaners are pure, so results are cached: real batches repeat values (a CGNAT address, a group name)
    thousands of times.
    """
    return KINDS[kind].cleaner(raw, context or _DEFAULT)
