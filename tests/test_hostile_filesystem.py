"""A batch folder is hostile (issue 14 §3): nothing outside it is read, nothing but regular files is opened, no
size limit is checked only after reading, and no archive expands past its limits. What is not read is named in the
summary as skipped; what is refused is quarantined with its reason; the rest of the batch lands."""

from __future__ import annotations

import io
import os
import signal
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from tests.conftest import FIXTURES
from tipfusion.config import Settings, XmlLimits
from tipfusion.errors import DocumentRejected
from tipfusion.ingest import IngestService, IngestSummary, sources
from tipfusion.ingest import quarantine as quarantine_service
from tipfusion.store.tables import reports, source_blobs, source_documents

REPORT = (FIXTURES / "100000042.xml").read_bytes()
GOOD = [100000001 + i for i in range(5)]
SECRET = b"SECRET: the unit's private notes, never to be ingested"


@pytest.fixture(autouse=True)
def no_hang() -> Iterator[None]:
    """A FIFO that is opened blocks for ever: fail the test instead of hanging the suite."""
    signal.signal(signal.SIGALRM, lambda *_: pytest.fail("ingest hung"))
    signal.alarm(60)
    yield
    signal.alarm(0)


def good_batch(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for report_id in GOOD:
        (folder / f"{report_id}.xml").write_bytes(report(report_id))
    return folder


def report(report_id: int) -> bytes:
    return REPORT.replace(b"quietfox87", f"fox{report_id}".encode())


def ingest(engine: Engine, settings: Settings, *paths: Path) -> IngestSummary:
    return IngestService(engine, settings, "tester").ingest_paths(list(paths))


def held(engine: Engine) -> set[int]:
    with engine.connect() as conn:
        return set(conn.execute(select(reports.c.report_id)).scalars())


def stored_bytes(engine: Engine) -> bytes:
    with engine.connect() as conn:
        return b"".join(bytes(b) for b in conn.execute(select(source_blobs.c.data)).scalars())


def test_links_out_of_the_batch_are_skipped_not_read(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    secret = tmp_path / "outside" / "notes.xml"
    secret.parent.mkdir()
    secret.write_bytes(SECRET)
    batch = good_batch(tmp_path / "batch")
    os.symlink(secret, batch / "100000090.xml")
    os.symlink("/etc/passwd", batch / "passwd.csv")
    os.symlink(secret.parent, batch / "elsewhere")  # a linked folder: not entered
    os.symlink(batch / "100000001.xml", batch / "100000006.xml")  # stays inside: read
    summary = ingest(engine, settings, batch)
    assert held(engine) == {*GOOD, 100000006} and summary.quarantined == 0
    skipped = "\n".join(summary.skipped)
    assert len(summary.skipped) == 3, skipped
    assert "100000090.xml: a link pointing outside the batch folder" in skipped
    assert "passwd.csv: a link pointing outside" in skipped and "elsewhere: a link to a folder" in skipped
    everything = stored_bytes(engine)
    assert SECRET not in everything and b"root:" not in everything
    assert summary.as_dict()["skipped"] == 3 and len(summary.as_dict()["skipped_files"]) == 3


def test_a_fifo_is_skipped_not_opened(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    batch = good_batch(tmp_path / "batch")
    os.mkfifo(batch / "100000091.xml")
    summary = ingest(engine, settings, batch)
    assert held(engine) == set(GOOD)
    assert summary.skipped == [f"{batch / '100000091.xml'}: not a regular file (a FIFO, device or socket): not read"]


def test_a_device_given_by_name_is_skipped(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    """`tipfusion ingest /dev/zero` must not read for ever."""
    summary = ingest(engine, settings, good_batch(tmp_path / "batch"), Path("/dev/zero"))
    assert held(engine) == set(GOOD)
    assert summary.skipped == ["/dev/zero: not a regular file (a FIFO, device or socket): not read"]


def test_a_sparse_file_past_the_limit_is_never_read(
    engine: Engine, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = good_batch(tmp_path / "batch")
    with open(batch / "100000092.xml", "wb") as handle:
        handle.truncate(8 << 30)  # 8 GiB of nothing, no disk used
    opened: list[str] = []
    real = sources._read_capped

    def spy(handle: io.RawIOBase, label: str, cap: int, is_zip: bool, expected: int = 0) -> bytes:
        opened.append(label)
        return real(handle, label, cap, is_zip, expected)

    monkeypatch.setattr(sources, "_read_capped", spy)
    summary = ingest(engine, settings, batch)
    assert held(engine) == set(GOOD) and summary.quarantined == 1
    assert not any(name.endswith("100000092.xml") for name in opened)
    (entry,) = quarantine_service.list_entries(engine)
    assert entry.reason == "too_large" and "8,589,934,592 bytes" in entry.message and "not read" in entry.message
    assert entry.source_name.endswith("100000092.xml")


def test_a_file_that_grows_past_its_size_is_cut_off_while_reading() -> None:
    """The size on disk may lie (a file still being written, a device): the limit holds while reading."""
    with pytest.raises(DocumentRejected) as caught:
        sources._read_capped(io.BytesIO(b"x" * 5000), "growing.xml", 1000, False)
    assert caught.value.reason == "too_large"


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def test_an_archive_past_its_compression_ratio_is_cut_off(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    """A flat zip of 20 MB of spaces in a few KB: the reports before it land, the padding is quarantined."""
    members = {f"{r}.xml": report(r) for r in GOOD}
    members["zz-padding.xml"] = b" " * (20 << 20)
    archive = tmp_path / "bomb.zip"
    archive.write_bytes(zip_bytes(members))
    summary = ingest(engine, settings, archive)
    assert held(engine) == set(GOOD) and summary.quarantined == 1
    (entry,) = quarantine_service.list_entries(engine)
    assert entry.reason == "archive_limit" and entry.pointer == "zz-padding.xml"
    assert "200× its own size" in entry.message and "TIPFUSION_MAX_ZIP_RATIO" in (entry.expected or "")
    with engine.connect() as conn:  # the archive itself is kept whole as the evidence
        sizes = set(conn.execute(select(source_documents.c.size)).scalars())
    assert archive.stat().st_size in sizes and (20 << 20) not in sizes


def test_an_archive_past_its_expanded_size_is_cut_off(engine: Engine, db_url: str, tmp_path: Path) -> None:
    """The absolute limit counts every member of the archive and of the zips inside it, in name order."""
    inner = zip_bytes({f"{r}.xml": report(r) for r in GOOD[3:]})
    archive = tmp_path / "batch.zip"
    archive.write_bytes(zip_bytes({**{f"{r}.xml": report(r) for r in GOOD[:3]}, "z-more.zip": inner}))
    allowance = 3 * len(report(GOOD[0])) + len(inner) + len(report(GOOD[3]))  # room for exactly one inner report
    limits = XmlLimits(max_archive_expanded_bytes=allowance)
    summary = ingest(engine, Settings(database_url=db_url, xml_limits=limits), archive)
    assert held(engine) == set(GOOD[:4]) and summary.quarantined == 1
    (entry,) = quarantine_service.list_entries(engine)
    assert entry.reason == "archive_limit" and entry.source_name.endswith(f"z-more.zip!{GOOD[4]}.xml")
    assert f"expands past {allowance:,} bytes" in entry.message


def test_a_folder_resolved_once_gives_each_path_its_real_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The walk resolves a folder once for all its files (sources._real); every path must still come out as
    os.path.realpath has it: plain files, links to files inside and outside, links to links, dangling links, files
    under a linked folder's real one, and paths given relative to the working directory."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.xml").write_bytes(SECRET)
    batch = tmp_path / "batch"
    (batch / "sub").mkdir(parents=True)
    (batch / "plain.xml").write_bytes(REPORT)
    (batch / "sub" / "deep.xml").write_bytes(REPORT)
    (batch / "to-plain.xml").symlink_to(batch / "plain.xml")
    (batch / "to-outside.xml").symlink_to(outside / "secret.xml")
    (batch / "to-link.xml").symlink_to(batch / "to-outside.xml")
    (batch / "dangling.xml").symlink_to(tmp_path / "nothing.xml")
    (batch / "sub" / "up.xml").symlink_to(Path("..") / "plain.xml")
    (tmp_path / "alias").symlink_to(batch)  # the whole batch reached through a linked folder
    monkeypatch.chdir(tmp_path)
    paths = [str(p) for p in sorted(batch.rglob("*"))] + ["alias/plain.xml", "alias/sub/deep.xml", "batch/plain.xml"]
    folders: dict[str, str] = {}
    for path in paths * 2:  # the second time from the cache
        assert sources._real(path, folders) == os.path.realpath(path), path
    assert folders  # the cache was used
