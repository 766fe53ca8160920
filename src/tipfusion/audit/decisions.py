"""Analyst decisions (overrides, pins, routing by hand): each needs a reason, is stored active, and is audited
in the same unit of work."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, insert

from tipfusion.audit.unit import UnitOfWork
from tipfusion.errors import InputRefused
from tipfusion.store.repository import now


def require_reason(reason: str, what: str) -> None:
    if not reason.strip():
        raise InputRefused(f"{what} needs a reason (--reason)", "reason")


def record_decision(
    uow: UnitOfWork,
    table: Table,
    action: str,
    object_type: str,
    object_id: str | None,
    values: dict[str, Any],
    details: dict[str, Any],
) -> int:
    """Insert the decision (the unit's actor, time, active) and record its audit event in the unit; return its id
    (the audited object when `object_id` is None)."""
    number = int(
        uow.conn.execute(
            insert(table).values(**values, actor=uow.actor, created_at=now(), active=True).returning(table.c.id)
        ).scalar_one()
    )
    uow.record(action, object_type, object_id or str(number), details)
    return number
