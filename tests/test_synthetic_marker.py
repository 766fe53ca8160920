"""The synthetic-data marker flags only a store that holds nothing but its own batch (or `--synthetic` on purpose):
a stray `SYNTHETIC-DATA.json` or ground-truth CSV in a batch of real reports is refused — kept whole, quarantined with
the reason — and never puts a false "synthetic" banner on the store and every document sent from it."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from sqlalchemy import Engine, select

from tests.conftest import FIXTURES
from tipfusion.audit import verify
from tipfusion.config import Settings
from tipfusion.domain.quarantine import MARKER_REFUSED
from tipfusion.ingest import IngestService, IngestSummary
from tipfusion.store import repository as repo
from tipfusion.store.tables import ingest_runs, quarantine_entries, source_documents

MARKER = b'{"synthetic": true, "generator": "tipfusion synth"}\n'


def ingest(engine: Engine, settings: Settings, *paths: Path, synthetic: bool = False) -> IngestSummary:
    return IngestService(engine, settings, "tester", synthetic=synthetic).ingest_paths(list(paths))


def flag(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return repo.get_flag(conn, "synthetic")


def real_store(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    """A store holding one real report (no marker anywhere)."""
    real = tmp_path / "real"
    real.mkdir()
    shutil.copy(FIXTURES / "100000042.xml", real)
    assert ingest(engine, settings, real).accepted == 1 and flag(engine) is None


def stray(tmp_path: Path, name: str, data: bytes) -> Path:
    """A later batch of real reports with a stray marker in it."""
    folder = tmp_path / "stray"
    folder.mkdir(parents=True)
    shutil.copy(FIXTURES / "full" / "300000001.xml", folder)
    (folder / name).write_bytes(data)
    return folder


def test_a_stray_marker_does_not_flag_a_store_of_real_reports(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    real_store(engine, settings, tmp_path)
    for name, data in [("SYNTHETIC-DATA.json", MARKER), ("notes.csv", b"report_id,person_id\n100000042,p1\n")]:
        batch = stray(tmp_path / name, name, data)
        summary = ingest(engine, settings, batch)
        assert not summary.synthetic and flag(engine) is None
        assert summary.quarantined == 1 and len(summary.marker_refused) == 1
        assert "100000042" in summary.marker_refused[0] and "--synthetic" in summary.marker_refused[0]
        assert any(MARKER_REFUSED in line and name in line for line in summary.rejected)
        sha = hashlib.sha256(data).hexdigest()
        with engine.connect() as conn:  # kept whole, and the quarantine says why
            kept = conn.execute(select(source_documents.c.format).where(source_documents.c.sha256 == sha)).scalar()
            assert kept == "synthetic_marker" and repo.load_blob(conn, sha) == data
            entry = conn.execute(select(quarantine_entries).where(quarantine_entries.c.source_sha256 == sha)).one()
            assert entry.reason == MARKER_REFUSED and entry.status == "open" and "NOT flagged" in entry.message
            assert verify(conn).ok
            run = conn.execute(select(ingest_runs.c.summary).where(ingest_runs.c.id == summary.run_id)).scalar_one()
            assert run["synthetic_marker_refused"] == summary.marker_refused and not run["synthetic"]


def test_synthetic_on_purpose_flags_a_store_that_holds_other_reports(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    real_store(engine, settings, tmp_path)
    summary = ingest(engine, settings, stray(tmp_path, "SYNTHETIC-DATA.json", MARKER), synthetic=True)
    assert summary.synthetic and not summary.marker_refused and summary.quarantined == 0
    assert flag(engine) == "true"


def test_the_marker_flags_a_store_holding_only_its_own_batch(
    engine: Engine, settings: Settings, synthetic_batch: Path, tmp_path: Path
) -> None:
    """A synthetic batch whose first run was killed before its end (its reports landed, the flag not yet set) is
    flagged when it is ingested again: every report held is one the batch brings."""
    unmarked = tmp_path / "unmarked"
    shutil.copytree(synthetic_batch, unmarked)
    (unmarked / "SYNTHETIC-DATA.json").unlink()
    (unmarked / "truth.csv").unlink()
    first = ingest(engine, settings, unmarked)
    assert first.accepted > 0 and not first.synthetic and flag(engine) is None
    again = ingest(engine, settings, synthetic_batch)
    assert again.synthetic and not again.marker_refused and again.quarantined == 0 and flag(engine) == "true"


def test_a_synthetic_store_stays_synthetic(
    engine: Engine, settings: Settings, synthetic_batch: Path, tmp_path: Path
) -> None:
    assert ingest(engine, settings, synthetic_batch).synthetic and flag(engine) == "true"
    later = ingest(engine, settings, stray(tmp_path, "SYNTHETIC-DATA.json", MARKER + b" "))
    assert later.synthetic and not later.marker_refused and later.quarantined == 0 and flag(engine) == "true"
