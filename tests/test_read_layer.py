"""The read layer's shared pieces: the one chunked `IN` helper and the store's typed sighting reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import Engine, insert, select

from tipfusion.store.bulk import rows_of
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


def test_rows_of_reads_in_batches_beside_other_statements_and_may_stop_early(engine: Engine) -> None:
    """Every row, a batch at a time (on PostgreSQL from a server cursor), while the same transaction runs other
    statements and opens a second read; a read left halfway leaves the transaction usable."""
    names = [f"probe{n:03d}" for n in range(25)]
    with engine.begin() as conn:
        conn.execute(insert(store_flags), [{"name": name, "value": "x"} for name in names])
        sql = "SELECT name FROM store_flags WHERE name LIKE 'probe%' ORDER BY name"
        seen = []
        for (name,) in rows_of(conn, sql, batch=4):
            seen.append(name)
            if name == "probe010":  # another statement and another read in the middle of this one
                conn.execute(insert(store_flags).values(name="later", value="y"))
                inner = rows_of(conn, sql, batch=3)
                assert [next(inner)[0], next(inner)[0]] == ["probe000", "probe001"]
                inner.close()  # stopped early
        assert seen == names
        assert conn.execute(select(store_flags.c.value).where(store_flags.c.name == "later")).scalar_one() == "y"
    if engine.dialect.name == "postgresql":  # the reads were the server's cursors, closed when done
        with engine.begin() as conn:
            reader = rows_of(conn, sql, batch=2)
            next(reader)
            assert conn.exec_driver_sql("SELECT count(*) FROM pg_cursors").scalar_one() == 1
            reader.close()
            assert conn.exec_driver_sql("SELECT count(*) FROM pg_cursors").scalar_one() == 0


def test_utc_value_applies_the_stored_timestamp_type_to_raw_driver_values() -> None:
    moment = datetime(2025, 3, 15, 2, 37, 31, tzinfo=UTC)
    ist = timezone(timedelta(hours=5, minutes=30))
    assert utc_value("2025-03-15 02:37:31.000000") == moment  # SQLite: UTC text without a zone
    assert utc_value(moment.astimezone(ist)) == moment
    assert utc_value(moment.astimezone(ist)).tzinfo is UTC  # type: ignore[union-attr]
    assert utc_value(None) is None
