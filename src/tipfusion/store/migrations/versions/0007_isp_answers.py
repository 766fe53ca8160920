"""isp answers

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tipfusion.store.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "isp_answers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.BigInteger(), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=False),
        sa.Column("port", sa.Integer(), nullable=True),
        sa.Column("observed_at", tipfusion.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("subscriber_name", sa.Text(), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("pin", sa.String(length=12), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True, comment="E.164"),
        sa.Column("alternate_phone", sa.String(length=32), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("id_document_type", sa.String(length=40), nullable=True),
        sa.Column("id_document_number", sa.String(length=80), nullable=True),
        sa.Column("connection_type", sa.String(length=40), nullable=True),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("received_at", tipfusion.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_isp_answers")),
    )
    with op.batch_alter_table("isp_answers", schema=None) as batch_op:
        batch_op.create_index("ix_isp_answers_report", ["report_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("isp_answers", schema=None) as batch_op:
        batch_op.drop_index("ix_isp_answers_report")

    op.drop_table("isp_answers")
