"""Bulk inserts straight to the driver: the hot path of ingest.

SQLAlchemy's per-row parameter handling costs more than the database's own work when a batch holds
hundreds of thousands of rows. Here each column's bind processor (the same one SQLAlchemy would use:
UTC conversion, JSON encoding) is looked up once, applied only where a column has one, and the rows go
to the driver's executemany as plain tuples.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table

_CACHE: dict[tuple[str, str, tuple[str, ...]], tuple[str, list[tuple[int, Any]]]] = {}


def _prepare(conn: Connection, table: Table, columns: Sequence[str]) -> tuple[str, list[tuple[int, Any]]]:
    key = (conn.dialect.name, table.name, tuple(columns))
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    dialect = conn.dialect
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    preparer = dialect.identifier_preparer
    names = ", ".join(preparer.quote(c) for c in columns)
    sql = f"INSERT INTO {preparer.format_table(table)} ({names}) VALUES ({', '.join([marker] * len(columns))})"
    processors = []
    for index, name in enumerate(columns):
        processor = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            processors.append((index, processor))
    _CACHE[key] = (sql, processors)
    return sql, processors


def insert_rows(conn: Connection, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert `rows` (tuples in `columns` order) with one executemany."""
    if not rows:
        return
    sql, processors = _prepare(conn, table, columns)
    if processors:
        converted = []
        for row in rows:
            values = list(row)
            for index, processor in processors:
                value = values[index]
                if value is not None:
                    values[index] = processor(value)
            converted.append(tuple(values))
        rows = converted
    conn.exec_driver_sql(sql, rows)
