"""Views recorded through the journal: grouped into one transaction when they arrive together, yet each its own
entry under its own actor, committed before `record_view` returns, on a chain that verifies; a group that fails
fails every view in it and leaves the chain as it was."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, func, select

from tipfusion.audit import AuditEvent, verify, verify_checkpoints
from tipfusion.audit import journal as journal_module
from tipfusion.audit.journal import journal_for, record_view
from tipfusion.store.tables import audit_checkpoints, audit_events

VIEWS = 12


def _count(engine: Engine, table: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def _queued(engine: Engine, views: int, body: Callable[[int], None]) -> tuple[list[threading.Thread], list[object]]:
    """`views` threads recording while the journal's writer slot is held here, so they all queue; the slot is let go
    by the caller. Returns the threads and what each raised (None when it returned)."""
    journal = journal_for(engine)
    outcomes: list[object] = [None] * views

    def run(index: int) -> None:
        try:
            body(index)
        except Exception as exc:  # the view's own failure, asserted by the caller
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(views)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while len(journal._pending) < views and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(journal._pending) == views
    return threads, outcomes


def _views_queued_together(engine: Engine) -> list[object]:
    """VIEWS views by analyst0… queued while the writer slot is held, then let go at once: what each raised."""
    journal = journal_for(engine)
    journal._writer.acquire()
    try:
        threads, outcomes = _queued(
            engine, VIEWS, lambda i: record_view(engine, f"analyst{i}", AuditEvent("view.report", "report", str(i)))
        )
    finally:
        journal._writer.release()
    for thread in threads:
        thread.join(30)
    return outcomes


def test_concurrent_views_go_in_one_transaction_each_its_own_entry(engine: Engine) -> None:
    record_view(engine, "first", AuditEvent("view.report", "report", "1"))  # the chain has a head already
    outcomes = _views_queued_together(engine)
    assert outcomes == [None] * VIEWS
    with engine.connect() as conn:
        rows = conn.execute(select(audit_events).order_by(audit_events.c.seq)).all()
        assert [r.seq for r in rows] == list(range(1, VIEWS + 2))
        assert sorted((r.actor, r.object_id) for r in rows[1:]) == sorted((f"analyst{i}", str(i)) for i in range(VIEWS))
        assert verify(conn).ok and verify_checkpoints(conn, []).ok
    assert _count(engine, audit_checkpoints) == 2  # the first view's, and one for the whole group


def test_a_group_that_fails_fails_every_view_in_it(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the store refused the write")

    monkeypatch.setattr(journal_module, "append_by", refuse)
    outcomes = _views_queued_together(engine)
    assert all(isinstance(o, RuntimeError) for o in outcomes)
    assert _count(engine, audit_events) == 0
    monkeypatch.undo()
    record_view(engine, "analyst", AuditEvent("view.report", "report", "1"))  # the journal still works after
    with engine.connect() as conn:
        assert verify(conn).ok and verify(conn).count == 1


def test_many_threads_every_view_recorded_and_the_chain_verifies(engine: Engine) -> None:
    threads = [
        threading.Thread(
            target=lambda i=i: [
                record_view(engine, f"analyst{i}", AuditEvent("view.suspect", "suspect", f"{i}-{n}")) for n in range(5)
            ]
        )
        for i in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    with engine.connect() as conn:
        report = verify(conn)
        assert report.ok and report.count == 40
        ids = set(conn.execute(select(audit_events.c.object_id)).scalars())
        assert ids == {f"{i}-{n}" for i in range(8) for n in range(5)}
        assert verify_checkpoints(conn, []).ok
