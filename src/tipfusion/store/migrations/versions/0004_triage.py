"""triage

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import tipfusion.store.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "priorities",
        sa.Column("object_type", sa.String(length=10), nullable=False, comment="report | suspect | network"),
        sa.Column("object_id", sa.String(length=32), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column(
            "factors",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
            comment="[factor, points, why] — every contribution shown",
        ),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("object_type", "object_id", name=op.f("pk_priorities")),
    )
    with op.batch_alter_table("priorities", schema=None) as batch_op:
        batch_op.create_index("ix_priorities_queue", ["object_type", "pinned", "score"], unique=False)

    op.create_table(
        "triage_adjustments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("object_type", sa.String(length=10), nullable=False),
        sa.Column("object_id", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False, comment="pin | lower"),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", tipfusion.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_triage_adjustments")),
    )


def downgrade() -> None:

    op.drop_table("triage_adjustments")
    with op.batch_alter_table("priorities", schema=None) as batch_op:
        batch_op.drop_index("ix_priorities_queue")

    op.drop_table("priorities")
