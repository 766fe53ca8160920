"""Who is acting and what they may see: the one type every service takes to enforce need-to-know.

Scope is decided here and applied in the service layer on every query (never only in templates): a
district officer's principal carries their district, a station officer's their station, and the
services filter referrals and cases by it. An object outside the scope is reported as not found,
never as forbidden, so its existence does not leak.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"  # users, roles, reference layers; no case work by default
    ANALYST = "analyst"  # central unit: every report, suspect, network; builds requests and referrals
    SUPERVISOR = "supervisor"  # the whole force's totals, read-only on case detail
    DISTRICT = "district"  # one district's referrals and cases (every station of it)
    STATION = "station"  # one police station's referrals and cases
    AUDITOR = "auditor"  # read-only audit log and its verification


CENTRAL_ROLES = frozenset({Role.ADMIN, Role.ANALYST, Role.SUPERVISOR})
"""Roles that see the whole force's work (no jurisdiction filter)."""


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated account as the services see it."""

    username: str
    role: Role
    district: str | None = None  # required for Role.DISTRICT
    station: str | None = None  # required for Role.STATION (its district is looked up, not trusted)

    def __post_init__(self) -> None:
        if self.role is Role.DISTRICT and not self.district:
            raise ValueError(f"account {self.username!r}: a district officer needs a district")
        if self.role is Role.STATION and not self.station:
            raise ValueError(f"account {self.username!r}: a station officer needs a station")

    @property
    def is_central(self) -> bool:
        return self.role in CENTRAL_ROLES

    def may_see(self, district: str | None, station: str | None) -> bool:
        """Whether an object placed at (district, station) is within this principal's scope."""
        if self.is_central:
            return True
        if self.role is Role.DISTRICT:
            return district is not None and district == self.district
        if self.role is Role.STATION:
            return station is not None and station == self.station
        return False  # auditors see the audit log only


SYSTEM = Principal(username="system", role=Role.ADMIN)
"""The principal of unattended jobs (the demo, migrations): named, never anonymous."""
