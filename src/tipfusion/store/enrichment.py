"""Reads of the enrichment tables the enrich stage walks in bulk."""

from __future__ import annotations

from sqlalchemy import Connection

from tipfusion.store.bulk import rows_of


def enriched_ips(conn: Connection) -> list[str]:
    """Every address the enrichment table holds, in order (straight from the driver: it may hold millions)."""
    return [ip for (ip,) in rows_of(conn, "SELECT ip FROM ip_enrichments ORDER BY ip")]
