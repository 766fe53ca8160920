"""A hash-chained event log, written in the same transaction as the change it records.

Each entry's hash covers its own fields and the previous entry's hash, and sequence numbers are
contiguous, so editing, inserting or deleting any entry breaks verification at that entry. Cutting entries
off the end, or rewriting the chain with every later hash recomputed, shows against the signed checkpoint
each append writes (`audit.checkpoints`).
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from tipfusion import clock
from tipfusion.audit.checkpoints import write_checkpoint
from tipfusion.store.bulk import insert_rows
from tipfusion.store.db import lock_audit_chain
from tipfusion.store.tables import audit_events

GENESIS = "0" * 64
COLUMNS = ("seq", "at", "actor", "action", "object_type", "object_id", "details", "prev_hash", "hash")


@dataclass(frozen=True, slots=True)
class AuditEvent:
    action: str  # e.g. report.ingested, document.quarantined, quarantine.retried
    object_type: str
    object_id: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ChainReport:
    count: int
    head_hash: str
    first_broken: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.first_broken is None


def current_actor() -> str:
    """The operating-system user as an audit actor, `os:NAME` — what a store without accounts records. A store with
    accounts records the authenticated account instead (the command line's `cli.identity`, the web's session)."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = os.environ.get("USER", "unknown")
    return f"os:{name}"


def _jsonable(details: dict[str, Any]) -> Any:
    return json.loads(json.dumps(details, default=str, sort_keys=True))


def chain_hash(
    prev_hash: str, seq: int, at: datetime, actor: str, action: str, object_type: str, object_id: str, details: Any
) -> str:
    payload = json.dumps(
        [prev_hash, seq, at.astimezone(UTC).isoformat(), actor, action, object_type, object_id, details],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def append(conn: Connection, actor: str, events: Sequence[AuditEvent], at: datetime | None = None) -> None:
    """Append events after the current head, and checkpoint the new head, inside the caller's transaction."""
    append_by(conn, [(actor, event) for event in events], at)


def append_by(conn: Connection, entries: Sequence[tuple[str, AuditEvent]], at: datetime | None = None) -> None:
    """Append (actor, event) pairs after the current head, in order, each under its own actor, and checkpoint the
    new head once, inside the caller's transaction (`append` for one actor; `audit.journal` for many views)."""
    if not entries:
        return
    lock_audit_chain(conn)
    head = conn.execute(
        select(audit_events.c.seq, audit_events.c.hash).order_by(audit_events.c.seq.desc()).limit(1)
    ).first()
    seq, prev = (int(head[0]), str(head[1])) if head else (0, GENESIS)
    when = (at or clock.now()).astimezone(UTC)
    rows: list[tuple[object, ...]] = []
    for actor, event in entries:
        seq += 1
        details = _jsonable(event.details)
        digest = chain_hash(prev, seq, when, actor, event.action, event.object_type, event.object_id, details)
        rows.append((seq, when, actor, event.action, event.object_type, event.object_id, details, prev, digest))
        prev = digest
    insert_rows(conn, audit_events, COLUMNS, rows)
    write_checkpoint(conn, seq, prev, when)


def verify(conn: Connection) -> ChainReport:
    """Walk the chain in order; name the first entry whose hash, link or sequence is wrong."""
    expected_seq = 1
    prev = GENESIS
    count = 0
    result = conn.execute(select(audit_events).order_by(audit_events.c.seq).execution_options(yield_per=5000))
    for row in result:
        count += 1
        if row.seq != expected_seq:
            return ChainReport(count, prev, int(row.seq), f"sequence gap: expected {expected_seq}, found {row.seq}")
        if row.prev_hash != prev:
            return ChainReport(count, prev, int(row.seq), "link broken: prev_hash does not match the entry before")
        digest = chain_hash(prev, row.seq, row.at, row.actor, row.action, row.object_type, row.object_id, row.details)
        if digest != row.hash:
            return ChainReport(count, prev, int(row.seq), "entry altered: its hash does not match its contents")
        prev = row.hash
        expected_seq += 1
    return ChainReport(count, prev)


def latest(conn: Connection, limit: int) -> list[Any]:
    """The `limit` latest entries, oldest first (what `tipfusion audit list` shows)."""
    rows = conn.execute(select(audit_events).order_by(audit_events.c.seq.desc()).limit(limit)).all()
    return list(reversed(rows))
