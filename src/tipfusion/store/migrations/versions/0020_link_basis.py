"""link_basis: what a link's answer rests on, so the next link can re-link only what changed

A run keeps the model it weighed pairs by (name frequencies, what a disagreement costs), a digest of each report's
evidence, and each shared value's count of holders; `tipfusion link --incremental` re-links only the reports whose
evidence changed, the holders of values whose count moved, and what they touch (issue 15).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("link_runs") as batch:
        batch.add_column(
            sa.Column(
                "basis",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
                comment="the model the run weighed by and digests of the inputs it read: what an incremental link "
                "builds on",
            )
        )
    op.create_table(
        "link_report_digests",
        sa.Column("report_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("digest", sa.BigInteger(), nullable=False, comment="of the report's evidence as the run read it"),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_link_report_digests")),
        comment="each report's evidence as the last link read it: a report whose digest changed is re-linked",
    )
    op.create_table(
        "link_value_holders",
        sa.Column("value_hash", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column(
            "holders",
            sa.Integer(),
            nullable=False,
            comment="distinct accounts holding the value, as the last link counted",
        ),
        sa.PrimaryKeyConstraint("value_hash", name=op.f("pk_link_value_holders")),
        comment="each value two or more accounts hold, by its hash: a value whose count moved is re-linked with its "
        "holders",
    )


def downgrade() -> None:
    op.drop_table("link_value_holders")
    op.drop_table("link_report_digests")
    with op.batch_alter_table("link_runs") as batch:
        batch.drop_column("basis")
