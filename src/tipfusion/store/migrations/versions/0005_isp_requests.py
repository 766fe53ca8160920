"""isp requests

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import tipfusion.store.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "isp_request_items",
        sa.Column("request_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("item", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("report_id", sa.BigInteger(), nullable=False),
        sa.Column("suspect_id", sa.String(length=32), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=False),
        sa.Column("port", sa.Integer(), nullable=True),
        sa.Column("observed_at", tipfusion.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("event_name", sa.String(length=20), nullable=True),
        sa.Column("identifiable", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("request_id", "item", name=op.f("pk_isp_request_items")),
    )
    with op.batch_alter_table("isp_request_items", schema=None) as batch_op:
        batch_op.create_index("ix_isp_request_items_ip", ["ip", "observed_at"], unique=False)

    op.create_table(
        "isp_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("reference", sa.String(length=80), nullable=False),
        sa.Column("recipient", sa.Text(), nullable=False, comment="the ISP (or platform) asked"),
        sa.Column("created_at", tipfusion.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", tipfusion.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "due_at",
            tipfusion.store.types.UTCDateTime(timezone=True),
            nullable=True,
            comment="sent + 72 hours (IT Rules 2021 r.3(1)(j))",
        ),
        sa.Column("status", sa.String(length=12), nullable=False, comment="draft | sent | answered"),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("output_dir", sa.Text(), nullable=False),
        sa.Column(
            "files",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
            comment="file name → SHA-256 of every part written",
        ),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_isp_requests")),
        sa.UniqueConstraint("reference", name=op.f("uq_isp_requests_reference")),
    )


def downgrade() -> None:

    op.drop_table("isp_requests")
    with op.batch_alter_table("isp_request_items", schema=None) as batch_op:
        batch_op.drop_index("ix_isp_request_items_ip")

    op.drop_table("isp_request_items")
