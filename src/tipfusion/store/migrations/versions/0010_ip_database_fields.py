"""ip database fields: what ISP and Enterprise databases hold, and which source answered each field

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("organization", "connection_type", "user_type", "mobile_country_code", "mobile_network_code", "answered_by")


def upgrade() -> None:
    with op.batch_alter_table("ip_enrichments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "organization",
                sa.Text(),
                nullable=True,
                comment="who uses the address, from an ISP/Enterprise database (often not the ISP)",
            )
        )
        batch_op.add_column(sa.Column("connection_type", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("user_type", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("mobile_country_code", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("mobile_network_code", sa.String(length=8), nullable=True))
        batch_op.add_column(
            sa.Column(
                "answered_by",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
                comment="field (or 'location') -> the database type or table that answered it",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("ip_enrichments", schema=None) as batch_op:
        for column in reversed(COLUMNS):
            batch_op.drop_column(column)
