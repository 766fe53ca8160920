"""Pure scoring: plain facts about a report (and its suspect) in, a score with its contributions out."""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tipfusion.triage.settings import TriageSettings

ENTICEMENT = "Online Enticement of Children for Sexual Acts"


@dataclass(slots=True)
class ReportFacts:
    """What scoring knows of a report. One per report in the store (1 M at once), so no instance dict, and no set
    made for a report without annotations: the shared empty one stands in until a value comes."""

    report_id: int
    escalation: str | None = None
    ncmec_priority: str | None = None
    incident_type: str | None = None
    incident_at: datetime | None = None
    annotations: AbstractSet[str] = frozenset()
    file_annotations: AbstractSet[str] = frozenset()
    minor_contact: bool = False
    files: int = 0
    new_files: int = 0
    circulating_files: int = 0
    unknown_files: int = 0  # files on none of the unit's known-content hash lists (0 when no list is loaded)
    lists_checked: int = 0
    prior_reports: int = 0


@dataclass(slots=True)
class SuspectFacts:
    suspect_id: str
    reports: int = 1
    network_size: int = 0
    identifiable: bool = False
    lead_refs: set[str] = field(default_factory=set)


Contribution = tuple[str, float, str]  # (factor, points, why)


def score_report(
    facts: ReportFacts, suspect: SuspectFacts | None, newest: datetime | None, settings: TriageSettings
) -> tuple[float, list[Contribution]]:
    parts: list[Contribution] = []
    if facts.escalation:
        parts.append(("escalated", settings.escalated, facts.escalation[:120]))
    if facts.ncmec_priority and facts.ncmec_priority.strip() in settings.ncmec_priority:
        level = facts.ncmec_priority.strip()
        parts.append(("ncmec_priority", settings.ncmec_priority[level], f"NCMEC priority {level}"))
    if facts.incident_type == ENTICEMENT:
        parts.append(("enticement", settings.enticement, "online enticement of a child"))
    for name in sorted(facts.annotations & settings.contact_annotations.keys()):
        parts.append(("contact_annotation", settings.contact_annotations[name], name))
    if facts.minor_contact:
        parts.append(("minor_contact", settings.minor_contact, "a victim or an intended recipient under 18"))
    harm = [
        (name, settings.harm_annotations[name])
        for name in sorted(facts.file_annotations & settings.harm_annotations.keys())
    ]
    if harm:
        parts.append(
            ("harm_annotations", min(settings.harm_cap, sum(p for _, p in harm)), ", ".join(name for name, _ in harm))
        )
    if facts.unknown_files:
        parts.append(
            (
                "unknown_content",
                settings.unknown_content,
                f"{facts.unknown_files} file(s) on none of the {facts.lists_checked} known-content hash list(s): "
                "new, unknown content, possibly ongoing abuse of a child",
            )
        )
    if facts.new_files:
        parts.append(("new_content", settings.new_content, f"{facts.new_files} file(s) no other report holds"))
    elif facts.files and facts.circulating_files == facts.files:
        parts.append(
            (
                "only_circulating",
                settings.only_circulating,
                "every file is viral, widely circulating or on a known-content list",
            )
        )
    if facts.prior_reports:
        parts.append(
            (
                "prior_reports",
                min(settings.prior_report_cap, settings.prior_report * facts.prior_reports),
                f"{facts.prior_reports} earlier report(s) referenced",
            )
        )
    if newest is not None and facts.incident_at is not None:
        age = newest - facts.incident_at
        if age <= timedelta(days=30):
            parts.append(("recent", settings.recent_30_days, "within 30 days of the newest report"))
        elif age <= timedelta(days=90):
            parts.append(("recent", settings.recent_90_days, "within 90 days of the newest report"))
    if suspect is not None:
        if suspect.reports > 1:
            parts.append(
                (
                    "repeat_activity",
                    min(settings.repeat_cap, settings.repeat_report * (suspect.reports - 1)),
                    f"suspect {suspect.suspect_id} has {suspect.reports} reports",
                )
            )
        if suspect.network_size > 1:
            parts.append(
                (
                    "network",
                    min(settings.network_cap, settings.network_member * (suspect.network_size - 1)),
                    f"in a network of {suspect.network_size} suspects",
                )
            )
        if suspect.identifiable:
            parts.append(("identifiable", settings.identifiable, "an ISP, phone or email can name the suspect"))
        else:
            parts.append(("identifiable", settings.unidentifiable, "nothing yet names the suspect"))
        if suspect.lead_refs:
            parts.append(
                (
                    "lead_hits",
                    min(settings.lead_cap, settings.lead_hit * len(suspect.lead_refs)),
                    "named in lead(s) " + ", ".join(sorted(suspect.lead_refs)),
                )
            )
    return round(sum(p for _, p, _ in parts), 2), parts
