"""`insert_rows` takes rows from a generator a slice at a time (triage's 1 M-report priorities, made whole with their
JSON text, held ~1 GB): any slice size stores the same rows, times and JSON included, on both databases."""

from __future__ import annotations

import json
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


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@pytest.mark.parametrize(
    "encoder",
    [
        json.JSONEncoder(ensure_ascii=False, separators=(",", ":")),
        json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True),
        json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")),
        json.JSONEncoder(),  # escapes to ASCII: its own encode, as it is
    ],
)
@given(value=json_values)
def test_an_encoder_made_once_writes_what_the_encoder_writes(encoder: json.JSONEncoder, value: object) -> None:
    """The text replace_rows compares a stored row's JSON with, and ingest writes, is the standard encoder's."""
    assert bulk.made_once(encoder)(value) == encoder.encode(value)
