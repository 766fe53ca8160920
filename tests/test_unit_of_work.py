"""The unit of work commits a change and its audit entries together, or neither."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, func, insert, select

from tipfusion.audit import AuditEvent, UnitOfWork, verify
from tipfusion.store.tables import audit_events, store_flags


def _flags(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return {row.name: row.value for row in conn.execute(select(store_flags))}


def _entries(engine: Engine) -> list[tuple[str, str, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(select(audit_events).order_by(audit_events.c.seq)).all()
    return [(r.actor, r.action, r.object_type, r.object_id) for r in rows]


def test_a_unit_commits_its_change_and_its_entries_in_order(engine: Engine) -> None:
    with UnitOfWork(engine, "analyst1") as uow:
        uow.conn.execute(insert(store_flags).values(name="probe", value="1"))
        uow.record("flag.set", "flag", "probe", {"value": "1"})
        uow.record(AuditEvent("flag.viewed", "flag", "probe"))
    assert _flags(engine)["probe"] == "1"
    assert _entries(engine) == [("analyst1", "flag.set", "flag", "probe"), ("analyst1", "flag.viewed", "flag", "probe")]
    with engine.connect() as conn:
        assert verify(conn).ok


def test_a_failing_unit_leaves_neither_change_nor_entry(engine: Engine) -> None:
    with pytest.raises(LookupError), UnitOfWork(engine, "analyst1") as uow:
        uow.conn.execute(insert(store_flags).values(name="probe", value="1"))
        uow.record("flag.set", "flag", "probe")
        raise LookupError("the service refused half-way")
    assert "probe" not in _flags(engine)
    assert _entries(engine) == []


def test_a_unit_without_entries_appends_nothing_and_is_closed_after(engine: Engine) -> None:
    with UnitOfWork(engine, "analyst1") as uow:
        uow.conn.execute(insert(store_flags).values(name="probe", value="1"))
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(audit_events)).scalar_one() == 0
    with pytest.raises(RuntimeError, match="not open"):
        _ = uow.conn


def test_a_unit_stamps_its_entries_with_the_changes_own_time_when_given(engine: Engine) -> None:
    stamp = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    with UnitOfWork(engine, "analyst1", stamp) as uow:
        uow.record("sources.purged", "store", "source_documents")
    with engine.connect() as conn:
        assert conn.execute(select(audit_events.c.at)).scalar_one() == stamp
