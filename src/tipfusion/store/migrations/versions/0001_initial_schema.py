"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import tipfusion.store.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "accounts",
        sa.Column("report_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("ordinal", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("parent_ordinal", sa.Integer(), nullable=True),
        sa.Column("esp_scope", sa.String(length=255), nullable=True),
        sa.Column("esp_identifier", sa.Text(), nullable=True),
        sa.Column("esp_service", sa.Text(), nullable=True),
        sa.Column("screen_name", sa.Text(), nullable=True),
        sa.Column("display_name", sa.Text(), nullable=True),
        sa.Column("first_name", sa.Text(), nullable=True),
        sa.Column("last_name", sa.Text(), nullable=True),
        sa.Column("age", sa.Integer(), nullable=True),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("path", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("report_id", "version", "ordinal", name=op.f("pk_accounts")),
    )
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", tipfusion.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("object_type", sa.String(length=40), nullable=False),
        sa.Column("object_id", sa.Text(), nullable=False),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index("ix_audit_object", ["object_type", "object_id"], unique=False)

    op.create_table(
        "estimated_locations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("report_id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("account_ordinal", sa.Integer(), nullable=False),
        sa.Column("city", sa.Text(), nullable=True),
        sa.Column("region", sa.Text(), nullable=True),
        sa.Column("country_code", sa.String(length=8), nullable=True),
        sa.Column("verified", sa.Boolean(), nullable=True),
        sa.Column("observed_at", tipfusion.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_estimated_locations")),
    )
    with op.batch_alter_table("estimated_locations", schema=None) as batch_op:
        batch_op.create_index("ix_estimated_locations_report", ["report_id", "version"], unique=False)

    op.create_table(
        "files",
        sa.Column("report_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("ordinal", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("file_id", sa.Text(), nullable=True),
        sa.Column("file_name", sa.Text(), nullable=True),
        sa.Column("original_file_name", sa.Text(), nullable=True),
        sa.Column("uploaded_at", tipfusion.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("uploaded_at_raw", sa.String(length=64), nullable=True),
        sa.Column("location_of_file", sa.Text(), nullable=True),
        sa.Column("viewed_by_esp", sa.Boolean(), nullable=True),
        sa.Column("exif_viewed_by_esp", sa.Boolean(), nullable=True),
        sa.Column("publicly_available", sa.Boolean(), nullable=True),
        sa.Column("relevance", sa.String(length=40), nullable=True),
        sa.Column("potential_meme", sa.Boolean(), nullable=True),
        sa.Column(
            "annotations",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("industry_classification", sa.String(length=8), nullable=True),
        sa.Column(
            "hashes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("source_sha256", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("report_id", "version", "ordinal", name=op.f("pk_files")),
    )
    op.create_table(
        "identifier_observations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("report_id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("account_ordinal", sa.Integer(), nullable=True),
        sa.Column("file_ordinal", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("canonical", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.String(length=40), nullable=True),
        sa.Column("flags", sa.String(length=200), nullable=True),
        sa.Column("event_name", sa.String(length=20), nullable=True),
        sa.Column("observed_at", tipfusion.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("observed_at_raw", sa.String(length=64), nullable=True),
        sa.Column("port", sa.Integer(), nullable=True),
        sa.Column("possible_proxy", sa.Boolean(), nullable=True),
        sa.Column("verified", sa.Boolean(), nullable=True),
        sa.Column("origin", sa.String(length=12), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column(
            "attrs",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identifier_observations")),
    )
    with op.batch_alter_table("identifier_observations", schema=None) as batch_op:
        batch_op.create_index("ix_observations_lookup", ["kind", "canonical", "is_current"], unique=False)
        batch_op.create_index("ix_observations_report", ["report_id", "version"], unique=False)

    op.create_table(
        "ingest_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("started_at", tipfusion.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", tipfusion.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("command", sa.String(length=50), nullable=False),
        sa.Column(
            "paths",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "summary",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_runs")),
    )
    op.create_table(
        "lead_identifiers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("lead_ref", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("canonical", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.String(length=40), nullable=True),
        sa.Column("country", sa.String(length=8), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_identifiers")),
    )
    with op.batch_alter_table("lead_identifiers", schema=None) as batch_op:
        batch_op.create_index("ix_lead_identifiers_lookup", ["kind", "canonical"], unique=False)
        batch_op.create_index("uq_lead_identifiers_item", ["lead_ref", "kind", "canonical"], unique=True)

    op.create_table(
        "leads",
        sa.Column("lead_ref", sa.String(length=200), nullable=False),
        sa.Column("agency", sa.Text(), nullable=True),
        sa.Column("received_at", tipfusion.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("first_ingested_at", tipfusion.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("lead_ref", name=op.f("pk_leads")),
    )
    op.create_table(
        "quarantine_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("created_at", tipfusion.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("source_name", sa.Text(), nullable=False),
        sa.Column("pointer", sa.Text(), nullable=True, comment="which unit inside the source (JSON index), if any"),
        sa.Column("report_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("element", sa.Text(), nullable=True),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("expected", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=12), server_default=sa.text("'open'"), nullable=False),
        sa.Column("resolved_at", tipfusion.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantine_entries")),
    )
    with op.batch_alter_table("quarantine_entries", schema=None) as batch_op:
        batch_op.create_index("ix_quarantine_report", ["report_id"], unique=False)
        batch_op.create_index("ix_quarantine_status", ["status", "reason"], unique=False)

    op.create_table(
        "report_annotations",
        sa.Column("report_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("known", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("report_id", "version", "name", name=op.f("pk_report_annotations")),
    )
    op.create_table(
        "report_versions",
        sa.Column("report_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("ingested_at", tipfusion.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=20), nullable=False),
        sa.Column("esp_name", sa.Text(), nullable=True),
        sa.Column("esp_scope", sa.String(length=255), nullable=False),
        sa.Column("incident_type", sa.Text(), nullable=True),
        sa.Column("incident_type_known", sa.Boolean(), nullable=False),
        sa.Column("platform", sa.Text(), nullable=True),
        sa.Column("escalation_text", sa.Text(), nullable=True),
        sa.Column("incident_at", tipfusion.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("incident_at_raw", sa.String(length=64), nullable=True),
        sa.Column("incident_at_description", sa.Text(), nullable=True),
        sa.Column("date_received", tipfusion.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("batched_reason", sa.String(length=64), nullable=True),
        sa.Column("ncmec_priority", sa.String(length=16), nullable=True),
        sa.Column("additional_info", sa.Text(), nullable=True),
        sa.Column(
            "law_enforcement",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "reporter",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "incidents",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "extras",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
            comment="unknown elements, verbatim",
        ),
        sa.Column(
            "issues",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
            comment="unknown enums, missing zones, …",
        ),
        sa.Column("unknown_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("report_id", "version", name=op.f("pk_report_versions")),
    )
    with op.batch_alter_table("report_versions", schema=None) as batch_op:
        batch_op.create_index("ix_report_versions_content", ["report_id", "content_hash"], unique=False)

    op.create_table(
        "reports",
        sa.Column("report_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=20), nullable=False),
        sa.Column("first_ingested_at", tipfusion.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", tipfusion.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_reports")),
    )
    op.create_table(
        "source_blobs",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("chunk", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", "chunk", name=op.f("pk_source_blobs")),
        comment="source bytes, byte for byte, in chunks so a large zip fits any database",
    )
    op.create_table(
        "source_documents",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False, comment="path as first received (zip members: zip path!member)"),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("format", sa.String(length=30), nullable=False),
        sa.Column(
            "container_sha256",
            sa.String(length=64),
            nullable=True,
            comment="the zip this member came from, if any",
        ),
        sa.Column("received_at", tipfusion.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_source_documents")),
    )
    op.create_table(
        "store_flags",
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_store_flags")),
        comment="store-wide facts, e.g. 'synthetic' when demo data has been loaded",
    )
    op.create_table(
        "report_version_parts",
        sa.Column("report_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("part_sha256", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("pointer", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["report_id", "version"],
            ["report_versions.report_id", "report_versions.version"],
            name=op.f("fk_report_version_parts_report_id_report_versions"),
        ),
        sa.PrimaryKeyConstraint("report_id", "version", "part_sha256", name=op.f("pk_report_version_parts")),
    )


def downgrade() -> None:

    op.drop_table("report_version_parts")
    op.drop_table("store_flags")
    op.drop_table("source_documents")
    op.drop_table("source_blobs")
    op.drop_table("reports")
    with op.batch_alter_table("report_versions", schema=None) as batch_op:
        batch_op.drop_index("ix_report_versions_content")

    op.drop_table("report_versions")
    op.drop_table("report_annotations")
    with op.batch_alter_table("quarantine_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_quarantine_status")
        batch_op.drop_index("ix_quarantine_report")

    op.drop_table("quarantine_entries")
    op.drop_table("leads")
    with op.batch_alter_table("lead_identifiers", schema=None) as batch_op:
        batch_op.drop_index("uq_lead_identifiers_item")
        batch_op.drop_index("ix_lead_identifiers_lookup")

    op.drop_table("lead_identifiers")
    op.drop_table("ingest_runs")
    with op.batch_alter_table("identifier_observations", schema=None) as batch_op:
        batch_op.drop_index("ix_observations_report")
        batch_op.drop_index("ix_observations_lookup")

    op.drop_table("identifier_observations")
    op.drop_table("files")
    with op.batch_alter_table("estimated_locations", schema=None) as batch_op:
        batch_op.drop_index("ix_estimated_locations_report")

    op.drop_table("estimated_locations")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_object")

    op.drop_table("audit_events")
    op.drop_table("accounts")
