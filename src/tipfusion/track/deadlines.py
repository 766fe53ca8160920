"""A station's two deadlines on a case — acknowledge, then register the FIR — as dates and as one SQL condition.

The one statement of the rule (acknowledgement late while the case is `sent`; FIR late while it is `sent` or
`acknowledged`): `track.service.overdue` lists what `late` says, and inboxes and dashboards count and filter with
`overdue_clause` in the database. ISP answers, which `overdue` also lists, are the central unit's deadline, not a
station's, and are not part of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_

from tipfusion.config import Settings
from tipfusion.store.tables import cases

ACKNOWLEDGEMENT = "acknowledgement"
FIR_REGISTRATION = "FIR registration"


@dataclass(frozen=True, slots=True)
class Deadlines:
    """The case deadlines of one configuration, applied to a moment `at`."""

    acknowledge: timedelta
    fir: timedelta
    at: datetime

    @classmethod
    def of(cls, settings: Settings, at: datetime) -> Deadlines:
        return cls(
            timedelta(hours=settings.case_deadlines.acknowledge_hours),
            timedelta(days=settings.case_deadlines.fir_days),
            at,
        )

    def acknowledge_due(self, sent_at: datetime) -> datetime:
        return sent_at + self.acknowledge

    def fir_due(self, sent_at: datetime) -> datetime:
        return sent_at + self.fir

    def due(self, duty: str, sent_at: datetime) -> datetime:
        """When a duty `late` names ("acknowledgement", "FIR registration") falls due."""
        return self.acknowledge_due(sent_at) if duty == ACKNOWLEDGEMENT else self.fir_due(sent_at)

    def late(self, state: str, sent_at: datetime) -> tuple[str, ...]:
        """Which of the station's duties are past due for a case in `state` sent at `sent_at`."""
        late: list[str] = []
        if state == "sent" and self.at > self.acknowledge_due(sent_at):
            late.append(ACKNOWLEDGEMENT)
        if state in ("sent", "acknowledged") and self.at > self.fir_due(sent_at):
            late.append(FIR_REGISTRATION)
        return tuple(late)

    def overdue_clause(self) -> ColumnElement[bool]:
        """`late(...)` is non-empty, over `cases` (the thresholds are computed here, so an index on sent_at serves)."""
        return or_(
            and_(cases.c.state == "sent", cases.c.sent_at < self.at - self.acknowledge),
            and_(cases.c.state.in_(("sent", "acknowledged")), cases.c.sent_at < self.at - self.fir),
        )
