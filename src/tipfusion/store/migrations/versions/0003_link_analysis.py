"""link analysis

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import tipfusion.store.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "link_aliases",
        sa.Column("old_id", sa.String(length=32), nullable=False),
        sa.Column("new_id", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False, comment="merged | split"),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("old_id", name=op.f("pk_link_aliases")),
    )
    op.create_table(
        "link_explanations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column(
            "level",
            sa.String(length=10),
            nullable=False,
            comment="suspect: two accounts joined; network: two suspects linked",
        ),
        sa.Column(
            "owner_id", sa.String(length=32), nullable=False, comment="the suspect or network the link holds together"
        ),
        sa.Column("a", sa.String(length=32), nullable=False),
        sa.Column("b", sa.String(length=32), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column(
            "evidence", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_explanations")),
    )
    with op.batch_alter_table("link_explanations", schema=None) as batch_op:
        batch_op.create_index("ix_link_explanations_owner", ["owner_id"], unique=False)

    op.create_table(
        "link_overrides",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False, comment="noise | split | merge"),
        sa.Column("kind", sa.String(length=20), nullable=True),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("report_a", sa.BigInteger(), nullable=True),
        sa.Column("report_b", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", tipfusion.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_overrides")),
    )
    op.create_table(
        "link_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("started_at", tipfusion.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", tipfusion.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column(
            "settings", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column(
            "summary", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_runs")),
    )
    op.create_table(
        "networks",
        sa.Column("network_id", sa.String(length=32), nullable=False),
        sa.Column("suspects", sa.Integer(), nullable=False),
        sa.Column("reports", sa.Integer(), nullable=False),
        sa.Column(
            "summary", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("network_id", name=op.f("pk_networks")),
    )
    op.create_table(
        "report_links",
        sa.Column("report_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("suspect_id", sa.String(length=32), nullable=False),
        sa.Column("network_id", sa.String(length=32), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_report_links")),
    )
    with op.batch_alter_table("report_links", schema=None) as batch_op:
        batch_op.create_index("ix_report_links_network", ["network_id"], unique=False)
        batch_op.create_index("ix_report_links_suspect", ["suspect_id"], unique=False)

    op.create_table(
        "suppressed_values",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("holders", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suppressed_values")),
    )
    op.create_table(
        "suspects",
        sa.Column("suspect_id", sa.String(length=32), nullable=False),
        sa.Column("reports", sa.Integer(), nullable=False),
        sa.Column("network_id", sa.String(length=32), nullable=True),
        sa.Column(
            "component_id",
            sa.String(length=32),
            nullable=True,
            comment="connected component of the suspect graph: the coarse view",
        ),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("suspect_id", name=op.f("pk_suspects")),
    )


def downgrade() -> None:

    op.drop_table("suspects")
    op.drop_table("suppressed_values")
    with op.batch_alter_table("report_links", schema=None) as batch_op:
        batch_op.drop_index("ix_report_links_suspect")
        batch_op.drop_index("ix_report_links_network")

    op.drop_table("report_links")
    op.drop_table("networks")
    op.drop_table("link_runs")
    op.drop_table("link_overrides")
    with op.batch_alter_table("link_explanations", schema=None) as batch_op:
        batch_op.drop_index("ix_link_explanations_owner")

    op.drop_table("link_explanations")
    op.drop_table("link_aliases")
