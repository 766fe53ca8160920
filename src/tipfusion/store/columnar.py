"""A query's result as Arrow columns, for the reads that take every row of a large table (linking's sightings).

Read as Python tuples, each of ~11 M sightings (a 1 M-report store) cost a tuple and its objects before any work
was done on it, and the work was then a Python step per row. As columns, the rows are never Python objects: the
rules that sort them run as Arrow and NumPy operations over whole columns (`link.columnar`).

On PostgreSQL the ADBC driver reads the rows on a second connection that imports the caller's snapshot, in
libpq's binary COPY format straight into Arrow (`_adbc_read`). A transaction that has written reads by psycopg's
`COPY … TO STDOUT (FORMAT csv)` on its own connection instead (a second connection would not see its changes),
parsed by Arrow's CSV reader as the text arrives, so the text is never held whole.

SQLite has no COPY and no snapshot another connection can import. Where the caller names a *stamp* (a query whose
value every commit that changes the rows read also changes: ingest's `sightings_generation`), the ADBC driver for
SQLite reads the rows into Arrow in C, in a child process, in a transaction that reads the stamp first: if it
differs from the stamp the caller's transaction sees, the read is the caller's own instead (`_sqlite_read`).
Without a stamp, the rows are fetched in batches on the caller's connection and each batch turned into columns.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol

import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg import pq
from psycopg.conninfo import make_conninfo
from sqlalchemy import Connection

from tipfusion.errors import TipfusionError
from tipfusion.store.sqlite_arrow import STAMP_KEY

UTC_TIME = pa.timestamp("us", tz="UTC")
# the column types the store's reads are described in (`store.link_inputs.Input.columns`) → Arrow's
ARROW_TYPES = {
    "int64": pa.int64(),
    "int32": pa.int32(),
    "int8": pa.int8(),
    "string": pa.string(),
    "bool": pa.bool_(),
    "timestamp": UTC_TIME,
    "json": pa.string(),  # as text
}


def arrow_schema(columns: Iterable[tuple[str, str]]) -> pa.Schema:
    """(name, type name) columns as an Arrow schema."""
    return pa.schema([(name, ARROW_TYPES[kind]) for name, kind in columns])


# CSV as PostgreSQL writes it: NULL is an empty field, an empty string is `""`, booleans are t/f. Only the empty
# field is NULL: Arrow's default list ("NULL", "NaN", "N/A", …) would take a screen name "null" for a missing value
_NULLS = {"null_values": [""], "strings_can_be_null": True, "quoted_strings_can_be_null": False}
_BOOLS = {"true_values": ["t", "true", "1"], "false_values": ["f", "false", "0"]}


class _Blocks(io.RawIOBase):
    """The blocks of a COPY read as a file, for Arrow's streaming CSV reader."""

    def __init__(self, blocks: Iterator[Any]) -> None:
        super().__init__()
        self._blocks = blocks
        self._left = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        """Fill `buffer` from as many blocks as it takes (PostgreSQL sends each row as a block of its own)."""
        view = memoryview(buffer).cast("B")
        filled = 0
        while filled < len(view):
            if not self._left:
                block = next(self._blocks, None)
                if block is None:
                    break
                self._left = memoryview(block)
            size = min(len(view) - filled, len(self._left))
            view[filled : filled + size] = self._left[:size]
            self._left = self._left[size:]
            filled += size
        return filled


class Batches(Protocol):
    """A read of record batches, taken a batch at a time; `close()` stops one left before its end (its thread, its
    child process, its query on the server)."""

    def __iter__(self) -> Iterator[pa.RecordBatch]: ...

    def __next__(self) -> pa.RecordBatch: ...

    def close(self) -> None: ...


def batches_of(
    conn: Connection, sql: str, schema: pa.Schema, batch: int = 50_000, stamp: str | None = None, ahead: bool = False
) -> Batches:
    """`sql`'s rows as Arrow record batches of `schema` (its columns in the query's order, named as `schema` names
    them), as the caller's transaction sees them, so that a read of millions of rows is worked on a batch at a time
    and never held whole. Timestamps come back in UTC whatever the session's zone. On PostgreSQL, take the batches
    while the transaction is open (a second connection reads in its snapshot); where the transaction has written,
    the read is a COPY on its own connection, which is busy until the last batch has been taken: run no other
    statement on it in between. `stamp`: SQL of one value that changes with every commit changing what `sql` reads,
    which lets SQLite's rows be read on a connection of their own (`_sqlite_read`); `ahead`: there, the child starts
    at once and every batch is taken as it comes, so that the caller may read something else on its connection
    before it takes the first (close what this returns if it is never read to the end)."""
    if conn.dialect.name == "postgresql":
        exported = conn.exec_driver_sql(_EXPORT_SNAPSHOT).scalar()
        return _copied(conn, sql, schema) if exported is None else _adbc_read(conn, exported, sql, schema)
    database = conn.engine.url.database
    if stamp is not None and database and Path(database).is_file():
        return _sqlite_read(conn, database, sql, schema, batch, stamp, ahead)
    return _fetched(conn, sql, schema, batch)


# the caller's snapshot, for a second connection to read in, where the caller's transaction has written nothing: its
# own changes would be invisible there (a transaction that has written holds a transaction id)
_EXPORT_SNAPSHOT = "SELECT CASE WHEN txid_current_if_assigned() IS NULL THEN pg_export_snapshot() END"


def _adbc_read(conn: Connection, exported: str, sql: str, schema: pa.Schema) -> Generator[pa.RecordBatch, None, None]:
    """`sql`'s rows read by the ADBC driver for PostgreSQL on a connection of its own, as of the caller's snapshot.

    The driver reads the rows in libpq's binary COPY format into Arrow columns in C++: no Python step per row and
    no CSV text. Read by psycopg's COPY, each of a 1 M-report store's 11.4 M sightings was a Python step in the
    reading thread (~0.7 µs, holding the interpreter's lock against the linking beside it) and then CSV to parse:
    16.7 s and 18.5 s of CPU for the read alone, against 8.9 s and 5.5 s of CPU here (`benchmarks/RESULTS-1M.md`).
    The second connection imports the caller's snapshot (`SET TRANSACTION SNAPSHOT`), so it sees exactly what the
    caller's transaction sees; it ends when the read does, however it ends."""
    import adbc_driver_postgresql.dbapi as adbc

    _, params = conn.dialect.create_connect_args(conn.engine.url)  # what psycopg connected with: libpq's keywords
    libpq = {option.keyword.decode() for option in pq.Conninfo.get_defaults()}
    conninfo = make_conninfo("", **{key: value for key, value in params.items() if key in libpq})
    with adbc.connect(conninfo, autocommit=True) as second, second.cursor() as cursor:
        cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        cursor.execute(f"SET TRANSACTION SNAPSHOT '{exported}'")
        cursor.execute(sql)
        found = (  # by place, as COPY's
            pa.RecordBatch.from_arrays(batch.columns, names=schema.names).cast(schema)
            for batch in cursor.fetch_record_batch()
        )
        yield from read_ahead(found, cursor.adbc_cancel)


READ_AHEAD_BATCHES = 4
"""How many batches `read_ahead` takes before the caller asks for them."""


def read_ahead(batches: Iterator[Any], cancel: Callable[[], object], ahead: int | None = None) -> Iterator[Any]:
    """`batches`, taken by a thread of its own up to `ahead` before the caller: the server scans and the driver
    decodes (in C++, without the interpreter's lock) while the caller works on the last batch. Read in the caller's
    thread, each waited for the other: the server stops writing when the socket's buffer is full.

    A caller that stops early or fails stops the read: `cancel()` (the driver's) ends the query on the server, and
    the thread is waited for, so the connection is idle again when this returns."""
    taken: queue.Queue[Any] = queue.Queue(maxsize=ahead or READ_AHEAD_BATCHES)
    stopped = threading.Event()
    end = object()

    def read() -> None:
        try:
            for batch in batches:
                if stopped.is_set():
                    return
                taken.put(batch)
            taken.put(end)
        except BaseException as exc:  # raised in the caller's thread, where it reads
            taken.put(exc)

    thread = threading.Thread(target=read, name="read-ahead", daemon=True)
    thread.start()
    try:
        while (item := taken.get()) is not end:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        if thread.is_alive():
            stopped.set()
            with contextlib.suppress(Exception):  # a read that ended meanwhile has nothing to cancel
                cancel()
            while thread.is_alive():  # a reader blocked on a full queue goes on, sees the stop, and ends
                with contextlib.suppress(queue.Empty):
                    taken.get(timeout=0.05)
        thread.join()


def _copied(conn: Connection, sql: str, schema: pa.Schema) -> Generator[pa.RecordBatch, None, None]:
    driver = conn.connection.driver_connection
    assert driver is not None
    convert = pacsv.ConvertOptions(column_types=schema, **_NULLS, **_BOOLS)
    read = pacsv.ReadOptions(column_names=schema.names, block_size=8 << 20, use_threads=False)
    # a value may hold a newline (a display name): quoted, and read as one value
    parse = pacsv.ParseOptions(newlines_in_values=True)
    with _CopyAhead(driver, f"COPY ({sql}) TO STDOUT (FORMAT csv)") as chunks:
        first = next(chunks, None)
        if first is None:  # no rows: Arrow's reader takes no text for an error
            return
        source = io.BufferedReader(_Blocks(itertools.chain([first], chunks)), buffer_size=1 << 20)
        for found in pacsv.open_csv(source, read_options=read, parse_options=parse, convert_options=convert):
            yield found.cast(schema)


COPY_CHUNK_BYTES = 1 << 20
"""How much of a COPY's text `_CopyAhead` hands over at a time."""


class _CopyAhead:
    """A COPY's text read by a thread of its own, in chunks of about `chunk` bytes, up to `ahead` chunks before the
    reader: the server writes the next rows while the caller works on the last ones.

    Read in the caller's thread, the server waited while the caller worked (it stops when the socket's buffer is
    full) and the caller waited while the server wrote: linking's read of a 1 M-report store's sightings waited
    ~17 s on the server beside ~24 s of its own work. The thread waits on the socket without the interpreter's lock
    (psycopg), and it joins the one-row blocks PostgreSQL sends into chunks, so the caller takes a chunk at a time.
    The connection is the thread's until the COPY ends. A caller that stops early (closes the read) lets it read to
    the end, so that the transaction stays usable, and waits for it; one that fails (an error, Ctrl-C) cancels the
    COPY on the server first, rather than wait for the rest of millions of rows: its transaction is lost anyway."""

    _END = object()

    def __init__(self, driver: Any, statement: str, chunk: int | None = None, ahead: int = 8) -> None:
        self._chunks: queue.Queue[Any] = queue.Queue(maxsize=ahead)
        self._stopped = threading.Event()
        self._failed: BaseException | None = None
        self._driver = driver
        args = (driver, statement, chunk or COPY_CHUNK_BYTES)
        self._thread = threading.Thread(target=self._read, args=args, name="copy-ahead")

    def __enter__(self) -> Iterator[bytes]:
        self._thread.start()
        return self._taken()

    def __exit__(self, kind: type[BaseException] | None, *_exc: object) -> None:
        self._stopped.set()
        if kind is not None and not issubclass(kind, GeneratorExit) and self._thread.is_alive():
            with contextlib.suppress(Exception):  # a cancel that cannot be sent leaves the thread to read to the end
                self._driver.cancel_safe()
        while self._thread.is_alive():  # let a reader blocked on a full queue go on to the end
            with contextlib.suppress(queue.Empty):
                self._chunks.get(timeout=0.05)
        self._thread.join()
        # whoever still reads ends there: Arrow's CSV reader reads ahead on a thread of its own, which would otherwise
        # wait on the empty queue for ever (and Arrow's thread pool for it, as the process exits)
        with contextlib.suppress(queue.Empty):
            while True:
                self._chunks.get_nowait()
        self._chunks.put_nowait(self._END)
        if kind is None and self._failed is not None:  # the rest of a read the caller left early failed
            raise self._failed

    def _taken(self) -> Iterator[bytes]:
        while (item := self._chunks.get()) is not self._END:
            if isinstance(item, BaseException):
                raise item
            yield item

    def _put(self, item: Any) -> None:
        if not self._stopped.is_set():
            self._chunks.put(item)

    def _read(self, driver: Any, statement: str, chunk: int) -> None:
        try:
            with driver.cursor() as cursor, cursor.copy(statement) as copy:
                parts: list[Any] = []
                size = 0
                for block in copy:
                    parts.append(block)
                    size += len(block)
                    if size >= chunk:
                        self._put(b"".join(parts))
                        parts, size = [], 0
                if parts:
                    self._put(b"".join(parts))
            self._put(self._END)
        except BaseException as exc:  # the caller raises it where it reads (or as it leaves)
            self._failed = exc
            self._put(exc)


def _sqlite_read(
    conn: Connection, database: str, sql: str, schema: pa.Schema, batch: int, stamp: str, ahead: bool
) -> Batches:
    """`sql`'s rows read by the ADBC driver for SQLite in a child process (`store.sqlite_arrow`: why a child), in
    C straight into Arrow, and streamed back while the caller works on the last batch. The child's transaction sees
    the store as of its first read, which may be later than the caller's: it reads `stamp` first, and where the value
    differs from the one the caller's transaction sees (an ingest committed in between), the rows are the caller's
    own read instead.

    The driver types each column by the values of its first batch (a column with nothing but NULLs there is taken
    for integers, and a later text fails the read): each value is cast to its column's storage class, and a first
    row of the right classes, dropped here, leads the rows."""
    return _ChildRead(conn, database, sql, schema, batch, stamp, ahead)


AHEAD_AT_MOST = 64
"""How many batches a child's read taken `ahead` holds before the caller takes them (64 of 50,000 sightings, ~220 MB
as Arrow): the child then waits for the caller, and a large store's read never lies whole in memory."""


class _ChildRead:
    """A child's read, started at once and taken by a thread of this process as it comes: up to a few batches
    before the caller asks for them, or (`ahead`) up to `AHEAD_AT_MOST`, so that the child reads while the caller's
    connection reads something else (linking reads names and files while the children read the sightings). The
    caller's own read, where the stamps differ, runs where the caller takes the first batch, on its connection, after
    whatever it read there meanwhile. `close()` stops the child (a read left early, or never begun)."""

    _END = object()

    def __init__(
        self, conn: Connection, database: str, sql: str, schema: pa.Schema, batch: int, stamp: str, ahead: bool
    ) -> None:
        self._args = (conn, sql, schema, batch)
        self._database = database
        self._thread: threading.Thread | None = None  # started once the child has its request
        self._mine = json.dumps(conn.exec_driver_sql(stamp).scalar())
        request = {"database": database, "sql": _typed(sql, schema), "stamp": stamp, "batch": batch}
        self._child = subprocess.Popen(
            [sys.executable, "-P", "-m", "tipfusion.store.sqlite_arrow"],  # -P: not from a tipfusion/ where it runs
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert self._child.stdin is not None and self._child.stdout is not None and self._child.stderr is not None
        self._errors = _drained(self._child.stderr)
        self._taken: queue.Queue[Any] = queue.Queue(maxsize=AHEAD_AT_MOST if ahead else READ_AHEAD_BATCHES)
        self._stopped = threading.Event()
        try:
            self._child.stdin.write(json.dumps(request).encode())
            self._child.stdin.close()
        except BaseException:
            self._stop()
            raise
        self._thread = threading.Thread(target=self._take, args=(self._child.stdout,), name="child-read", daemon=True)
        self._thread.start()
        self._batches: Generator[pa.RecordBatch, None, None] = self._read()

    def __iter__(self) -> _ChildRead:
        return self

    def __next__(self) -> pa.RecordBatch:
        return next(self._batches)

    def close(self) -> None:
        self._batches.close()
        self._stop()

    def _take(self, out: IO[bytes]) -> None:
        """The thread's work: the stream's stamp, then its batches, then the end (or what went wrong), in order."""
        try:
            stream = pa.ipc.open_stream(out)
            self._put((stream.schema.metadata or {}).get(STAMP_KEY, b"").decode())
            while not self._stopped.is_set():
                try:
                    self._put(stream.read_next_batch())
                except StopIteration:
                    self._put(self._END)
                    return
        except BaseException as exc:  # the child failed, or was stopped: the caller is told where it waits
            self._put(exc)

    def _put(self, item: Any) -> None:
        while not self._stopped.is_set():
            with contextlib.suppress(queue.Full):
                self._taken.put(item, timeout=0.05)
                return

    def _next(self) -> Any:
        item = self._taken.get()
        if isinstance(item, BaseException):
            raise _failed(self._database, self._child, self._errors) from item
        return item

    def _read(self) -> Generator[pa.RecordBatch, None, None]:
        try:
            theirs = self._next()
            if theirs == self._mine:
                leading = True
                while (got := self._next()) is not self._END:
                    if leading:  # the row of the right classes
                        if got.num_rows == 0 or got.column(0)[0].as_py() != 1:
                            raise RuntimeError("the typed first row did not come first")
                        got, leading = got.slice(1), False
                    yield _conformed(got, self._args[2])
                if self._child.wait() != 0:
                    raise _failed(self._database, self._child, self._errors)
                return
        finally:
            self._stop()
        yield from _fetched(*self._args)

    def _stop(self) -> None:
        """The child stopped (if it still runs: left early, or the stamps differed) and the thread ended."""
        self._stopped.set()
        if self._child.poll() is None:
            self._child.kill()
        self._child.wait()
        if self._thread is not None:
            self._thread.join()
        assert self._child.stdout is not None
        self._child.stdout.close()


def _drained(pipe: IO[bytes]) -> tuple[threading.Thread, list[bytes]]:
    """What the child writes on standard error, read by a thread as it comes (a full pipe would stop the child)."""
    said: list[bytes] = []
    reader = threading.Thread(target=lambda: said.append(pipe.read()), daemon=True)
    reader.start()
    return reader, said


def _failed(
    database: str, child: subprocess.Popen[bytes], errors: tuple[threading.Thread, list[bytes]]
) -> TipfusionError:
    """The error a failed child's read is, in its own last words (it is stopped first, if it still runs)."""
    if child.poll() is None:
        child.kill()
    child.wait()
    reader, said = errors
    reader.join(timeout=5)  # what it said, to the end
    lines = b"".join(said).decode(errors="replace").strip().splitlines()
    return TipfusionError(f"reading {database} into Arrow failed: {lines[-1] if lines else 'the reader stopped'}")


def _typed(sql: str, schema: pa.Schema) -> str:
    """`sql` with each column cast to its storage class (integer, or text), after a first row of those classes."""
    integer = [pa.types.is_integer(f.type) or pa.types.is_boolean(f.type) for f in schema]
    first = ", ".join(["1 AS tf_first", *(f"{0 if i else repr('')} AS c{n}" for n, i in enumerate(integer))])
    cast = ", ".join(
        ["0", *(f'CAST(q."{f.name}" AS {"INTEGER" if i else "TEXT"})' for f, i in zip(schema, integer, strict=True))]
    )
    return f"SELECT {first} UNION ALL SELECT {cast} FROM ({sql}) AS q"


def _conformed(got: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """A batch as the driver typed it (integers and text, after the leading flag) → `schema`'s columns."""
    columns = []
    for column, field in zip(got.columns[1:], schema, strict=True):
        if field.type == UTC_TIME:
            try:
                columns.append(column.cast(pa.timestamp("us")).cast(UTC_TIME))
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                columns.append(_utc(tuple(column.to_pylist())))
        else:
            columns.append(column.cast(field.type))
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def _fetched(conn: Connection, sql: str, schema: pa.Schema, batch: int) -> Generator[pa.RecordBatch, None, None]:
    driver = conn.connection.driver_connection
    assert driver is not None
    cursor = driver.cursor()
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(batch):
            columns = list(zip(*rows, strict=True))
            yield pa.record_batch([_column(c, f.type) for c, f in zip(columns, schema, strict=True)], schema=schema)
    finally:
        cursor.close()


def _column(values: tuple[Any, ...], kind: pa.DataType) -> pa.Array:
    if kind == UTC_TIME:
        return _utc(values)
    if pa.types.is_boolean(kind):  # SQLite hands booleans back as 0 and 1
        return pa.array(values, pa.int8()).cast(kind)
    return pa.array(values, kind)


def _utc(values: tuple[Any, ...]) -> pa.Array:
    """SQLite keeps a time as UTC text without an offset (`store.types.UTCDateTime`); text with one, or a datetime,
    is taken as it says."""
    try:
        return pa.array(values, pa.string()).cast(pa.timestamp("us")).cast(UTC_TIME)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else _aware(v) for v in values], UTC_TIME)


def _aware(value: Any) -> datetime:
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
