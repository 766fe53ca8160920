"""What routing decides by beyond the evidence itself, in one dataclass saved with each run (`route.completed`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Annotated, Any

from annotated_types import Ge


def _deconflict_defaults() -> tuple[str, ...]:
    """The kinds that say so in the registry, and the ID document an ISP names a subscriber by (not a kind)."""
    from tipfusion.normalise.registry import KINDS

    return tuple(sorted({k.name for k in KINDS.values() if k.links and k.links.deconflict} | {"subscriber_id"}))


@dataclass(frozen=True)
class RoutingSettings:
    # identifier kinds whose holders are cross-checked: two suspects routed to different places that share one are
    # flagged on both sides, so two teams never work one person unknowingly
    deconflict_kinds: tuple[str, ...] = field(default_factory=_deconflict_defaults)
    # a value held by more suspects than this says nothing about any one of them (a shared number, a public URL)
    deconflict_max_holders: Annotated[int, Ge(2)] = 10

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
