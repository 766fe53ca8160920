"""formats: a quarantine entry names the input format its document was read as

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("quarantine_entries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "format",
                sa.String(length=30),
                nullable=True,
                comment="the input format it was read as; empty when no format claimed it",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("quarantine_entries", schema=None) as batch_op:
        batch_op.drop_column("format")
