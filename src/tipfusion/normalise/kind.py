"""What an identifier kind is, as data (FollowTheMoney's property types are the model).

One `IdentifierKind` owns everything the stages need to know about a kind: how its values are cleaned, how they
are shown, whether and how strongly they link, how other agencies' tools (MISP, STIX) carry them, and what a lead
list calls them. The stages read these fields instead of keeping their own lists of kinds, so adding a kind is one
module (see `tipfusion.normalise.registry`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tipfusion.normalise.cleaned import Cleaner

# How a kind's values link reports (Links.how).
IDENTITY = "identity"  # a value two accounts share says they may be one person: weighed, discounted, capped
ACCOUNT = "account"  # the account itself: its reports are one node; a recipient's account is network evidence
ADDRESS = "address"  # an IP: identity evidence only where enrichment says it attributes a subscriber
GROUP = "group"  # a place people meet (a group, a chat room): network evidence
FILE = "file"  # an uploaded file's hash: network evidence when few suspects hold it

# How a STIX 2.1 bundle carries a kind (IdentifierKind.stix).
STIX_EMAIL = "email-addr"
STIX_IP = "ip-addr"  # ipv4-addr or ipv6-addr by the value
STIX_URL = "url"  # the URL as received: STIX requires the scheme the canonical form drops
STIX_USER_ID = "user-account.user_id"
STIX_LOGIN = "user-account.account_login"
STIX_CONTACT = "identity.contact_information"  # in the suspect's identity: how to reach them
STIX_DESCRIPTION = "identity.description"  # in the suspect's identity: STIX has no observable for it (a handset)
STIX_FORMS = frozenset({STIX_EMAIL, STIX_IP, STIX_URL, STIX_USER_ID, STIX_LOGIN, STIX_CONTACT, STIX_DESCRIPTION})


@dataclass(frozen=True, slots=True)
class Evidence:
    """One link-evidence key a kind contributes, with its defaults for the link settings: the weight of one shared
    value (before the frequency discount) and the cap above which a value is held by too many distinct accounts to
    say anything (it is suppressed and listed)."""

    key: str
    weight: float
    cap: int


@dataclass(frozen=True, slots=True)
class Links:
    """Whether and how a kind's values link reports.

    how: IDENTITY, ACCOUNT, ADDRESS, GROUP or FILE (see above).
    evidence: the keys it contributes to suspect resolution (an IDENTITY kind: one key, its own name).
    accounts_only: only a value on an account is identity evidence (a profile URL says who; a content URL does not).
    deconflict: two teams must not work one holder unknowingly: routing flags a value held by suspects it sends to
        different stations.
    same_as: (kind, prefix): the evidence key a canonical value links under, and the text put before it, when
        another kind carries the same thing (a SIM's ICCID in a lead list is the ICCID an ESP sends as a device ID:
        `("device", "ICCID:")`); None: its own kind and value. Data, not a function, so a store query can write
        the same key in SQL (routing's deconfliction groups the holders of a value in the database).
    """

    how: str
    evidence: tuple[Evidence, ...] = ()
    accounts_only: bool = False
    deconflict: bool = False
    same_as: tuple[str, str] | None = None

    def key(self, kind: str, canonical: str) -> tuple[str, str]:
        """The (evidence key, value) a value of `kind` links under."""
        if self.same_as is None:
            return kind, canonical
        return self.same_as[0], self.same_as[1] + canonical


@dataclass(frozen=True, slots=True)
class Misp:
    """How a MISP event carries a kind: a plain attribute of type `attribute`, or an object of the misp-objects
    `template` with the value under `relation` (plus `fixed` relations every such object has).

    seen: the attribute carries first and last seen (for an IP, when it was used is the evidence).
    typed_ids: the values are typed IDs (`IMEI:…`): each goes under the relation its type has in the template.
    """

    attribute: str | None = None
    template: str | None = None
    relation: str | None = None
    fixed: tuple[tuple[str, str], ...] = ()
    seen: bool = False
    typed_ids: bool = False


@dataclass(frozen=True, slots=True)
class IdentifierKind:
    """Everything about one kind of identifier.

    name: the kind as stored (`identifier_observations.kind`, `lead_identifiers.kind`).
    cleaner: raw value + context → `Cleaned` (None when there is nothing to keep); pure.
    label, label_hi: what a person reads, in English and Hindi (documents use both).
    example: a value as someone would type or a lead list would carry it (help texts; the test that every stage
        takes every kind cleans and searches it).
    rank: what a station can act on first (numbers and addresses a provider can name, then accounts); lower first.
    shown_as_received: shown as the ESP sent it, not as linking compares it (a 15-digit IMEI keeps its check digit).
    links: whether and how its values link reports; None: never evidence (a display name).
    lead_name: the word a lead list's `kind` column uses for it; None: lead lists cannot carry it.
    refuse_invalid: a value that does not clean to a valid one is refused, not kept flagged (an IP that is not an IP).
    esp_scoped: its value is only unique within one ESP, so it is prefixed with the ESP's scope.
    misp, stix: how other agencies' tools carry it; None: they do not (it stays in the referral).
    exported_as_received: exports carry it as the ESP sent it (a URL with its scheme).
    recognise: the shape of a typed value that can only be this kind (a search tries it first); None: no such shape.
    """

    name: str
    cleaner: Cleaner
    label: str
    label_hi: str
    example: str
    rank: int = 99
    shown_as_received: bool = False
    links: Links | None = None
    lead_name: str | None = None
    refuse_invalid: bool = False
    esp_scoped: bool = False
    misp: Misp | None = None
    stix: str | None = None
    exported_as_received: bool = False
    recognise: Callable[[str], bool] | None = None

    def shown(self, canonical: str, values: list[str]) -> str:
        """What a person reads for a value: as received where that is what they match against, else canonical."""
        return ", ".join(values) if self.shown_as_received and values else canonical

    @property
    def linkable(self) -> bool:
        return self.links is not None
