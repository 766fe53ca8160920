"""hashlists: known-content hash lists (CSV, Project VIC VICS JSON), their bad rows, and the files they match

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tipfusion.store.types

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = tipfusion.store.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "hash_lists",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False, comment="the unit's name for the list"),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hash_lists")),
        sa.UniqueConstraint("name", name=op.f("uq_hash_lists_name")),
        comment="known-content hash sets the unit imports (CSV, Project VIC VICS JSON)",
    )
    op.create_table(
        "hash_list_imports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=10), nullable=False, comment="csv | vics"),
        sa.Column("source_name", sa.Text(), nullable=False),
        sa.Column(
            "source_sha256",
            sa.String(length=64),
            nullable=False,
            comment="the file's SHA-256: the same file twice is a no-op",
        ),
        sa.Column("imported_at", UTC(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False, comment="rows (CSV) or media records (VICS) read"),
        sa.Column("entries_added", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["list_id"], ["hash_lists.id"], name=op.f("fk_hash_list_imports_list_id_hash_lists"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hash_list_imports")),
    )
    op.create_index("uq_hash_list_imports_file", "hash_list_imports", ["list_id", "source_sha256"], unique=True)
    op.create_table(
        "hash_list_entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("algorithm", sa.String(length=10), nullable=False, comment="md5 | sha1 | sha256 | pdq | photodna"),
        sa.Column(
            "canonical",
            sa.Text(),
            nullable=False,
            comment="as identifier_observations.canonical of a file_hash (md5:<lower hex>), so the match is one join",
        ),
        sa.Column("category", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column(
            "media_ref", sa.Text(), nullable=True, comment="the record it came from (VICS MediaID, or the CSV line)"
        ),
        sa.ForeignKeyConstraint(
            ["list_id"], ["hash_lists.id"], name=op.f("fk_hash_list_entries_list_id_hash_lists"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hash_list_entries")),
    )
    op.create_index("uq_hash_list_entries_value", "hash_list_entries", ["list_id", "canonical"], unique=True)
    op.create_index("ix_hash_list_entries_lookup", "hash_list_entries", ["canonical"])
    op.create_index("ix_hash_list_entries_algorithm", "hash_list_entries", ["algorithm"])
    op.create_table(
        "hash_list_rejects",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("source_name", sa.Text(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("field", sa.Text(), nullable=True, comment="the column or JSON field at fault"),
        sa.Column("message", sa.Text(), nullable=False, comment="what was wrong and what was expected"),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["hash_list_imports.id"],
            name=op.f("fk_hash_list_rejects_import_id_hash_list_imports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hash_list_rejects")),
        comment="bad rows of an imported hash list: quarantined with file, line and reason; the good rows landed",
    )
    op.create_index("ix_hash_list_rejects_import", "hash_list_rejects", ["import_id"])
    op.create_table(
        "hash_list_matches",
        sa.Column("report_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("file_ordinal", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("entry_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("file_hash", sa.Text(), nullable=False, comment="the file's hash that matched (canonical)"),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("distance", sa.Integer(), nullable=False, comment="0: exact; PDQ: Hamming distance (at most 31)"),
        sa.PrimaryKeyConstraint("report_id", "file_ordinal", "entry_id", name=op.f("pk_hash_list_matches")),
        comment="current files whose hashes are on a known-content list (rebuilt by tipfusion.enrich.hashlists)",
    )
    op.create_index("ix_hash_list_matches_list", "hash_list_matches", ["list_id"])


def downgrade() -> None:
    op.drop_index("ix_hash_list_matches_list", table_name="hash_list_matches")
    op.drop_table("hash_list_matches")
    op.drop_index("ix_hash_list_rejects_import", table_name="hash_list_rejects")
    op.drop_table("hash_list_rejects")
    op.drop_index("ix_hash_list_entries_algorithm", table_name="hash_list_entries")
    op.drop_index("ix_hash_list_entries_lookup", table_name="hash_list_entries")
    op.drop_index("uq_hash_list_entries_value", table_name="hash_list_entries")
    op.drop_table("hash_list_entries")
    op.drop_index("uq_hash_list_imports_file", table_name="hash_list_imports")
    op.drop_table("hash_list_imports")
    op.drop_table("hash_lists")
