"""Scope checks for a shell that holds no connection (the command line): the same rules and refusals as `scope`.

The command line's cases commands call these before the case services, so a district or station officer logged in
at a terminal reaches only the cases now placed in their jurisdiction, exactly as in the browser; anything else is
not found, and the attempt is in the audit log (`scope.deny`).
"""

from __future__ import annotations

from sqlalchemy import Engine

from tipfusion.accounts.principal import Principal, Role
from tipfusion.workplace.scope import deny, ensure_may_act, visible_case


def case_in_scope(engine: Engine, principal: Principal, case_ref: str, action: str = "view") -> None:
    """Raise NotFound (audited) unless the principal may open the case (`view`) or make this change to it."""
    with engine.connect() as conn:
        if action == "view":
            visible_case(conn, principal, case_ref)
        else:
            ensure_may_act(conn, principal, case_ref, action)


def jurisdiction(
    engine: Engine, principal: Principal, station: str | None, district: str | None, what: str
) -> tuple[str | None, str | None]:
    """The (station, district) a list is filtered to: as asked for the central roles; an officer's own station or
    district otherwise (asking for another is refused as not found, audited)."""
    if principal.is_central:
        return station, district
    own = principal.station if principal.role is Role.STATION else principal.district
    asked = station if principal.role is Role.STATION else district
    if principal.role not in (Role.STATION, Role.DISTRICT) or (asked is not None and asked != own):
        with engine.connect() as conn:
            raise deny(conn, principal, "page", what, "view", f"outside scope ({asked or principal.role})")
    if principal.role is Role.STATION:
        return own, district
    return station, own
