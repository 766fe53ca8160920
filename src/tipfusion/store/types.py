"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

JsonType = JSON().with_variant(JSONB(), "postgresql")


def utc_value(value: datetime | str | None) -> datetime | None:
    """A stored timestamp as `UTCDateTime` hands it back, from what a driver gives for a raw read (SQLite: UTC text
    without a zone; PostgreSQL: an aware datetime in the session's zone): tz-aware UTC, or None. The store's raw
    reads (`bulk.rows_of`, text SQL) apply it, so no service re-parses dates."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def json_value(value: Any) -> Any:
    """A stored JSON value as `JsonType` hands it back, from what a driver gives for a raw read (SQLite: the JSON
    text; PostgreSQL: the decoded value)."""
    return json.loads(value) if isinstance(value, str) else value


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps are evidence: always tz-aware UTC in Python, whatever the database keeps.

    SQLite has no zone-aware type, so values are converted to UTC on the way in and tagged UTC on the way out;
    a naive datetime is refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: tipfusion stores tz-aware UTC only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self,
        value: datetime | None,
        dialect: Dialect,  # noqa: ARG002 - SQLAlchemy's TypeDecorator hook signature; only binding needs it
    ) -> datetime | None:
        return utc_value(value)
