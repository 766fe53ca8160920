"""Reads of *current* versions and chunked `IN` lists: one definition each, used by every read.

The views (migration 0009) hold the rows of each report's current version; a read joins them instead of writing
its own version filter (a routing read once used a superseded version's location).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, Select, Table, TableClause, column, table

from tipfusion.store.tables import accounts, estimated_locations, files, report_annotations, report_versions

IN_LIMIT = 900  # values per IN (...) list: well under every driver's bound-parameter limit


def chunked(values: Iterable[Any], size: int = IN_LIMIT) -> Iterable[Sequence[Any]]:
    """`values` in slices small enough for one `IN (...)` list (a set or other collection is sorted first, so the
    statements a read sends do not depend on hash order)."""
    ordered = values if isinstance(values, Sequence) else sorted(values)
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


def rows_in(conn: Connection, query: Select[Any], column: ColumnElement[Any], values: Iterable[Any]) -> list[Row[Any]]:
    """The rows of `query` whose `column` is one of `values`, however many: one statement per `chunked` slice."""
    out: list[Row[Any]] = []
    for part in chunked(values):
        out.extend(conn.execute(query.where(column.in_(part))))
    return out


def _view_of(source: Table) -> TableClause:
    return table(f"current_{source.name}", *(column(c.name, c.type) for c in source.c))


current_accounts = _view_of(accounts)
current_files = _view_of(files)
current_report_versions = _view_of(report_versions)
current_estimated_locations = _view_of(estimated_locations)
current_report_annotations = _view_of(report_annotations)
