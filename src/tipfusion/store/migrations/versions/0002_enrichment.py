"""enrichment

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tipfusion.store.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "email_enrichments",
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("domain", sa.Text(), nullable=True),
        sa.Column("canonical", sa.Text(), nullable=False),
        sa.Column("provider_rule", sa.Boolean(), nullable=False),
        sa.Column("disposable", sa.Boolean(), nullable=False),
        sa.Column("sources", sa.Text(), nullable=False),
        sa.Column("enriched_at", tipfusion.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("address", name=op.f("pk_email_enrichments")),
    )
    op.create_table(
        "ip_enrichments",
        sa.Column("ip", sa.String(length=45), nullable=False),
        sa.Column("ip_version", sa.Integer(), nullable=False),
        sa.Column("ip_class", sa.String(length=20), nullable=False),
        sa.Column("network_type", sa.String(length=20), nullable=False),
        sa.Column("asn", sa.BigInteger(), nullable=True),
        sa.Column("as_org", sa.Text(), nullable=True),
        sa.Column("isp_name", sa.Text(), nullable=True),
        sa.Column("isp_source", sa.String(length=30), nullable=True),
        sa.Column("cgnat", sa.Boolean(), nullable=False),
        sa.Column("country_estimate", sa.String(length=8), nullable=True),
        sa.Column("region_estimate", sa.Text(), nullable=True),
        sa.Column("city_estimate", sa.Text(), nullable=True),
        sa.Column("accuracy_radius_km", sa.Integer(), nullable=True),
        sa.Column("latitude_estimate", sa.Float(), nullable=True),
        sa.Column("longitude_estimate", sa.Float(), nullable=True),
        sa.Column("warning", sa.Text(), nullable=True),
        sa.Column("log_timezone", sa.String(length=64), nullable=True),
        sa.Column(
            "sources", sa.Text(), nullable=False, comment="which rules, tables and database versions gave this answer"
        ),
        sa.Column("enriched_at", tipfusion.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("ip", name=op.f("pk_ip_enrichments")),
    )
    with op.batch_alter_table("ip_enrichments", schema=None) as batch_op:
        batch_op.create_index("ix_ip_enrichments_isp", ["isp_name"], unique=False)

    op.create_table(
        "phone_enrichments",
        sa.Column("e164", sa.String(length=32), nullable=False),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("number_type", sa.String(length=30), nullable=True),
        sa.Column("region", sa.String(length=8), nullable=True),
        sa.Column(
            "original_allottee",
            sa.Text(),
            nullable=True,
            comment="operator first allotted the series; ported numbers differ",
        ),
        sa.Column("area", sa.Text(), nullable=True),
        sa.Column("sources", sa.Text(), nullable=False),
        sa.Column("enriched_at", tipfusion.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("e164", name=op.f("pk_phone_enrichments")),
    )
    with op.batch_alter_table("identifier_observations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "identifiable",
                sa.Boolean(),
                nullable=True,
                comment="set by enrich: can an ISP name the subscriber from this sighting",
            )
        )
        batch_op.add_column(sa.Column("identifiability_note", sa.Text(), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("identifier_observations", schema=None) as batch_op:
        batch_op.drop_column("identifiability_note")
        batch_op.drop_column("identifiable")

    op.drop_table("phone_enrichments")
    with op.batch_alter_table("ip_enrichments", schema=None) as batch_op:
        batch_op.drop_index("ix_ip_enrichments_isp")

    op.drop_table("ip_enrichments")
    op.drop_table("email_enrichments")
