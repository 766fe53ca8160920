"""Page views appended to the audit chain in groups: one transaction for the views that arrive together.

Every page view is an entry in the hash chain, and the chain has one writer at a time (`append` takes the chain's
lock — PostgreSQL's advisory lock, SQLite's write lock — until its transaction commits: two writers must never
append after the same head). One transaction per view made 50 concurrent sessions queue behind that lock one view
at a time, each waiting request holding a pooled connection (the pool then ran dry for the pages' reads too) and
each commit's flush paid alone while the lock was held.

So views go through a journal (one per engine, shared by every thread of the process): a view joins the pending
list and waits for the journal's writer slot, without a connection. Whoever holds the slot takes every pending view
and appends them with `append_by` in one transaction — in arrival order, each under its own actor — and commits;
the views that arrived meanwhile go together in the next one. Several server processes each have a journal; their
groups still serialise on the chain's lock.

The guarantee is the one a view had before, per view:
- `record` returns only after the transaction holding the view's entry has committed; if that transaction fails,
  `record` raises (the page fails, nothing is shown unrecorded). No view is dropped, merged or reordered after its
  response: each view is its own entry with its own actor, object and details.
- The chain is the same chain: contiguous sequence numbers, each entry's hash over its fields and the previous
  entry's hash, computed under the chain's lock in the transaction that inserts it; `verify` and
  `verify_checkpoints` check it exactly as before. A group writes one checkpoint (its new head), not one per entry.
- An entry's time is the moment its group is written (at most one group's write after the view), the same for
  every entry of the group.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine

from tipfusion.audit.log import AuditEvent, append_by

MAX_GROUP = 500  # views per transaction: a burst is written in several groups rather than one long transaction


@dataclass(slots=True)
class _Ticket:
    actor: str
    events: Sequence[AuditEvent]
    done: bool = False
    error: BaseException | None = None


class ViewJournal:
    """The audit chain's writer for one engine's page views (see the module's docstring for the guarantee)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._pending: list[_Ticket] = []
        self._pending_lock = threading.Lock()  # guards `_pending` only, held for a list operation
        self._writer = threading.Lock()  # the writer slot: one group in flight per process

    def record(self, actor: str, events: Sequence[AuditEvent]) -> None:
        """Append `events` by `actor` to the chain (together, in order); returns once they are committed, raises if
        they could not be."""
        if not events:
            return
        ticket = _Ticket(actor, tuple(events))
        with self._pending_lock:
            self._pending.append(ticket)
        while True:
            with self._writer:
                if ticket.done:
                    break
                with self._pending_lock:
                    group, self._pending = self._pending[:MAX_GROUP], self._pending[MAX_GROUP:]
                self._write(group)
            if ticket.done:  # written by this call's own group, or a later one (arrival past MAX_GROUP)
                break
        if ticket.error is not None:
            raise ticket.error

    def _write(self, group: list[_Ticket]) -> None:
        """One transaction for the group; every ticket is marked done (with the error, if it failed) before the
        writer slot is let go, so a waiter never finds its view neither written nor failed."""
        try:
            with self.engine.begin() as conn:
                append_by(conn, [(t.actor, event) for t in group for event in t.events])
        except BaseException as exc:  # each waiter raises it: its view is not recorded, so its page must fail
            for ticket in group:
                ticket.error = exc
        finally:
            for ticket in group:
                ticket.done = True


_journals: weakref.WeakKeyDictionary[Engine, ViewJournal] = weakref.WeakKeyDictionary()
_journals_lock = threading.Lock()


def journal_for(engine: Engine) -> ViewJournal:
    """The engine's one journal (made on first use; gone with the engine)."""
    with _journals_lock:
        journal = _journals.get(engine)
        if journal is None:
            journal = _journals[engine] = ViewJournal(engine)
        return journal


def record_view(engine: Engine, actor: str, *events: AuditEvent) -> None:
    """Record a view (or what else is audited with no change of its own: an export) on `engine`'s audit chain,
    committed before this returns, in one transaction with the views other threads record meanwhile."""
    journal_for(engine).record(actor, events)
