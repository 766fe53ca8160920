"""source purges: retention removes a document's bytes, never the fact that it was received

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tipfusion.store.types

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "source_purges",
        sa.Column(
            "sha256",
            sa.String(length=64),
            nullable=False,
            comment="the document whose bytes were removed (still listed)",
        ),
        sa.Column("purged_at", tipfusion.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column(
            "received_before",
            tipfusion.store.types.UTCDateTime(timezone=True),
            nullable=False,
            comment="the retention cut-off the purge applied",
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False, comment="bytes removed"),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_source_purges")),
        comment="retention: source bytes removed by policy; the document's hash, name and size stay in "
        "source_documents",
    )


def downgrade() -> None:
    op.drop_table("source_purges")
