"""Planner statistics brought up to date by the stage that changed a table (PostgreSQL).

PostgreSQL plans from the statistics ANALYZE keeps. autovacuum refreshes a table's once a tenth of it has changed,
when it runs: it may be switched off (it is on this project's test server) or not have come round yet when the next
stage starts. Until then the planner believes what it saw last: after the first ingest of a 1 M-report store, that
the 12.6 M sightings were a few thousand. Linking then read them through bitmaps of the lookup index: 22.6–26.6 s
against 13.7–14.4 s by the scan it chooses once it knows. ANALYZE reads a fixed sample (0.5 s for that table), so a
stage that wrote more than autovacuum's tenth of a table analyzes it, as autovacuum would, before it commits.

SQLite is left as it is. It keeps statistics only where ANALYZE ran, and with them its planner chose worse for one of
linking's joins (the network summaries' sightings: 1.37 s against 0.37 s at 100,000 reports); the reads that take a
whole table there are written to scan it (`store.link_inputs.query_text`).
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Connection, text

CHANGED_SHARE = 0.1
"""A table is analyzed when a stage wrote more rows than this share of what the planner believes it holds (plus
`CHANGED_ROWS`): autovacuum's defaults (`autovacuum_analyze_scale_factor`, `autovacuum_analyze_threshold`)."""
CHANGED_ROWS = 50


def refresh_statistics(conn: Connection, written: Mapping[str, int]) -> list[str]:
    """ANALYZE the tables `written` (table → rows inserted, updated or deleted by the stage) changed by more than
    autovacuum's share, or that were never analyzed; the tables analyzed, by name. Nothing on SQLite."""
    if conn.dialect.name != "postgresql":
        return []
    changed = {table: rows for table, rows in written.items() if rows > 0}
    if not changed:
        return []
    # reltuples: the planner's row count, -1 before a table's first ANALYZE (PostgreSQL 14 and later; 0 before)
    found = text("SELECT t, reltuples FROM unnest(CAST(:t AS text[])) AS t JOIN pg_class ON oid = to_regclass(t)")
    believed: dict[str, float] = {t: n for t, n in conn.execute(found, {"t": sorted(changed)})}
    stale = [
        table
        for table, rows in sorted(changed.items())
        if table in believed and (believed[table] < 0 or rows > CHANGED_SHARE * believed[table] + CHANGED_ROWS)
    ]
    quote = conn.dialect.identifier_preparer.quote
    for table in stale:
        conn.execute(text(f"ANALYZE {quote(table)}"))
    return stale
