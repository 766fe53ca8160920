"""an index on report_versions.esp_scope: the ESPs a store holds, read by index seeks, not a table scan

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_report_versions_esp_scope", "report_versions", ["esp_scope"])


def downgrade() -> None:
    op.drop_index("ix_report_versions_esp_scope", table_name="report_versions")
