"""Everything linking decides by, in one dataclass saved with each run (`link_runs.settings`).

A unit changes it in the `[link]` table of its settings file (`tipfusion.tuning`); weights and caps are keyed by
identifier kind name (`[link.weights] phone = 9`), merged over these defaults one kind at a time."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Annotated, Any

from annotated_types import Ge, Gt

Count = Annotated[int, Ge(1)]


@dataclass(frozen=True)
class LinkSettings:
    # identity evidence: weight of one shared value (before the frequency discount) and the cap above which
    # a value is held by too many distinct accounts to say anything (it is suppressed and listed)
    weights: dict[str, float] = field(
        default_factory=lambda: {
            "email": 8.0,
            "phone": 7.0,
            "device": 8.0,
            "prior_report": 9.0,
            "url": 7.0,
            "screen_name": 2.0,
            "ip_fixed": 5.0,
            "ip_v6_prefix": 5.0,
            "ip_cgnat_port": 8.0,
            "subscriber_id": 10.0,
        }
    )
    caps: dict[str, Count] = field(
        default_factory=lambda: {
            "email": 8,
            "phone": 6,
            "device": 6,
            "prior_report": 50,
            "url": 6,
            "screen_name": 4,
            "ip_fixed": 4,
            "ip_v6_prefix": 4,
            "ip_cgnat_port": 3,
            "subscriber_id": 6,
        }
    )
    verified_bonus: float = 1.0  # both sides' value verified by the ESP
    same_name: float = 2.0  # both accounts name the same person
    different_name: float = -6.0  # both name a person, and never the same one
    threshold: float = 6.0  # a pair of accounts is one suspect at or above this score
    # networks
    group_weight: float = 3.0
    recipient_weight: float = 3.0
    rare_file_weight: float = 1.0
    min_rare_files: Count = 2  # files alone link two suspects only from this many rare files in common
    lead_weight: float = 2.0
    colocation_weight: float = 2.0  # two suspects on one fixed-line address on the same day
    colocation_cap: Count = 4
    group_cap: Count = 60  # a group shared by more suspects is noise (a public channel)
    file_cap: Count = 8  # a file held by more suspects is circulating material, not a ring's own
    edge_threshold: float = 2.0
    resolution: Annotated[float, Gt(0)] = 1.0
    seed: int = 20261129

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
