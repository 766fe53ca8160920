"""A read as Arrow columns (`store.columnar`, linking's read of every sighting) gives exactly the rows a read as
tuples gives, on both databases: NULL apart from an empty string, text with commas, quotes, newlines and any
script, booleans, and times with and without microseconds, in UTC whatever the session's zone. On PostgreSQL both
ways of reading are held to it: a second connection (ADBC) in the caller's snapshot, and, in a transaction that has
written (whose own rows only its connection sees), psycopg's COPY."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import adbc_driver_manager
import adbc_driver_manager.dbapi as adbc_dbapi
import numpy as np
import psycopg
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Boolean, Column, Engine, Integer, MetaData, String, Table, func, insert, select

from tipfusion.errors import TipfusionError
from tipfusion.store import columnar
from tipfusion.store.bulk import rows_of
from tipfusion.store.columnar import UTC_TIME, batches_of
from tipfusion.store.db import make_engine, snapshot
from tipfusion.store.types import UTCDateTime

metadata = MetaData()
samples = Table(
    "columnar_samples",
    metadata,
    Column("n", Integer, primary_key=True),
    Column("text", String),
    Column("flag", Boolean),
    Column("number", Integer),
    Column("at", UTCDateTime),
)
SCHEMA = pa.schema(
    [("n", pa.int64()), ("text", pa.string()), ("flag", pa.bool_()), ("number", pa.int64()), ("at", UTC_TIME)]
)
SQL = "SELECT n, text, flag, number, at FROM columnar_samples ORDER BY n"
TRICKY = ["", "null", "NULL", "N/A", "NaN", "t", 'a "quoted", value', "two\nlines", "\r\n", "\\N", "दिल्ली", " "]


@pytest.fixture
def store(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


MINE = {"n": 1_000_000, "text": "written in the reading transaction", "flag": None, "number": None, "at": None}


STAMP = "SELECT COUNT(*) FROM columnar_samples"  # changes with each commit the tests make


def _read(
    engine: Engine, batch: int = 3, written: bool = False, stamp: str | None = None
) -> tuple[list[dict[str, object]], int]:
    """The rows as `batches_of` reads them, and in how many batches. `written`: read in a transaction that has
    written a row first (`MINE`, the last by `n`, taken off again), which must see it. `stamp`: SQLite's rows read
    in a child process where the stamps agree."""
    with engine.connect() as conn:  # rolled back as it closes
        if written:
            conn.execute(insert(samples), [MINE])
        batches = list(batches_of(conn, SQL, SCHEMA, batch=batch, stamp=stamp))
    read = pa.Table.from_batches(batches, schema=SCHEMA).to_pylist()
    if written:
        assert read[-1:] == [MINE], "the transaction's own row"
        read = read[:-1]
    return read, len(batches)


@pytest.mark.parametrize("stamp", [None, STAMP], ids=["here", "stamped"])
@pytest.mark.parametrize("written", [False, True], ids=["in-a-snapshot", "after-writing"])
def test_tricky_values_come_back_as_written(
    store: Engine, written: bool, stamp: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Also read by SQLite's child process (`stamp`), where the caller's transaction has not written."""
    when = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    rows = [
        {"n": n, "text": text, "flag": n % 3 == 0 if n % 4 else None, "number": n if n % 5 else None, "at": at}
        for n, (text, at) in enumerate(
            zip(
                [*TRICKY, None],
                [when, when.replace(microsecond=250), None, when.astimezone(timezone(timedelta(hours=5, minutes=30)))]
                * 4,
                strict=False,
            )
        )
    ]
    with store.begin() as conn:
        conn.execute(insert(samples), rows)
    ways, _ = watched(monkeypatch)
    read, batches = _read(store, written=written, stamp=stamp)
    assert read == [{**row, "at": row["at"] and row["at"].astimezone(UTC)} for row in rows]
    if stamp and store.dialect.name == "sqlite":  # a transaction that wrote sees a stamp the child does not
        assert ways == (["child", "own"] if written else ["child"])
    assert batches > 1 or store.dialect.name == "postgresql"  # SQLite: a batch per fetch
    with store.connect() as conn:  # the tuples' read, as linking read them before
        assert [row[1] for row in rows_of(conn, SQL)] == [row["text"] for row in read]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00")), max_size=20), st.booleans()
)
def test_any_text_comes_back_as_written(store: Engine, texts: list[str], written: bool) -> None:
    with store.begin() as conn:
        conn.execute(samples.delete())
        if texts:
            conn.execute(insert(samples), [{"n": n, "text": text} for n, text in enumerate(texts)])
    assert [row["text"] for row in _read(store, written=written)[0]] == texts
    assert [row["text"] for row in _read(store, stamp=STAMP)[0]] == texts


def test_an_empty_result_is_an_empty_table(store: Engine) -> None:
    read, _ = _read(store)
    assert read == []
    assert _read(store, written=True) == ([], 1)  # its own row alone


def _many(engine: Engine, rows: int = 400) -> None:
    with engine.begin() as conn:
        conn.execute(insert(samples), [{"n": n, "text": f"row {n} " * 3, "flag": n % 2 == 0} for n in range(rows)])


def _nobody_left_reading() -> bool:
    """No thread waits for a COPY's text any more: neither ours nor Arrow's CSV reader, which reads ahead on a thread
    of its own and, left waiting, held the process from exiting (Arrow waits for its threads as it shuts down)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        waiting = [
            frame
            for frame in sys._current_frames().values()
            if any(f.f_code.co_name in {"_taken", "readinto"} for f, _ in traceback.walk_stack(frame))
        ]
        if not waiting and not [t for t in threading.enumerate() if t.name in {"copy-ahead", "read-ahead"}]:
            return True
        time.sleep(0.05)
    return False


def test_a_read_in_many_chunks_comes_back_whole(store: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL's rows are read ahead by a thread, a chunk of text at a time: chunks far smaller than a batch, cut
    anywhere in a row, still give every row once, in order."""
    monkeypatch.setattr(columnar, "COPY_CHUNK_BYTES", 7)
    _many(store)
    read, batches = _read(store, batch=50, written=True)
    assert [row["n"] for row in read] == list(range(400)) and batches >= 1
    assert {row["text"] for row in read} == {f"row {n} " * 3 for n in range(400)}


def test_a_read_left_early_leaves_the_connection_usable(store: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A caller that stops after the first batch gets its transaction back: the reading thread has ended (it read to
    the end of the COPY) and the next statement runs."""
    monkeypatch.setattr(columnar, "COPY_CHUNK_BYTES", 7)
    _many(store)
    with store.connect() as conn:
        conn.execute(insert(samples), [MINE])  # a transaction that has written reads by COPY (see above)
        read = batches_of(conn, SQL, SCHEMA, batch=10)
        first = next(read)
        read.close()
        assert first.num_rows >= 1
        assert _nobody_left_reading()
        assert conn.execute(select(func.count()).select_from(samples)).scalar_one() == 401


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("written", [False, True], ids=["in-a-snapshot", "after-writing"])
def test_an_error_in_the_servers_rows_reaches_the_reader(
    store: Engine, monkeypatch: pytest.MonkeyPatch, written: bool
) -> None:
    """An error the server meets half-way through the rows (here a division by zero at row 300) is raised where the
    caller reads, and no reading thread is left behind."""
    monkeypatch.setattr(columnar, "COPY_CHUNK_BYTES", 7)
    _many(store)
    failing = SQL.replace("FROM columnar_samples", "FROM columnar_samples WHERE 1 / (n - 300) IS NOT NULL OR n < 300")
    # ADBC raises the server's error as the query starts, or as Arrow's I/O error from the rows' stream
    raised = psycopg.errors.DivisionByZero if written else (adbc_driver_manager.Error, OSError)
    with store.connect() as conn, pytest.raises(raised, match="division by zero"):
        if written:
            conn.execute(insert(samples), [MINE])
        for _ in batches_of(conn, failing, SCHEMA, batch=10):
            pass
    assert _nobody_left_reading()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_snapshot_read_sees_the_callers_moment_not_a_later_commit(store: Engine) -> None:
    """The second connection reads as of the caller's snapshot: a row another connection commits after the caller's
    first read is not in it, as it is not in the caller's own reads."""
    _many(store, rows=5)
    with store.connect() as conn:
        conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with conn.begin():
            seen = conn.execute(select(func.count()).select_from(samples)).scalar_one()
            with store.begin() as other:
                other.execute(insert(samples), [{"n": 99, "text": "committed later"}])
            read = pa.Table.from_batches(list(batches_of(conn, SQL, SCHEMA)), schema=SCHEMA)
    assert seen == read.num_rows == 5
    assert _read(store)[0][-1]["n"] == 99


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_read_that_fails_cancels_the_copy(store: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A caller that fails half-way (an error, Ctrl-C) does not wait for the server's remaining rows: the COPY is
    cancelled and the reading thread ends. (A caller that merely stops reads to the end: see above.)"""
    cancelled: list[object] = []
    cancel = psycopg.Connection.cancel_safe

    def counted(self: psycopg.Connection[Any], *args: Any, **kwargs: Any) -> None:
        cancelled.append(self)
        cancel(self, *args, **kwargs)

    monkeypatch.setattr(psycopg.Connection, "cancel_safe", counted)
    many = "SELECT n, 'x', true, n, NULL::timestamptz FROM generate_series(1, 5000000) AS n"
    with store.connect() as conn:
        conn.execute(insert(samples), [MINE])  # a transaction that has written reads by COPY
        read = batches_of(conn, many, SCHEMA, batch=10)
        next(read)
        with pytest.raises(RuntimeError, match="stopped"):
            read.throw(RuntimeError("stopped"))
        assert len(cancelled) == 1
        assert _nobody_left_reading()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_snapshot_read_left_early_ends_the_query(store: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A read in the caller's snapshot is taken ahead by a thread (the server scans while the caller works): a caller
    that stops after the first batch cancels the query on the server rather than wait for millions of rows, the
    thread ends, and the caller's transaction goes on."""
    cancelled: list[object] = []
    cancel = adbc_dbapi.Cursor.adbc_cancel

    def counted(self: adbc_dbapi.Cursor) -> None:
        cancelled.append(self)
        cancel(self)

    monkeypatch.setattr(adbc_dbapi.Cursor, "adbc_cancel", counted)
    many = "SELECT n, 'x', true, n, NULL::timestamptz FROM generate_series(1, 5000000) AS n"
    _many(store, rows=5)
    with store.connect() as conn:
        conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with conn.begin():
            read = batches_of(conn, many, SCHEMA)
            first = next(read)
            read.close()
            assert first.num_rows >= 1 and first.column("n")[0].as_py() == 1
            assert len(cancelled) == 1
            assert _nobody_left_reading()
            assert conn.execute(select(func.count()).select_from(samples)).scalar_one() == 5


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_snapshot_read_ahead_gives_every_batch_in_order(store: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """However few batches the thread may take ahead, the caller gets them all, in the server's order."""
    monkeypatch.setattr(columnar, "READ_AHEAD_BATCHES", 1)
    many = "SELECT n, 'x', true, n, NULL::timestamptz FROM generate_series(1, 2000000) AS n ORDER BY n"
    with store.connect() as conn:
        batches = list(batches_of(conn, many, SCHEMA))
    assert len(batches) > 1
    numbers = pa.Table.from_batches(batches, schema=SCHEMA).column("n").to_numpy()
    assert len(numbers) == 2_000_000 and (numbers == np.arange(1, 2_000_001)).all()
    assert _nobody_left_reading()


# -- SQLite: the rows read in a child process (`store.sqlite_arrow`) -----------------------------------------------
def watched(monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], list[subprocess.Popen[bytes]]]:
    """The ways the reads went from here on, in order ("child": a child started; "own": rows fetched on the caller's
    connection), and the children started."""
    ways: list[str] = []
    started: list[subprocess.Popen[bytes]] = []
    popen, fetched = subprocess.Popen, columnar._fetched

    def child(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        ways.append("child")
        started.append(popen(*args, **kwargs))
        return started[-1]

    def own(*args: Any, **kwargs: Any) -> Any:
        ways.append("own")
        return fetched(*args, **kwargs)

    monkeypatch.setattr(columnar.subprocess, "Popen", child)
    monkeypatch.setattr(columnar, "_fetched", own)
    return ways, started


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_column_with_nothing_but_nulls_in_the_first_batch_keeps_its_type(
    store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The driver types a column by its first batch: a text or time that first comes after a batch of NULLs is read
    as what it is (the typed first row), not refused as not an integer."""
    when = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    rows = [{"n": n, "text": None, "flag": None, "number": None, "at": None} for n in range(7)]
    rows += [{"n": 7, "text": "late", "flag": True, "number": 3, "at": when}]
    with store.begin() as conn:
        conn.execute(insert(samples), rows)
    ways, _ = watched(monkeypatch)
    read, batches = _read(store, batch=3, stamp=STAMP)
    assert read == rows and batches >= 3 and ways == ["child"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_sqlite_read_sees_the_callers_moment_not_a_later_commit(
    store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A commit between the caller's first read and the child's makes the stamps differ: the rows are then the
    caller's own read, as of its moment, and the child is stopped."""
    _many(store, rows=5)
    ways, children = watched(monkeypatch)
    with snapshot(store) as conn:
        seen = conn.execute(select(func.count()).select_from(samples)).scalar_one()
        with store.begin() as other:
            other.execute(insert(samples), [{"n": 99, "text": "committed later"}])
        read = pa.Table.from_batches(list(batches_of(conn, SQL, SCHEMA, stamp=STAMP)), schema=SCHEMA)
    assert seen == read.num_rows == 5
    assert ways == ["child", "own"] and [child.returncode is not None for child in children] == [True]
    assert _read(store, stamp=STAMP)[0][-1]["n"] == 99 and ways[2:] == ["child"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_sqlite_read_left_early_stops_its_child(store: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    _many(store)
    _, children = watched(monkeypatch)
    with snapshot(store) as conn:
        read = batches_of(conn, SQL, SCHEMA, batch=10, stamp=STAMP)
        first = next(read)
        read.close()
        assert first.num_rows >= 1 and conn.execute(select(func.count()).select_from(samples)).scalar_one() == 400
    assert len(children) == 1 and children[0].returncode is not None


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_failed_sqlite_read_names_the_store_and_the_reason(store: Engine) -> None:
    wrong = pa.schema([("missing", pa.string())])
    with snapshot(store) as conn, pytest.raises(TipfusionError, match=r"reading .*store\.db into Arrow failed: .*"):
        list(batches_of(conn, "SELECT missing FROM columnar_samples", wrong, stamp=STAMP))


HALF_A_STREAM = (
    "import io, json, sys\n"
    "from tipfusion.store import sqlite_arrow\n"
    "out = io.BytesIO()\n"
    "sqlite_arrow.serve(json.loads(sys.stdin.read()), out)\n"
    "sys.stdout.buffer.write(out.getvalue()[: len(out.getvalue()) // 2])\n"
    "sys.exit('the reader was stopped half-way')\n"
)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_child_that_stops_half_way_is_an_error_not_fewer_rows(store: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    _many(store)
    real = subprocess.Popen
    monkeypatch.setattr(
        columnar.subprocess, "Popen", lambda _args, **kwargs: real([sys.executable, "-c", HALF_A_STREAM], **kwargs)
    )
    with snapshot(store) as conn, pytest.raises(TipfusionError, match="stopped half-way"):
        list(batches_of(conn, SQL, SCHEMA, batch=10, stamp=STAMP))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_read_ahead_lets_the_caller_read_on_its_connection_before_it_takes_the_rows(
    store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ahead`: the child starts at once and its batches are taken as they come, however long the caller reads
    other things on its own connection; the rows are the same, and the child has read all of them (ended) before
    the caller takes the first (far more than a pipe holds: without `ahead` it would wait for the caller)."""
    _many(store, rows=20_000)
    ways, children = watched(monkeypatch)
    with snapshot(store) as conn:
        read = batches_of(conn, SQL, SCHEMA, batch=1_000, stamp=STAMP, ahead=True)
        assert children and children[0].wait(timeout=60) == 0  # it read every row, though none was taken yet
        assert conn.execute(select(func.count()).select_from(samples)).scalar_one() == 20_000
        ahead = pa.Table.from_batches(list(read), schema=SCHEMA)
    assert ways == ["child"] and ahead.equals(pa.Table.from_batches(list(_tuples(store)), schema=SCHEMA))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_read_ahead_holds_so_many_batches_and_no_more(store: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past `AHEAD_AT_MOST` batches not taken, the child waits for the caller: a large store's read is never held
    whole. The rows are all there once taken."""
    _many(store, rows=20_000)
    _, children = watched(monkeypatch)
    monkeypatch.setattr(columnar, "AHEAD_AT_MOST", 2)
    with snapshot(store) as conn:
        read = batches_of(conn, SQL, SCHEMA, batch=1_000, stamp=STAMP, ahead=True)
        with pytest.raises(subprocess.TimeoutExpired):
            children[0].wait(timeout=2)
        assert sum(batch.num_rows for batch in read) == 20_000
    assert children[0].returncode == 0


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_read_ahead_never_taken_stops_its_child_when_closed(store: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    _many(store, rows=5_000)
    _, children = watched(monkeypatch)
    with snapshot(store) as conn:
        read = batches_of(conn, SQL, SCHEMA, batch=10, stamp=STAMP, ahead=True)
        read.close()  # type: ignore[attr-defined]
    assert len(children) == 1 and children[0].returncode is not None
    assert not [t for t in threading.enumerate() if t.name == "child-read"]


def _tuples(engine: Engine) -> Iterator[pa.RecordBatch]:
    """The rows as the caller's own read gives them."""
    with snapshot(engine) as conn:
        yield from columnar._fetched(conn, SQL, SCHEMA, 10)
