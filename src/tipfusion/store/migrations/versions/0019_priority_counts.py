"""priority_counts: the work queue's totals per level, pin and whole score, kept by triage

The queue's "page N of M" counted every priority of the level on each page view, a cost that grows with the store
(issue 13). Triage now rewrites these counts with the priorities; this revision fills them from the priorities a
store already holds, so an upgraded store's totals are right before its next triage.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "priority_counts",
        sa.Column("object_type", sa.String(length=10), nullable=False, comment="report | suspect | network"),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column(
            "score_floor",
            sa.Integer(),
            nullable=False,
            comment="floor(score): a whole-number band threshold T splits these exactly as score >= T does",
        ),
        sa.Column("held", sa.Integer(), nullable=False, comment="priorities of that level, pin and whole score"),
        sa.PrimaryKeyConstraint("object_type", "pinned", "score_floor", name=op.f("pk_priority_counts")),
        comment="the work queue's totals without counting the queue: rewritten by triage with the priorities, "
        "in the same transaction",
    )
    # as tipfusion.store.priority_counts.refresh does, spelt out here so this revision does not change with the code
    score = sa.column("score", sa.Float())
    if op.get_bind().dialect.name == "postgresql":
        bucket: sa.ColumnElement[int] = sa.cast(sa.func.floor(score), sa.Integer)
    else:  # SQLite's CAST truncates toward zero
        truncated = sa.cast(score, sa.Integer)
        bucket = truncated - sa.case((score < truncated, 1), else_=0)
    kind, pinned = sa.column("object_type", sa.String()), sa.column("pinned", sa.Boolean())
    source = sa.table("priorities", kind, pinned, score)
    counts = sa.table(
        "priority_counts",
        sa.column("object_type"),
        sa.column("pinned"),
        sa.column("score_floor"),
        sa.column("held"),
    )
    op.execute(
        counts.insert().from_select(
            ["object_type", "pinned", "score_floor", "held"],
            sa.select(kind, pinned, bucket, sa.func.count()).select_from(source).group_by(kind, pinned, bucket),
        )
    )


def downgrade() -> None:
    op.drop_table("priority_counts")
