"""The weights triage scores by, in one dataclass saved with each run (the `triage.completed` audit entry).

A unit changes it in the `[triage]` table of its settings file (`tipfusion.tuning`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Annotated, Any

from annotated_types import Ge


@dataclass(frozen=True)
class TriageSettings:
    escalated: float = 30.0  # the ESP escalated the report (text in escalateToHighPriority)
    ncmec_priority: dict[str, float] = field(default_factory=lambda: {"1": 40.0, "2": 20.0, "3": 5.0})
    enticement: float = 25.0  # incident type: online enticement of a child
    contact_annotations: dict[str, float] = field(
        default_factory=lambda: {
            "sextortion": 20.0,
            "minorToMinorInteraction": 10.0,
            "csamSolicitation": 15.0,
            "sadisticOnlineExploitation": 20.0,
        }
    )
    minor_contact: float = 20.0  # a victim, or an intended recipient under 18
    harm_annotations: dict[str, float] = field(
        default_factory=lambda: {
            "infant": 15.0,
            "physicalHarm": 15.0,
            "liveStreaming": 15.0,
            "possibleSelfProduction": 10.0,
            "sadisticOnlineExploitation": 15.0,
        }
    )
    harm_cap: float = 30.0
    new_content: float = 10.0  # at least one file no other report holds
    only_circulating: float = -5.0  # every file is viral, widely circulating or on a known-content hash list
    unknown_content: float = 15.0  # hash lists are loaded and a file is on none of them (and not circulating)
    prior_report: float = 5.0  # per earlier report referenced …
    prior_report_cap: float = 15.0
    repeat_report: float = 2.0  # per further report of the same suspect …
    repeat_cap: float = 20.0
    network_member: float = 2.0  # per other suspect in the suspect's network …
    network_cap: float = 20.0
    recent_30_days: float = 10.0  # incident within 30 days of the newest one held
    recent_90_days: float = 5.0
    identifiable: float = 10.0  # the suspect can be named: an identifiable IP sighting, a valid phone or email
    unidentifiable: float = -5.0
    lead_hit: float = 25.0  # per lead list that names one of the suspect's identifiers …
    lead_cap: float = 50.0
    circulating_holders: Annotated[int, Ge(1)] = 8  # a file held by more reports than this is circulating

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
