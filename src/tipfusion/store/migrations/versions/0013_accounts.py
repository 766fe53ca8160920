"""accounts: users (argon2id), server-side sessions and API tokens (hashes only)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tipfusion.store.types

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = tipfusion.store.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column(
            "password_hash",
            sa.Text(),
            nullable=False,
            comment="argon2id (argon2-cffi PasswordHasher), never the password",
        ),
        sa.Column(
            "role",
            sa.String(length=20),
            nullable=False,
            comment="admin | analyst | supervisor | district | station | auditor",
        ),
        sa.Column("district", sa.String(length=120), nullable=True, comment="a district officer's district"),
        sa.Column(
            "station",
            sa.String(length=120),
            nullable=True,
            comment="a station officer's station (its district is looked up)",
        ),
        sa.Column("disabled", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "failed_attempts",
            sa.Integer(),
            server_default=sa.text("0"),
            nullable=False,
            comment="since the last success",
        ),
        sa.Column(
            "locked_until",
            UTC(timezone=True),
            nullable=True,
            comment="login refused until then, even with the right password",
        ),
        sa.Column("synthetic", sa.Boolean(), server_default=sa.text("false"), nullable=False, comment="a demo account"),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("password_changed_at", UTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
        comment="accounts: one per person; scope (district/station) decides what they see",
    )
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column(
            "token_hash",
            sa.String(length=64),
            nullable=False,
            comment="SHA-256 of the token; the token is not kept",
        ),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False, comment="web | cli"),
        sa.Column("csrf_secret", sa.String(length=64), nullable=False, comment="the form token of this session"),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("last_seen", UTC(timezone=True), nullable=False, comment="for the idle timeout"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_sessions_token_hash")),
        comment="server-side sessions: logging out or disabling an account ends them at once",
    )
    op.create_index("ix_user_sessions_user", "user_sessions", ["user_id"])
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False, comment="SHA-256 of the token; shown once"),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("last_used", UTC(timezone=True), nullable=True),
        sa.Column("revoked_at", UTC(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
        comment="bearer tokens of the /api/ integration: the scope is the owning account's role and jurisdiction",
    )
    op.create_index("ix_api_tokens_user", "api_tokens", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_api_tokens_user", table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_index("ix_user_sessions_user", table_name="user_sessions")
    op.drop_table("user_sessions")
    op.drop_table("users")
