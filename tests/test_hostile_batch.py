"""One bad item never sinks a batch, and a batch never reaches outside itself: each hostile item beside five good
reports is quarantined (or skipped, for what is not a document) with its reason, and the five good ones land."""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from tipfusion.config import Settings, XmlLimits
from tipfusion.ingest import IngestService
from tipfusion.store.tables import quarantine_entries, reports, source_documents

GOOD = (
    "<report><incidentSummary><incidentType>Child Pornography (possession, manufacture, and distribution)"
    "</incidentType><incidentDateTime>2025-03-14T21:07:33Z</incidentDateTime></incidentSummary>"
    "<reporter><reportingPerson><email>t@esp.test</email></reportingPerson></reporter>"
    "<personOrUserReported><espIdentifier>u-{n}</espIdentifier></personOrUserReported></report>"
)


def _good(folder: Path) -> None:
    for n in range(5):
        (folder / f"{100000700 + n}.xml").write_text(GOOD.format(n=n))


def _nested_zip(depth: int) -> bytes:
    data = GOOD.format(n="deep").encode()
    name = "100000799.xml"
    for level in range(depth):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(name, data)
        data, name = buffer.getvalue(), f"level{level}.zip"
    return data


def _encrypted_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("100000798.xml", GOOD.format(n="enc"))
    raw = bytearray(buffer.getvalue())
    # set the "encrypted" flag bit in the local header and the central directory entry
    raw[6] |= 1
    central = raw.rfind(b"PK\x01\x02")
    raw[central + 8] |= 1
    return bytes(raw)


HOSTILE: dict[str, Callable[[Path], None]] = {
    "report id past 64 bits": lambda d: (d / "99999999999999999999.xml").write_text(GOOD.format(n="big")),
    "report id in superscript digits": lambda d: (d / "²³.xml").write_text(GOOD.format(n="sup")),
    "fileDetails with a report id past 64 bits": lambda d: (d / "fd.xml").write_text(
        "<fileDetails><reportId>99999999999999999999</reportId><fileId>f1</fileId></fileDetails>"
    ),
    "JSON report id past 64 bits": lambda d: (d / "big.json").write_text(
        json.dumps({"reportId": 99999999999999999999, "reportedInformation": {"reportingEsp": {"espName": "x"}}})
    ),
    "JSON nested 10,000 deep": lambda d: (d / "deep.json").write_text("[" * 10000 + "]" * 10000),
    "zip nested past the recursion limit": lambda d: (d / "deep.zip").write_bytes(_nested_zip(40)),
    "encrypted zip member": lambda d: (d / "enc.zip").write_bytes(_encrypted_zip()),
    "dangling symlink": lambda d: os.symlink(d / "nowhere.xml", d / "100000797.xml"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_one_bad_item_never_sinks_the_batch(engine: Engine, settings: Settings, tmp_path: Path, case: str) -> None:
    batch = tmp_path / "batch"
    batch.mkdir()
    _good(batch)
    HOSTILE[case](batch)
    summary = IngestService(engine, settings, "test").ingest_paths([batch])
    with engine.connect() as conn:
        landed = set(conn.execute(select(reports.c.report_id)).scalars())
        entries = conn.execute(select(quarantine_entries)).all()
    assert {100000700 + n for n in range(5)} <= landed, case
    assert entries or summary.skipped, f"{case}: neither quarantined nor recorded as skipped"
    assert all(e.message for e in entries)


def test_symlinks_never_leave_the_batch(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    secret = tmp_path / "secret.xml"
    secret.write_text(GOOD.format(n="secret"))
    batch = tmp_path / "batch"
    batch.mkdir()
    _good(batch)
    os.symlink(secret, batch / "100000790.xml")
    os.symlink("/etc/passwd", batch / "passwd")
    inside = batch / "inside"
    inside.mkdir()
    os.symlink(batch / "100000700.xml", inside / "100000700.xml")  # within the batch: allowed, same document
    summary = IngestService(engine, settings, "test").ingest_paths([batch])
    with engine.connect() as conn:
        names = set(conn.execute(select(source_documents.c.name)).scalars())
        landed = set(conn.execute(select(reports.c.report_id)).scalars())
    assert 100000790 not in landed
    assert not any("secret" in n or "passwd" in n for n in names)
    assert {Path(s.split(": ", 1)[0]).name for s in summary.skipped} >= {"100000790.xml", "passwd"}


def test_a_fifo_is_skipped_not_waited_on(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    batch = tmp_path / "batch"
    batch.mkdir()
    _good(batch)
    os.mkfifo(batch / "pipe.xml")
    summary = IngestService(engine, settings, "test").ingest_paths([batch])
    assert summary.accepted == 5
    assert [Path(s.split(": ", 1)[0]).name for s in summary.skipped] == ["pipe.xml"]


def test_size_limit_holds_while_reading(engine: Engine, db_url: str, tmp_path: Path) -> None:
    """A sparse file far over the limit is refused after reading just past the limit, never read whole."""
    batch = tmp_path / "batch"
    batch.mkdir()
    _good(batch)
    with open(batch / "huge.xml", "wb") as handle:
        handle.truncate(8 * 1024**3)  # 8 GB, sparse
    settings = Settings(database_url=db_url, xml_limits=XmlLimits(max_document_bytes=1024 * 1024))
    summary = IngestService(engine, settings, "test").ingest_paths([batch])
    assert summary.accepted == 5
    with engine.connect() as conn:
        reasons = set(conn.execute(select(quarantine_entries.c.reason)).scalars())
    assert reasons == {"too_large"}


def test_a_flat_zip_bomb_is_capped(engine: Engine, db_url: str, tmp_path: Path) -> None:
    """Members past the archive's expansion budget are quarantined with the reason, not stored."""
    batch = tmp_path / "batch"
    batch.mkdir()
    _good(batch)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for n in range(40):
            archive.writestr(f"junk{n}.xml", "<report>" + " " * (2 * 1024 * 1024) + "</report>")
    (batch / "bomb.zip").write_bytes(buffer.getvalue())
    settings = Settings(database_url=db_url, xml_limits=XmlLimits(max_document_bytes=4 * 1024 * 1024))
    summary = IngestService(engine, settings, "test").ingest_paths([batch])
    assert summary.accepted == 5
    with engine.connect() as conn:
        stored = conn.execute(select(func.sum(source_documents.c.size))).scalar_one()
        reasons = set(conn.execute(select(quarantine_entries.c.reason)).scalars())
    assert "compression_ratio" in reasons or "archive_limit" in reasons
    assert stored < 10 * 1024 * 1024


def test_the_store_never_ingests_itself(tmp_path: Path) -> None:
    """`ingest .` beside a SQLite store skips the store and its WAL/SHM instead of storing copies of itself."""
    from tipfusion.store.db import make_engine, upgrade

    folder = tmp_path / "work"
    folder.mkdir()
    _good(folder)
    url = f"sqlite:///{folder / 'tipfusion.db'}"
    engine = make_engine(url)
    upgrade(engine)
    settings = Settings(database_url=url)
    IngestService(engine, settings, "test").ingest_paths([folder])
    summary = IngestService(engine, settings, "test").ingest_paths([folder])
    with engine.connect() as conn:
        names = set(conn.execute(select(source_documents.c.name)).scalars())
    engine.dispose()
    assert not any("tipfusion.db" in n for n in names)
    assert any("tipfusion.db" in s for s in summary.skipped)
