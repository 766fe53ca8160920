"""audit checkpoints: signed heads of the audit chain

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tipfusion.store.types

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column(
            "seq",
            sa.BigInteger(),
            nullable=False,
            comment="the audit chain's head entry when the checkpoint was written",
        ),
        sa.Column("head_hash", sa.String(length=64), nullable=False, comment="that entry's hash"),
        sa.Column("at", tipfusion.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "key_fingerprint",
            sa.String(length=80),
            nullable=True,
            comment="the unit key that signed it; NULL when no key was configured",
        ),
        sa.Column(
            "signature",
            sa.Text(),
            nullable=True,
            comment="base64 Ed25519 signature over seq, head hash, time and key; NULL: unsigned",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
        comment="signed heads of the audit chain: a cut-off tail or a rewritten chain shows against them",
    )


def downgrade() -> None:
    op.drop_table("audit_checkpoints")
