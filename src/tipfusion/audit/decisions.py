"""Analyst decisions (overrides, pins, routing by hand): each needs a reason, is stored active, and is audited
in the same transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, insert

from tipfusion.audit.log import AuditEvent, append
from tipfusion.errors import InputRefused
from tipfusion.store.repository import now


def require_reason(reason: str, what: str) -> None:
    if not reason.strip():
        raise InputRefused(f"{what} needs a reason (--reason)", "reason")


def record_decision(
    conn: Connection,
    table: Table,
    actor: str,
    action: str,
    object_type: str,
    object_id: str | None,
    values: dict[str, Any],
    details: dict[str, Any],
) -> int:
    """Insert the decision (actor, time, active) and its audit event; return its id (the audited object when
    `object_id` is None)."""
    number = int(
        conn.execute(
            insert(table).values(**values, actor=actor, created_at=now(), active=True).returning(table.c.id)
        ).scalar_one()
    )
    append(conn, actor, [AuditEvent(action, object_type, object_id or str(number), details)])
    return number
