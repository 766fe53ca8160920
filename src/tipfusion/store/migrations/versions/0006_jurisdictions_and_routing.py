"""jurisdictions and routing

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import tipfusion.store.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "police_stations",
        sa.Column("station_id", sa.String(length=120), nullable=False),
        sa.Column("district", sa.String(length=120), nullable=False),
        sa.Column(
            "geometry",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
            comment="GeoJSON geometry in WGS 84",
        ),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("imported_at", tipfusion.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("station_id", name=op.f("pk_police_stations")),
    )
    op.create_table(
        "routing_decisions",
        sa.Column("suspect_id", sa.String(length=32), nullable=False),
        sa.Column("district", sa.String(length=120), nullable=True),
        sa.Column("station", sa.String(length=120), nullable=True),
        sa.Column("basis", sa.String(length=40), nullable=False),
        sa.Column("confidence", sa.String(length=10), nullable=False, comment="high | medium | low | none"),
        sa.Column("network_id", sa.String(length=32), nullable=True),
        sa.Column("network_central", sa.Boolean(), nullable=False, comment="the suspect's network spans districts"),
        sa.Column(
            "detail", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("overridden", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("suspect_id", name=op.f("pk_routing_decisions")),
    )
    op.create_table(
        "routing_overrides",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("suspect_id", sa.String(length=32), nullable=False),
        sa.Column("district", sa.String(length=120), nullable=True),
        sa.Column("station", sa.String(length=120), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", tipfusion.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_overrides")),
    )


def downgrade() -> None:

    op.drop_table("routing_overrides")
    op.drop_table("routing_decisions")
    op.drop_table("police_stations")
