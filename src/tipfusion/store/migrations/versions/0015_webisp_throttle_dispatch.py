"""login throttling per client address; the dispatch reference of a sent ISP request

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tipfusion.store.types

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("client", sa.String(length=64), nullable=False, comment="the client address failed logins came from"),
        sa.Column(
            "window_start",
            tipfusion.store.types.UTCDateTime(timezone=True),
            nullable=False,
            comment="the counting window began then",
        ),
        sa.Column(
            "failures", sa.Integer(), nullable=False, comment="failed logins from it within the window, any account"
        ),
        sa.Column(
            "blocked_until",
            tipfusion.store.types.UTCDateTime(timezone=True),
            nullable=True,
            comment="logins from it are refused until then",
        ),
        sa.PrimaryKeyConstraint("client", name=op.f("pk_login_throttle")),
        comment="per-address login throttling (kept in the store so every server worker sees it)",
    )
    with op.batch_alter_table("isp_requests") as batch:
        batch.add_column(
            sa.Column(
                "sent_reference",
                sa.Text(),
                nullable=True,
                comment="how it went out: the e-mail's message id, the dispatch register entry",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("isp_requests") as batch:
        batch.drop_column("sent_reference")
    op.drop_table("login_throttle")
