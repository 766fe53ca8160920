"""Store-side reads that decide what a station or district may open beyond its own cases.

A referral belongs where its case is *now* (a transfer moves the case, and with it the need to know); a
supplementary referral belongs to its parent's case. A report, suspect or network is within a scope only through the
referrals of that scope: what the station was sent, and the suspects it was asked to act on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, func, select

from tipfusion.store.links import alias_resolver
from tipfusion.store.tables import cases, referrals, report_links

OWNING_CASE = cases.c.referral_id == func.coalesce(referrals.c.parent_id, referrals.c.id)
"""Join condition from a referral to the case it belongs to (its own, or its parent's for a supplementary one)."""


@dataclass(frozen=True, slots=True)
class Coverage:
    """What the referrals of one scope hand their holders: suspect ids (current names), reports and networks."""

    suspects: frozenset[str]
    reports: frozenset[int]
    networks: frozenset[str]
    resolve: Callable[[str], str]

    def covers_suspect(self, suspect_id: str) -> bool:
        return self.resolve(suspect_id) in self.suspects

    def covers_network(self, network_id: str) -> bool:
        return self.resolve(network_id) in self.networks


def coverage(conn: Connection, where: ColumnElement[bool]) -> Coverage:
    """The suspects, reports and referred networks of every referral whose case satisfies `where`.

    A station holds tens of referrals, so reading their JSON lists here is cheap; the list of a central principal is
    never built (central roles see everything without it).
    """
    resolve = alias_resolver(conn)
    suspect_ids: set[str] = set()
    report_ids: set[int] = set()
    network_ids: set[str] = set()
    query = select(referrals.c.subject_type, referrals.c.subject_id, referrals.c.suspects, referrals.c.snapshot).join(
        cases, OWNING_CASE
    )
    for subject_type, subject_id, members, snapshot in conn.execute(query.where(where)):
        suspect_ids.update(resolve(str(s)) for s in members or [])
        report_ids.update(int(r) for r in (snapshot or {}).get("reports", []))
        if subject_type == "network":
            network_ids.add(resolve(str(subject_id)))
    return Coverage(frozenset(suspect_ids), frozenset(report_ids), frozenset(network_ids), resolve)


def report_suspect(conn: Connection, report_id: int) -> str | None:
    """The suspect a report is linked to now (None before linking)."""
    found = conn.execute(select(report_links.c.suspect_id).where(report_links.c.report_id == report_id)).scalar()
    return None if found is None else str(found)
