"""A document the fuzzers made that ingest keeps whole as the synthetic-data marker is accepted, not lost: the
full fuzz run found one (a splice put the ground-truth header in front of `<report/>`) and counted it lost."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import Engine, select

from tests.conftest import FIXTURES
from tests.reliability.harness import Figures, run_batch
from tests.reliability.hostile import Case
from tipfusion.domain.quarantine import MARKER_REFUSED
from tipfusion.store import repository as repo
from tipfusion.store.repository import get_flag
from tipfusion.store.tables import source_documents


def test_a_document_taken_as_the_synthetic_marker_is_accounted_for(engine: Engine, db_url: str, tmp_path: Path) -> None:
    data = b"report_id,person_id<report/>"
    case = Case("300007744.xml", data, "esp_xml", ["splice@0:b'report_id,person_id'"])
    figures = Figures()
    run_batch(engine, db_url, tmp_path / "batch", [case], [], figures)
    assert (figures.accepted, figures.lost, figures.quarantined) == (1, 0, 0)
    with engine.connect() as conn:
        sha = hashlib.sha256(data).hexdigest()
        kept = conn.execute(select(source_documents.c.format).where(source_documents.c.sha256 == sha)).scalar_one()
        assert kept == "synthetic_marker" and get_flag(conn, "synthetic") == "true"


def test_a_marker_refused_in_a_store_of_real_reports_is_quarantined_not_lost(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    """The same document once the store holds a report its batch did not bring: the marker is refused (the store is
    not flagged synthetic) and the document is kept whole and quarantined with that reason — accounted for."""
    first = Figures()
    good = Case("100000042.xml", (FIXTURES / "100000042.xml").read_bytes(), "esp_xml", [], good_report=100000042)
    run_batch(engine, db_url, tmp_path / "real", [], [good], first)
    assert first.good_landed == 1
    data = b"report_id,person_id<report/>"
    figures = Figures()
    run_batch(engine, db_url, tmp_path / "batch", [Case("300007744.xml", data, "esp_xml", ["splice"])], [], figures)
    assert (figures.accepted, figures.lost, figures.quarantined) == (0, 0, 1)
    assert figures.reasons == {MARKER_REFUSED: 1} and not figures.unreasoned
    with engine.connect() as conn:
        assert repo.load_blob(conn, hashlib.sha256(data).hexdigest()) == data and get_flag(conn, "synthetic") is None
