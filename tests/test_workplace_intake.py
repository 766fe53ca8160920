"""Uploading a batch as a principal: the same ingest and quarantine as the command line (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tipfusion.accounts.principal import Principal, Role
from tipfusion.config import Settings
from tipfusion.errors import NotFound
from tipfusion.synth import generate
from tipfusion.workplace import FieldErrors
from tipfusion.workplace.intake import ingest_upload, quarantine, retry_quarantined, upload_name

ANALYST = Principal("ana", Role.ANALYST)
LIMIT = 50 * 1024 * 1024


def _zip(folder: Path, extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in folder.rglob("*.xml") if "reference" not in p.parts):
            archive.write(path, path.relative_to(folder).as_posix())
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_upload_name_keeps_no_folder() -> None:
    assert upload_name("../../etc/batch 7.zip") == "batch_7.zip"
    assert upload_name("C:\\Users\\x\\b.zip") == "b.zip"
    assert upload_name(None) == "upload"


def test_upload_lands_once_and_quarantines_the_bad_document(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    batch = generate(tmp_path / "batch", 8, seed=5)
    broken = b"<?xml version='1.0'?><report><incidentSummary>"  # cut short
    data = _zip(batch.out, {"reports/broken.xml": broken})
    first = ingest_upload(engine, settings, ANALYST, "batch.zip", io.BytesIO(data), LIMIT)
    assert first.accepted == 8 and first.quarantined == 1
    again = ingest_upload(engine, settings, ANALYST, "batch.zip", io.BytesIO(data), LIMIT)
    assert again.accepted == 0 and again.new_documents == 0
    entries = quarantine(engine, ANALYST)
    assert len(entries) == 1 and "broken.xml" in entries[0].source_name
    results = retry_quarantined(engine, settings, ANALYST, [entries[0].id])
    assert results[0].outcome == "still_rejected"


def test_upload_refusals(engine: Engine, settings: Settings) -> None:
    with pytest.raises(FieldErrors) as raised:
        ingest_upload(engine, settings, ANALYST, "batch.tar", io.BytesIO(b"x"), LIMIT)
    assert set(raised.value.errors) == {"batch"}
    with pytest.raises(FieldErrors) as raised:
        ingest_upload(engine, settings, ANALYST, "batch.zip", io.BytesIO(b"PK" + b"0" * 100), 50)
    assert "limit" in raised.value.errors["batch"]
    station = Principal("sam", Role.STATION, station="PS Demopur 1")
    with pytest.raises(NotFound):
        ingest_upload(engine, settings, station, "b.zip", io.BytesIO(), 1)
    with pytest.raises(NotFound):
        quarantine(engine, station)
