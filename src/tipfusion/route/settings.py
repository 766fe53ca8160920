"""What routing decides by beyond the evidence itself, in one dataclass saved with each run (`route.completed`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Annotated, Any

from annotated_types import Ge, Predicate


def _deconflict_defaults() -> tuple[str, ...]:
    """The kinds that say so in the registry, and the ID document an ISP names a subscriber by (not a kind)."""
    from tipfusion.normalise.registry import KINDS

    return tuple(sorted({k.name for k in KINDS.values() if k.links and k.links.deconflict} | {"subscriber_id"}))


def _checkable() -> frozenset[str]:
    """The link keys deconfliction can check (`store.deconfliction`: not IP keys, which need enrichment's rules)."""
    from tipfusion.store.deconfliction import DECONFLICTABLE

    return DECONFLICTABLE


def deconflictable(kinds: tuple[str, ...]) -> bool:
    return set(kinds) <= _checkable()


@dataclass(frozen=True)
class RoutingSettings:
    # identifier kinds whose holders are cross-checked: two suspects routed to different places that share one are
    # flagged on both sides, so two teams never work one person unknowingly
    deconflict_kinds: Annotated[tuple[str, ...], Predicate(deconflictable)] = field(
        default_factory=_deconflict_defaults
    )
    # a value held by more suspects than this says nothing about any one of them (a shared number, a public URL)
    deconflict_max_holders: Annotated[int, Ge(2)] = 10

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def allowed(key: str) -> str:
        """What a key takes, where its type does not say (a settings file's error message names it)."""
        return f"kinds deconfliction checks ({', '.join(sorted(_checkable()))})" if key == "deconflict_kinds" else ""
