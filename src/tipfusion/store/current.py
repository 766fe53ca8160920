"""Reads of *current* versions and chunked `IN` lists: one definition each, used by every read.

The views (migration 0009) hold the rows of each report's current version; a read joins them instead of writing
its own version filter (a routing read once used a superseded version's location).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Table, TableClause, column, table

from tipfusion.store.tables import accounts, estimated_locations, files, report_annotations, report_versions

IN_LIMIT = 900  # values per IN (...) list: well under every driver's bound-parameter limit


def chunked(values: Sequence[Any], size: int = IN_LIMIT) -> Iterable[Sequence[Any]]:
    """`values` in slices small enough for one `IN (...)` list."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _view_of(source: Table) -> TableClause:
    return table(f"current_{source.name}", *(column(c.name, c.type) for c in source.c))


current_accounts = _view_of(accounts)
current_files = _view_of(files)
current_report_versions = _view_of(report_versions)
current_estimated_locations = _view_of(estimated_locations)
current_report_annotations = _view_of(report_annotations)
