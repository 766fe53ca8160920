"""Plain records the linking stages exchange."""

from __future__ import annotations

from dataclasses import dataclass, field


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
    identity: list[tuple[int, str, str]]  # (report_id, evidence kind, key) about the reported person
    names: dict[int, set[tuple[str, str]]] = field(default_factory=dict)
    ages: dict[int, set[int]] = field(default_factory=dict)  # the reported person's stated ages, per report
    born: dict[int, set[str]] = field(default_factory=dict)  # … and dates of birth (ISO)
    groups: list[tuple[int, str]] = field(default_factory=list)  # (report_id, group or chat room)
    files: list[tuple[int, str, bool]] = field(default_factory=list)  # (report_id, file key, flagged viral)
    known_files: dict[str, str] = field(default_factory=dict)  # file key → why it is known content (a hash list)
    recipients: list[tuple[int, str]] = field(default_factory=list)  # (report_id, recipient's ESP account)
    leads: list[tuple[str, str, str]] = field(default_factory=list)  # (lead_ref, evidence kind, key)
    verified: set[tuple[int, str, str]] = field(default_factory=set)  # identity values the ESP verified
    colocations: list[tuple[int, str]] = field(default_factory=list)  # (report_id, fixed IP @ day)
    suppressed: list[Suppressed] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Link:
    """Why two things were joined: the evidence kinds, example values and the score."""

    a: int
    b: int
    score: float
    evidence: tuple[tuple[str, str, float], ...]  # (kind, value, weight)


@dataclass
class Clustering:
    label_of: dict[int, int]  # item → cluster (cluster = smallest item id in it)
    links: list[Link]
    suppressed: list[Suppressed]
