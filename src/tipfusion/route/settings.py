"""What routing decides by beyond the evidence itself, in one dataclass saved with each run (`route.completed`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated, Any

from annotated_types import Ge


@dataclass(frozen=True)
class RoutingSettings:
    # identifier kinds whose holders are cross-checked: two suspects routed to different places that share one are
    # flagged on both sides, so two teams never work one person unknowingly
    deconflict_kinds: tuple[str, ...] = ("device", "email", "esp_user", "phone", "subscriber_id", "url")
    # a value held by more suspects than this says nothing about any one of them (a shared number, a public URL)
    deconflict_max_holders: Annotated[int, Ge(2)] = 10

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
