"""Plain records the linking stages exchange."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from tipfusion.link.columns import FileRows, IdentityRows, ReportKeys
from tipfusion.link.evidence import Disagreement
from tipfusion.link.names import NameStats


@dataclass(frozen=True, slots=True)
class Suppressed:
    """A value that was not used as evidence, and why (shown to analysts)."""

    kind: str
    value: str
    holders: int
    reason: str


@dataclass
class LinkInput:
    reports: list[int]
    identity: IdentityRows  # (report_id, evidence kind, key) about the reported person; a list of them is taken too
    names: dict[int, Collection[tuple[str, str]]] = field(default_factory=dict)
    ages: dict[int, Collection[int]] = field(default_factory=dict)  # the reported person's stated ages, per report
    born: dict[int, Collection[str]] = field(default_factory=dict)  # … and dates of birth (ISO)
    groups: ReportKeys = field(default_factory=ReportKeys)  # (report_id, group or chat room)
    files: FileRows = field(default_factory=FileRows)  # (report_id, file key, flagged viral)
    known_files: dict[str, str] = field(default_factory=dict)  # file key → why it is known content (a hash list)
    recipients: ReportKeys = field(default_factory=ReportKeys)  # (report_id, recipient's ESP account)
    leads: list[tuple[str, str, str]] = field(default_factory=list)  # (lead_ref, evidence kind, key)
    verified: IdentityRows = field(default_factory=IdentityRows)  # identity values the ESP verified; or a set
    colocations: ReportKeys = field(default_factory=ReportKeys)  # (report_id, fixed IP @ day)
    suppressed: list[Suppressed] = field(default_factory=list)
    # (kind, key) of values a part of the store holds that the whole store's linking suppressed as held by too many
    # accounts (`link.locality.within`): the part's own count would be smaller; they are still shown (a contradiction
    # counts them) but never shared
    too_widely_held: set[tuple[str, str]] = field(default_factory=set)

    def __post_init__(self) -> None:
        """The row fields are held as columns; lists (and a set of verified values) are taken too."""
        self.identity = IdentityRows.of(self.identity)
        self.verified = IdentityRows.of(self.verified)
        self.groups = ReportKeys.of(self.groups)
        self.files = FileRows.of(self.files)
        self.recipients = ReportKeys.of(self.recipients)
        self.colocations = ReportKeys.of(self.colocations)


@dataclass(frozen=True, slots=True)
class Link:
    """Why two things were joined: the evidence kinds, example values and the score."""

    a: int
    b: int
    score: float
    evidence: tuple[tuple[str, str, float], ...]  # (kind, value, weight)


@dataclass(frozen=True)
class LinkModel:
    """What the suspects stage measured on the whole store and weighs every pair by: how rare each shared name is
    (and how much an agreeing age says), and what a kind both accounts show and share none of costs.

    A part of the store measured on its own would weigh its pairs differently from the whole, so linking a part alone
    (after a batch, the part it touched) gives what linking everything gives only when both weigh by one model."""

    names: NameStats
    disagreements: Mapping[str, Disagreement]

    def as_json(self) -> dict[str, Any]:
        """As a run keeps it (`link_runs.basis`): plain lists and numbers, the names sorted."""
        return {
            "names": [[first, last, held] for (first, last), held in sorted(self.names.holders.items())],
            "named": self.names.named,
            "age_bits": self.names.age_bits,
            "disagreements": {kind: asdict(d) for kind, d in sorted(self.disagreements.items())},
        }

    @classmethod
    def of_json(cls, kept: Mapping[str, Any]) -> LinkModel:
        names = NameStats({(first, last): held for first, last, held in kept["names"]}, kept["named"], kept["age_bits"])
        return cls(names, {kind: Disagreement(**d) for kind, d in kept["disagreements"].items()})


@dataclass
class Clustering:
    label_of: dict[int, int]  # item → cluster (cluster = smallest item id in it)
    links: list[Link]
    suppressed: list[Suppressed]
    model: LinkModel | None = None  # what the suspects were weighed by (None: networks, which measure nothing)
