"""How many priorities each level holds, per pin and whole score: the work queue's totals without counting it.

"Page N of M" over the whole queue was a COUNT of every priority of the level — an index-only scan that grows with
the store (86,457 suspects at 250,000 reports, about 350,000 at a million), paid on every page view. The priorities
change only when triage rewrites them, so triage rewrites these counts in the same transaction (`refresh`), and a
total is a sum over a few hundred rows whatever the store's size.

Counts are kept per (level, pinned, floor(score)) rather than per band, so the bands' thresholds are not frozen
into the store: for a whole-number threshold T, floor(score) >= T exactly when score >= T, so any such band sums
these rows exactly (`PriorityBands` with a fractional threshold counts the queue instead).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Connection, Integer, case, cast, delete, func, insert, select

from tipfusion.store.tables import priorities, priority_counts


def score_floor(dialect: str, score: ColumnElement[float]) -> ColumnElement[int]:
    """floor(score) as an integer on both databases (SQLite's CAST truncates toward zero; PostgreSQL's rounds)."""
    if dialect == "postgresql":
        return cast(func.floor(score), Integer)
    truncated = cast(score, Integer)
    return truncated - case((score < truncated, 1), else_=0)


def refresh(conn: Connection) -> None:
    """Rewrite the counts from the priorities as they are in this transaction: call it wherever priorities are
    written, before that transaction commits (triage is the one writer)."""
    bucket = score_floor(conn.dialect.name, priorities.c.score)
    conn.execute(delete(priority_counts))
    conn.execute(
        insert(priority_counts).from_select(
            ["object_type", "pinned", "score_floor", "held"],
            select(priorities.c.object_type, priorities.c.pinned, bucket, func.count()).group_by(
                priorities.c.object_type, priorities.c.pinned, bucket
            ),
        )
    )
