"""Planner statistics after a stage's writes (`store.statistics`): PostgreSQL analyzes what a stage changed by more
than autovacuum's tenth, or what was never analyzed; SQLite keeps none (its whole-table reads scan by hint)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, func, insert, select, text

from tipfusion.config import Settings
from tipfusion.ingest import IngestService
from tipfusion.link.service import LinkService
from tipfusion.store.statistics import CHANGED_ROWS, CHANGED_SHARE, refresh_statistics
from tipfusion.store.tables import identifier_observations, leads, report_links, source_blobs, source_documents
from tipfusion.synth import generate
from tipfusion.triage.service import TriageService


def _believed(conn: Connection, table: str) -> float | None:
    """What PostgreSQL's planner believes `table` holds (-1: never analyzed); None on SQLite, which keeps no such
    figure unless ANALYZE ran (`sqlite_stat1`)."""
    if conn.dialect.name == "postgresql":
        found = conn.execute(text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:t)"), {"t": table})
        return float(found.scalar_one())
    assert not conn.execute(text("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")).all()
    return None


def test_a_table_changed_by_more_than_a_tenth_is_analyzed(engine: Engine) -> None:
    table = leads.name
    with engine.begin() as conn:
        postgres = conn.dialect.name == "postgresql"
        assert _believed(conn, table) == (-1 if postgres else None)
        when = datetime(2026, 12, 1, tzinfo=UTC)
        rows = [{"lead_ref": f"L-{n}", "agency": "Example Police", "first_ingested_at": when} for n in range(400)]
        conn.execute(insert(leads), rows)
        assert refresh_statistics(conn, {table: 400}) == ([table] if postgres else [])  # never analyzed
        assert _believed(conn, table) == (400 if postgres else None)  # its own transaction's rows count
        small = int(CHANGED_SHARE * 400 + CHANGED_ROWS)
        assert refresh_statistics(conn, {table: small}) == []  # within autovacuum's tenth: left to it
        assert refresh_statistics(conn, {table: small + 1, report_links.name: 0}) == ([table] if postgres else [])


def test_each_stage_leaves_the_planner_knowing_what_it_wrote(
    engine: Engine, settings: Settings, synthetic_batch: Path
) -> None:
    """After ingest, link and triage, the tables each wrote are analyzed on PostgreSQL (the test server runs no
    autovacuum, so nothing else would have), and the planner's row counts are the tables' own."""
    IngestService(engine, settings, "tester").ingest_paths([synthetic_batch])
    with engine.connect() as conn:
        observed = conn.execute(select(func.count()).select_from(identifier_observations)).scalar_one()
        assert observed > 1000
        if conn.dialect.name == "postgresql":
            assert _believed(conn, identifier_observations.name) == observed
    LinkService(engine, "tester").run()
    TriageService(engine, "tester").run()
    with engine.connect() as conn:
        linked = conn.execute(select(func.count()).select_from(report_links)).scalar_one()
        scored = conn.execute(text("SELECT COUNT(*) FROM priorities")).scalar_one()
        if conn.dialect.name == "postgresql":
            assert _believed(conn, report_links.name) == linked > 100
            assert _believed(conn, "priorities") == scored > linked
        else:
            assert _believed(conn, report_links.name) is None


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_an_ingest_leaves_the_documents_bytes_unanalyzed(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    """The documents' bytes are read by key only, and ANALYZE reads into the sampled bytes (13.7 s at 1 M reports):
    ingest analyzes the table of documents, not the table of their bytes."""
    generate(tmp_path / "batch", 30, seed=5)
    IngestService(engine, settings, "tester").ingest_paths([tmp_path / "batch"])
    with engine.connect() as conn:
        assert _believed(conn, source_documents.name) > 30
        assert _believed(conn, source_blobs.name) == -1
