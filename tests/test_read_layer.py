"""The read layer's shared pieces: the one chunked `IN` helper and the store's typed sighting reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import Engine, insert, select

from tipfusion.store.current import IN_LIMIT, chunked, rows_in
from tipfusion.store.tables import store_flags
from tipfusion.store.types import utc_value


def test_chunked_slices_any_collection_in_a_stable_order() -> None:
    values = set(range(2 * IN_LIMIT + 5))
    parts = list(chunked(values))
    assert [len(p) for p in parts] == [IN_LIMIT, IN_LIMIT, 5]
    assert [v for p in parts for v in p] == sorted(values)  # a set is sorted: the statements do not vary by hash
    assert list(chunked(["b", "a"])) == [["b", "a"]]  # a sequence keeps the caller's order


def test_rows_in_reads_more_values_than_one_in_list_may_hold(engine: Engine) -> None:
    names = [f"probe{n:05d}" for n in range(IN_LIMIT * 2 + 3)]
    with engine.begin() as conn:
        conn.execute(insert(store_flags), [{"name": name, "value": "x"} for name in names[::2]])
        rows = rows_in(conn, select(store_flags.c.name), store_flags.c.name, set(names))
    assert sorted(row.name for row in rows) == names[::2]


def test_utc_value_applies_the_stored_timestamp_type_to_raw_driver_values() -> None:
    moment = datetime(2025, 3, 15, 2, 37, 31, tzinfo=UTC)
    ist = timezone(timedelta(hours=5, minutes=30))
    assert utc_value("2025-03-15 02:37:31.000000") == moment  # SQLite: UTC text without a zone
    assert utc_value(moment.astimezone(ist)) == moment
    assert utc_value(moment.astimezone(ist)).tzinfo is UTC  # type: ignore[union-attr]
    assert utc_value(None) is None
