"""`insert_rows` takes rows from a generator a slice at a time (triage's 1 M-report priorities, made whole with their
JSON text, held ~1 GB): any slice size stores the same rows, times and JSON included, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import JSON, Column, Engine, Integer, MetaData, String, Table, select

from tipfusion.store import bulk
from tipfusion.store.types import UTCDateTime

metadata = MetaData()
written = Table(
    "bulk_written",
    metadata,
    Column("n", Integer, primary_key=True),
    Column("label", String),
    Column("at", UTCDateTime),
    Column("facts", JSON),
)
START = datetime(2026, 12, 6, 10, 30, tzinfo=UTC)


def rows(count: int) -> Iterator[tuple[object, ...]]:
    """A generator, as triage passes: nothing to take len() of or to read twice."""
    for n in range(count):
        yield n, f"row {n}, «{n}»", START + timedelta(seconds=n, microseconds=n), [["factor", n * 0.5, "why"]]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(count=st.integers(0, 9), at_once=st.integers(1, 4))
def test_rows_from_a_generator_land_whole_whatever_the_slice(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, count: int, at_once: int
) -> None:
    metadata.create_all(engine)
    monkeypatch.setattr(bulk, "INSERT_ROWS_AT_ONCE", at_once)
    with engine.begin() as conn:
        conn.execute(written.delete())
        bulk.insert_rows(conn, written, ("n", "label", "at", "facts"), rows(count))
    with engine.connect() as conn:
        stored = [tuple(row) for row in conn.execute(select(written).order_by(written.c.n))]
    assert stored == list(rows(count))
