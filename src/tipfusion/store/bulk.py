"""Bulk inserts straight to the driver: the hot path of ingest.

SQLAlchemy's per-row parameter handling costs more than the database's own work when a batch holds
hundreds of thousands of rows. Here rows are plain tuples; each column's bind processor (the same one
SQLAlchemy would produce: UTC text, JSON text) is looked up once per table. SQLite gets one executemany;
PostgreSQL gets COPY (text values, parsed by the server per column type), its fastest way in. `convert` is
pure and yields plain values, so worker processes do it and send the rows back with marshal.
"""

from __future__ import annotations

import itertools
import json
import operator
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from functools import cache
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any

from sqlalchemy import JSON, Connection, Date, Table

from tipfusion.store.current import chunked
from tipfusion.store.types import UTCDateTime

Row = tuple[Any, ...]


def _sqlite_datetime(value: datetime) -> str:
    # the exact text SQLAlchemy's SQLite DATETIME stores and parses back, in UTC
    if value.tzinfo is not UTC:
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: tipfusion stores tz-aware UTC only")
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def _pg_datetime(value: datetime) -> str:
    # COPY text form of timestamptz, explicit UTC offset
    if value.tzinfo is not UTC:
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: tipfusion stores tz-aware UTC only")
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")


def _sqlite_date(value: date) -> str:
    return value.isoformat()


def made_once(encoder: json.JSONEncoder) -> Callable[[Any], str]:
    """`encoder.encode` with the C encoder behind it made once: `JSONEncoder.encode` builds a new one for every value,
    which cost more than the encoding of the small objects written here (a phone's attributes, a file's hashes, a
    link's evidence: ~600,000 of those at 1 M reports); the same text either way. (For encoders that do not escape
    to ASCII and do not indent, as the ones here.)"""
    if c_make_encoder is None or encoder.ensure_ascii or encoder.indent is not None:
        return encoder.encode
    made = c_make_encoder(
        None,
        encoder.default,
        encode_basestring,
        None,
        encoder.key_separator,
        encoder.item_separator,
        encoder.sort_keys,
        encoder.skipkeys,
        encoder.allow_nan,
    )

    def encode(value: Any) -> str:
        return encoder.encode(value) if isinstance(value, str) else "".join(made(value, 0))

    return encode


_json = made_once(json.JSONEncoder(ensure_ascii=False, separators=(",", ":")))


@cache
def _processors(dialect_name: str, table: Table, columns: tuple[str, ...]) -> tuple[tuple[int, Any], ...]:
    """Per-column converters: the same text SQLAlchemy would produce, without its per-row machinery."""
    if dialect_name not in {"sqlite", "postgresql"}:
        raise ValueError(f"no bulk path for database {dialect_name!r}")
    as_datetime = _sqlite_datetime if dialect_name == "sqlite" else _pg_datetime
    found: list[tuple[int, Callable[[Any], str]]] = []
    for index, name in enumerate(columns):
        column_type = table.c[name].type
        if isinstance(column_type, UTCDateTime):
            found.append((index, as_datetime))
        elif isinstance(column_type, JSON):
            found.append((index, _json))
        elif isinstance(column_type, Date):
            found.append((index, _sqlite_date))
    return tuple(found)


def convert(dialect_name: str, table: Table, columns: Sequence[str], rows: list[Row]) -> list[Row]:
    """Rows ready for the driver, of plain values only (text, numbers, bytes): cheap to send between processes."""
    processors = _processors(dialect_name, table, tuple(columns))
    if not processors:
        return rows
    out = []
    for row in rows:
        values = list(row)
        for index, processor in processors:
            value = values[index]
            if value is not None:
                values[index] = processor(value)
        out.append(tuple(values))
    return out


INSERT_ROWS_AT_ONCE = 50_000
"""Rows `insert_rows` converts and sends at a time: a whole table's rows and their converted copy (JSON text) made at
once held ~1 GB when triage wrote a 1 M-report store's priorities."""


def insert_rows(
    conn: Connection, table: Table, columns: Sequence[str], rows: Iterable[Row], converted: bool = False
) -> None:
    """Insert `rows` (tuples in `columns` order): executemany on SQLite, one COPY on PostgreSQL. The rows may come
    from a generator: they are taken, converted and sent `INSERT_ROWS_AT_ONCE` at a time, so neither they nor their
    converted copy need be held whole."""
    source = iter(rows)
    name = conn.dialect.name

    def take() -> list[Row]:
        part = list(itertools.islice(source, INSERT_ROWS_AT_ONCE))
        return part if converted or not part else convert(name, table, columns, part)

    part = take()
    if not part:
        return
    preparer = conn.dialect.identifier_preparer
    names = ", ".join(preparer.quote(c) for c in columns)
    target = preparer.format_table(table)
    if name == "postgresql":
        driver = conn.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor, cursor.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
            while part:
                for row in part:
                    copy.write_row(row)
                del part  # let go of a slice before the next is made
                part = take()
        return
    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {target} ({names}) VALUES ({', '.join([marker] * len(columns))})"
    while part:
        conn.exec_driver_sql(sql, part)
        del part
        part = take()


def rows_of(conn: Connection, sql: str, batch: int = 50_000) -> Iterator[tuple[Any, ...]]:
    """Plain tuples straight from the driver's cursor, in batches, inside the caller's transaction
    (row objects cost more than the work done on them: this reads every sighting in the store).

    On PostgreSQL the cursor is the server's (DECLARE … FETCH): a client cursor holds the whole result in libpq's
    memory before the first row comes back, beside the Python objects made of it (linking a 1 M-report store read
    12.6 M sightings that way). The caller may still run other statements while it reads, or stop early. (A server
    cursor lives in a transaction: a connection in autocommit reads through a client cursor.)"""
    driver = conn.connection.driver_connection
    assert driver is not None
    if conn.dialect.name == "postgresql" and not driver.autocommit:
        # the planner would otherwise favour plans that return the first tenth of a cursor's rows fast (nested
        # loops over indexes) over the hash joins that return all of them fastest: every row is read here
        conn.exec_driver_sql("SET LOCAL cursor_tuple_fraction = 1.0")
        cursor = driver.cursor(name=f"rows_of_{next(_cursor_numbers)}")
    else:
        cursor = driver.cursor()
    try:
        cursor.execute(sql)
        while True:
            rows = cursor.fetchmany(batch)
            if not rows:
                return
            yield from rows
    finally:
        cursor.close()


_cursor_numbers = itertools.count()


# JSON written as the text the store hands back for it, so that a stored value and a wanted one compare as text, with
# no parsing of what is read: SQLite keeps the text written (so keys are written sorted, compact); PostgreSQL's jsonb
# gives its own form (", " and ": ", an object's keys shorter first, then by their bytes). A value whose text still
# differs (a float jsonb writes in another notation) only compares unequal, and is written again: never wrongly kept.
_SQLITE_JSON = made_once(json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True))
_JSONB = made_once(json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")))


def _jsonb_ordered(value: Any) -> Any:
    if isinstance(value, dict):
        ordered = sorted(value, key=lambda k: (len(k.encode()), k.encode()))
        return {k: _jsonb_ordered(value[k]) for k in ordered}
    if isinstance(value, list | tuple):
        return [_jsonb_ordered(v) for v in value]
    return value


def _jsonb_text(value: Any) -> str:
    text = _JSONB(value)
    return _JSONB(_jsonb_ordered(value)) if "{" in text else text


def stored_json(dialect_name: str) -> Callable[[Any], str]:
    """JSON as `dialect_name`'s store hands it back as text (`CAST(… AS TEXT)` on PostgreSQL)."""
    return _jsonb_text if dialect_name == "postgresql" else _SQLITE_JSON


def replace_rows(
    conn: Connection,
    table: Table,
    key: str,
    columns: Sequence[str],
    rows: Iterable[Row],
    stamp: dict[str, Any] | None = None,
    stored: Iterable[Row] | None = None,
    where: str | None = None,
) -> tuple[int, int]:
    """Make `table` hold exactly `rows` (tuples in `columns` order), writing only the difference; (deleted, inserted).

    A stored row whose `columns` equal a wanted row's is kept as it is, `stamp` columns included: they say which run
    last changed the row (relinking a store where a batch touched a few suspects rewrites those, not a million rows).
    The other stored rows are deleted by `key` (the primary key; it need not be one of `columns`), and the wanted
    rows not stored are inserted with `stamp`'s values. Where most rows changed, the table is emptied and written
    whole, the kept rows with their stamps. JSON columns compare as text (`stored_json`).

    `stored`: the table's rows as read here (`columns`, then `key`, then the `stamp` columns), where the caller has
    read them already; by default they are read.

    `where` (SQL the caller made, of no one's text): only the stored rows it chooses are compared with `rows`, and
    the table's other rows are left as they are (an incremental link rewrites the suspects it linked again). With
    `stored`, it says which rows those are; the table is never written whole."""
    stamp = stamp or {}
    if any(isinstance(table.c[name].type, UTCDateTime | Date) for name in (*stamp, *columns)):
        raise ValueError(f"{table.name}: a time compares as the driver returns it; replace_rows takes none")
    if stamp and key not in columns:
        raise ValueError(f"{table.name}: a stamped row must hold its key ({key}), so that it is there once")
    json_at = [i for i, name in enumerate(columns) if isinstance(table.c[name].type, JSON)]
    as_text = stored_json(conn.dialect.name)

    def comparable(row: Sequence[Any]) -> Row:
        values = list(row)
        for index in json_at:
            if values[index] is not None:
                values[index] = as_text(values[index])
        return tuple(values)

    ordered = [comparable(row) for row in rows] if json_at else [tuple(row) for row in rows]
    width, stamps, fresh = len(columns), list(stamp), tuple(stamp.values())
    names = [*stamps, *columns]
    read = ", ".join([*(f"CAST({c} AS TEXT)" if i in json_at else c for i, c in enumerate(columns)), key, *stamps])
    chosen = f" WHERE {where}" if where else ""
    found = iter(rows_of(conn, f"SELECT {read} FROM {table.name}{chosen}") if stored is None else stored)
    first = next(found, None)
    if first is None:  # nothing stored (a store's first link): every row is new, nothing to compare
        _fill(conn, table, names, [(*fresh, *row) for row in ordered], empty=where is None)
        return 0, len(ordered)
    deleted, kept_records, left = _compare(itertools.chain([first], found), ordered, width)
    kept = len(kept_records)
    new = [(*fresh, *row) for row in left]
    if len(deleted) > kept and where is None:  # most rows changed: write the table whole, in the caller's order
        conn.execute(table.delete())
        old_stamps = {record[:width]: record[width + 1 :] for record in kept_records} if stamps else {}
        _fill(conn, table, names, [(*old_stamps.get(r, fresh), *r) for r in ordered], empty=True)
    else:
        for part in chunked(deleted):
            conn.execute(table.delete().where(table.c[key].in_(part)))
        _fill(conn, table, names, new, empty=not kept and where is None)
    return len(deleted), len(new)


def replace_mapping(
    conn: Connection, table: Table, key: str, column: str, stored: Mapping[Any, Any], wanted: Mapping[Any, Any]
) -> tuple[int, int]:
    """Make a table of `key` → `column` pairs that holds `stored` (as the caller read it, in this transaction's view
    of the store) hold `wanted`, writing only the keys whose value changed or went; (deleted, inserted). Where both
    sides are at hand, no row is read or compared in the database: an incremental link rewrites the digests of the
    reports that changed, not of a million."""
    gone = sorted(k for k, value in stored.items() if wanted.get(k) != value)
    new = sorted((k, value) for k, value in wanted.items() if stored.get(k) != value)
    for part in chunked(gone):
        conn.execute(table.delete().where(table.c[key].in_(part)))
    insert_rows(conn, table, (key, column), new)
    return len(gone), len(new)


COMPARED_AT_ONCE = 50_000
"""Stored rows `_compare` takes at a time: each slice's look-ups run in C, and no more than a slice is held."""


def _compare(stored: Iterator[Row], wanted: list[Row], width: int) -> tuple[list[Any], list[Row], Iterable[Row]]:
    """Stored records (the compared columns, the key, the stamps) against the wanted rows, as multisets → (the keys of
    the stored records to delete, the stored records kept, the wanted rows still to insert, in their order).

    A stored row matches a wanted row it equals, each wanted row at most as many times as it is wanted. Where each is
    wanted once (a keyed table; at 1 M reports every table linking writes), a slice of records is matched by popping
    the wanted rows from a dict, in C: a Python step per stored row was ~2 s of a relink that wrote nothing."""
    row_of = operator.itemgetter(slice(0, width))
    key_of = operator.itemgetter(width)
    deleted: list[Any] = []
    kept: list[Row] = []
    pending = dict.fromkeys(wanted, True)
    if len(pending) == len(wanted):
        while chunk := list(itertools.islice(stored, COMPARED_AT_ONCE)):
            hits = list(map(pending.pop, map(row_of, chunk), itertools.repeat(None)))
            kept.extend(itertools.compress(chunk, hits))
            deleted.extend(map(key_of, itertools.compress(chunk, map(operator.not_, hits))))
        return deleted, kept, pending
    counts = Counter(wanted)
    left = counts.get  # one look-up per stored row, none for a row not wanted (Counter's [] calls __missing__)
    for record in stored:
        row = record[:width]
        if times := left(row):
            counts[row] = times - 1
            kept.append(record)
        else:
            deleted.append(record[width])
    return deleted, kept, counts.elements()


def _fill(conn: Connection, table: Table, names: Sequence[str], rows: list[Row], empty: bool) -> None:
    """Insert converted rows; into an empty table, from `BUILD_INDEXES_AFTER` rows on, with its indexes built
    after them."""
    if empty and len(rows) >= BUILD_INDEXES_AFTER:
        with indexes_built_after(conn, table):
            insert_rows(conn, table, names, rows, converted=True)
    else:
        insert_rows(conn, table, names, rows, converted=True)


BUILD_INDEXES_AFTER = 50_000
"""Rows from which `replace_rows`, filling an emptied table, builds its secondary indexes after the rows instead of
adding each row to them. Measured on PostgreSQL, a 1 M-report store's 1 M report links: 4.7 s into the table with its
two secondary indexes, 1.6 s to load it bare and build them (a row's suspect is one of 330,000 names in no order,
each a random place in the index)."""


@contextmanager
def indexes_built_after(conn: Connection, table: Table) -> Iterator[None]:
    """`table`'s secondary indexes dropped for the block and built again from its rows after it, in the caller's
    transaction (both databases undo DDL with the rest: a write that fails leaves the indexes as they were). For a
    table that was empty, or whose rows are mostly replaced: on PostgreSQL, other connections wait to read `table`
    until the transaction ends (dropping an index locks its table), where they would have seen the rows as they were;
    SQLite's readers still see the table as it was."""
    indexes = sorted(table.indexes, key=lambda index: str(index.name))
    for index in indexes:
        index.drop(conn)
    yield
    for index in indexes:
        index.create(conn)
