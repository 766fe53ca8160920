"""Reads the analyst look-ups (`search`) need that are not a query over one table's columns."""

from __future__ import annotations

from sqlalchemy import Connection, text

# A loose index scan: one index seek per distinct ESP (a handful) instead of a DISTINCT over every version, which
# every search would otherwise pay in proportion to the store's size. Same SQL on SQLite and PostgreSQL.
_ESP_SCOPES = text(
    "WITH RECURSIVE scope(v) AS ("
    " SELECT MIN(esp_scope) FROM report_versions"
    " UNION ALL"
    " SELECT (SELECT MIN(esp_scope) FROM report_versions WHERE esp_scope > scope.v)"
    " FROM scope WHERE scope.v IS NOT NULL"
    ") SELECT v FROM scope WHERE v IS NOT NULL"
)


def esp_scopes(conn: Connection) -> list[str]:
    """The ESPs the store holds reports from: an ESP user ID typed without its ESP is tried under each."""
    return sorted(str(s) for s in conn.execute(_ESP_SCOPES).scalars() if s)
