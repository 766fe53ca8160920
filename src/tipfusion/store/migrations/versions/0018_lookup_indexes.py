"""lookup: ix_observations_lookup also orders a value's current rows by report and role; ISP answers by identifier

A search of a value held by thousands of reports reads them in (report, role) order straight from the index, so it
groups and stops after its row limit instead of grouping and sorting every sighting (issue 15, target 4).
The ISP answers holding a searched phone, email or IP are found by index seeks, not a scan of every answer.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD = ["kind", "canonical", "is_current"]
_NEW = [*_OLD, "report_id", "role"]
_ANSWER_COLUMNS = ("ip", "phone", "alternate_phone", "email")


def upgrade() -> None:
    op.drop_index("ix_observations_lookup", table_name="identifier_observations")
    op.create_index("ix_observations_lookup", "identifier_observations", _NEW)
    for column in _ANSWER_COLUMNS:
        op.create_index(f"ix_isp_answers_{column}", "isp_answers", [column])


def downgrade() -> None:
    for column in _ANSWER_COLUMNS:
        op.drop_index(f"ix_isp_answers_{column}", table_name="isp_answers")
    op.drop_index("ix_observations_lookup", table_name="identifier_observations")
    op.create_index("ix_observations_lookup", "identifier_observations", _OLD)
