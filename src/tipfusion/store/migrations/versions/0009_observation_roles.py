"""identifier roles: whose each sighting is (reported person, associated account, recipient, victim, incident);
views of the current version of every per-version table, the one definition of "current" every read uses

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 17:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Held sightings get the role ingest now records: the party of their account (an associated account speaks for
# the account it is associated with), the reported person for a file's details, the incident for the rest.
_ACCOUNT_ROLE = """
UPDATE identifier_observations SET role = (
  SELECT CASE
    WHEN a.role <> 'associated' THEN a.role
    ELSE COALESCE((
      SELECT CASE WHEN p.role = 'reported' THEN 'associated' ELSE p.role END FROM accounts p
      WHERE p.report_id = a.report_id AND p.version = a.version AND p.ordinal = a.parent_ordinal
    ), 'associated')
  END
  FROM accounts a
  WHERE a.report_id = identifier_observations.report_id AND a.version = identifier_observations.version
    AND a.ordinal = identifier_observations.account_ordinal
)
WHERE account_ordinal IS NOT NULL
"""


# One definition of "current": the rows of a report's current version. Reads join these, never the raw tables
# with a hand-written version filter (a routing read once used a superseded version's location).
CURRENT_VIEWS = ("report_versions", "accounts", "files", "estimated_locations", "report_annotations")


def _create_views() -> None:
    for table in CURRENT_VIEWS:
        op.execute(
            f"CREATE VIEW current_{table} AS SELECT t.* FROM {table} t "
            "JOIN reports r ON r.report_id = t.report_id AND r.current_version = t.version"
        )


def upgrade() -> None:
    with op.batch_alter_table("identifier_observations") as batch:
        batch.add_column(
            sa.Column(
                "role",
                sa.String(length=12),
                server_default=sa.text("'incident'"),
                nullable=False,
                comment="whose value: reported | associated | recipient | victim | reporter | esp | incident",
            )
        )
    op.execute(
        "UPDATE identifier_observations SET role = 'reported' "
        "WHERE account_ordinal IS NULL AND file_ordinal IS NOT NULL"
    )
    op.execute(_ACCOUNT_ROLE)
    _create_views()


def downgrade() -> None:
    for table in CURRENT_VIEWS:
        op.execute(f"DROP VIEW IF EXISTS current_{table}")
    with op.batch_alter_table("identifier_observations") as batch:
        batch.drop_column("role")
