"""The unit of work: one change to the store and the audit entries that record it, committed together or not at all.

Every service that changes the store (or shows what the audit log must record) takes the same thing: a unit opened
on the engine by the acting account. It owns the transaction, so a service never calls `engine.begin()` and then
forgets the audit append, and an entry is never written for a change that was rolled back: the entries recorded
during the unit are appended, in order, just before it commits; an exception rolls back both.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Engine

from tipfusion.audit.log import AuditEvent, append


class UnitOfWork:
    """`with UnitOfWork(engine, actor) as uow:` then read and write through `uow.conn` and `uow.record(...)`."""

    def __init__(self, engine: Engine, actor: str, at: datetime | None = None) -> None:
        self.engine = engine
        self.actor = actor
        self.at = at  # the entries' time when the change carries its own stamp (default: when the unit commits)
        self.events: list[AuditEvent] = []
        self._transaction: Any = None
        self._conn: Connection | None = None

    @property
    def conn(self) -> Connection:
        """The unit's connection, inside its transaction (only while the unit is open)."""
        if self._conn is None:
            raise RuntimeError("the unit of work is not open: use it as `with UnitOfWork(engine, actor) as uow:`")
        return self._conn

    def record(
        self,
        action: str | AuditEvent,
        object_type: str = "",
        object_id: str = "",
        details: dict[str, Any] | None = None,
    ) -> None:
        """An audit entry for what this unit did: appended when the unit commits, never if it rolls back."""
        event = action if isinstance(action, AuditEvent) else AuditEvent(action, object_type, object_id, details or {})
        self.events.append(event)

    def record_all(self, events: Sequence[AuditEvent]) -> None:
        self.events.extend(events)

    def __enter__(self) -> UnitOfWork:
        self._transaction = self.engine.begin()
        self._conn = self._transaction.__enter__()
        self.events = []
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, trace: TracebackType | None
    ) -> bool | None:
        transaction, self._transaction = self._transaction, None
        try:
            if kind is None and self.events:
                append(self.conn, self.actor, self.events, self.at)
        except BaseException as failed:
            transaction.__exit__(type(failed), failed, failed.__traceback__)
            raise
        finally:
            self._conn = None
        result: bool | None = transaction.__exit__(kind, exc, trace)
        return result
