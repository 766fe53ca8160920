"""Ingest end to end on both databases: exactly once, versions, out-of-order files, quarantine, leads, zips."""

from __future__ import annotations

import csv
import shutil
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import IntegrityError

from tests.conftest import FIXTURES
from tipfusion.audit import verify
from tipfusion.config import Settings, XmlLimits
from tipfusion.ingest import IngestService, IngestSummary
from tipfusion.ingest import quarantine as quarantine_service
from tipfusion.store import repository as repo
from tipfusion.store.tables import (
    accounts,
    audit_events,
    files,
    identifier_observations,
    lead_identifiers,
    quarantine_entries,
    report_version_parts,
    report_versions,
    reports,
    source_blobs,
    source_documents,
)

REPORT = (FIXTURES / "100000042.xml").read_bytes()
FILE = (FIXTURES / "file-0a1b2c3d.xml").read_bytes()


def ingest(engine: Engine, settings: Settings, *paths: Path) -> IngestSummary:
    return IngestService(engine, settings, "tester").ingest_paths(list(paths))


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def count(engine: Engine, table: object, report_id: int | None = None) -> int:
    query = select(func.count()).select_from(table)  # type: ignore[arg-type]
    if report_id is not None:
        query = query.where(table.c.report_id == report_id)  # type: ignore[attr-defined]
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def truth_ids(batch: Path) -> set[int]:
    with (batch / "truth.csv").open() as fh:
        return {int(row["report_id"]) for row in csv.DictReader(fh)}


def test_synthetic_batch_lands_exactly_once(engine: Engine, settings: Settings, synthetic_batch: Path) -> None:
    first = ingest(engine, settings, synthetic_batch)
    expected = truth_ids(synthetic_batch)
    assert first.accepted == len(expected) and first.quarantined == 0 and first.synthetic
    assert first.lead_identifiers > 0
    assert len(first.reference_skipped) == 6  # demo .mmdb files, ISP table, warninglist, boundaries, PINs: not tips
    with engine.connect() as conn:
        assert set(conn.execute(select(reports.c.report_id)).scalars()) == expected
        assert repo.get_flag(conn, "synthetic") == "true"
        observations = repo.counts(conn)["observations"]
        # every stored document is kept byte for byte under its SHA-256
        doc = conn.execute(select(source_documents).limit(1)).first()
        assert doc is not None
        import hashlib

        assert hashlib.sha256(repo.load_blob(conn, doc.sha256)).hexdigest() == doc.sha256
    again = ingest(engine, settings, synthetic_batch)
    assert (again.accepted, again.updated, again.duplicates, again.new_documents) == (0, 0, len(expected), 0)
    with engine.connect() as conn:
        assert repo.counts(conn)["observations"] == observations
        assert verify(conn).ok


def test_json_batch(engine: Engine, settings: Settings, synthetic_json_batch: Path) -> None:
    summary = ingest(engine, settings, synthetic_json_batch)
    assert summary.accepted == len(truth_ids(synthetic_json_batch)) and summary.quarantined == 0
    assert ingest(engine, settings, synthetic_json_batch).duplicates == summary.accepted
    assert count(engine, files) > 0


def test_zip_batch_and_truncated_zip(engine: Engine, settings: Settings, synthetic_batch: Path, tmp_path: Path) -> None:
    archive = tmp_path / "batch.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(synthetic_batch.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(synthetic_batch).as_posix())
    summary = ingest(engine, settings, archive)
    assert summary.accepted == len(truth_ids(synthetic_batch)) and summary.quarantined == 0
    # the container is kept whole too, and each member records where it came from
    zip_sha = __import__("hashlib").sha256(archive.read_bytes()).hexdigest()
    with engine.connect() as conn:
        assert repo.load_blob(conn, zip_sha) == archive.read_bytes()
        members = conn.execute(
            select(func.count()).select_from(source_documents).where(source_documents.c.container_sha256 == zip_sha)
        ).scalar_one()
        assert members > summary.accepted
    truncated = tmp_path / "cut" / "truncated.zip"
    truncated.parent.mkdir()
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    cut = ingest(engine, settings, truncated)
    assert cut.quarantined == 1 and cut.accepted == 0 and "corrupt_zip" in cut.rejected[0]
    with engine.connect() as conn:
        entry = conn.execute(select(quarantine_entries).where(quarantine_entries.c.reason == "corrupt_zip")).one()
        assert entry.source_name.endswith("truncated.zip")
        assert repo.load_blob(conn, entry.source_sha256) == truncated.read_bytes()


def test_file_details_anywhere_in_the_batch(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    write(tmp_path / "a-files", "zz-first.xml", FILE)  # sorted before the report, in another folder
    write(tmp_path / "b-reports", "100000042.xml", REPORT)
    summary = ingest(engine, settings, tmp_path)
    assert (summary.accepted, summary.waiting_file_details) == (1, 0)
    assert count(engine, files, 100000042) == 1
    with engine.connect() as conn:
        roles = set(conn.execute(select(report_version_parts.c.role)).scalars())
    assert roles == {"report", "file_details"}


def test_orphan_file_details_wait_then_attach(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    early = ingest(engine, settings, write(tmp_path / "one", "f.xml", FILE))
    assert (early.accepted, early.waiting_file_details, early.quarantined) == (0, 1, 0)
    with engine.connect() as conn:
        (entry,) = repo.list_quarantine(conn)
    assert entry.reason == "orphan_file_details" and entry.report_id == 100000042
    assert "has not arrived yet" in entry.message
    # the same orphan again is not a second entry
    ingest(engine, settings, tmp_path / "one")
    assert len(quarantine_service.list_entries(engine)) == 1
    late = ingest(engine, settings, write(tmp_path / "two", "100000042.xml", REPORT))
    assert late.accepted == 1 and late.attached_file_details == 1
    assert count(engine, files, 100000042) == 1
    assert quarantine_service.list_entries(engine) == []
    # re-sending the report alone keeps the file: same composition, a duplicate
    assert ingest(engine, settings, tmp_path / "two").duplicates == 1


def test_file_details_for_a_report_held_from_an_earlier_batch(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    ingest(engine, settings, write(tmp_path / "one", "100000042.xml", REPORT))
    summary = ingest(engine, settings, write(tmp_path / "two", "f.xml", FILE))
    assert summary.updated == 1
    with engine.connect() as conn:
        assert conn.execute(select(reports.c.current_version)).scalar_one() == 2
    assert count(engine, files) == 1  # only version 2 has the file


def test_updated_report_becomes_a_new_version(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    write(tmp_path / "v1", "100000042.xml", REPORT)
    write(tmp_path / "v1", "f.xml", FILE)
    ingest(engine, settings, tmp_path / "v1")
    changed = REPORT.replace(b"<screenName>quietfox87</screenName>", b"<screenName>quietfox88</screenName>")
    summary = ingest(engine, settings, write(tmp_path / "v2", "100000042.xml", changed))
    assert (summary.accepted, summary.updated) == (0, 1)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(report_versions)).scalar_one() == 2
        current = set(
            conn.execute(
                select(identifier_observations.c.value).where(
                    identifier_observations.c.kind == "screen_name", identifier_observations.c.is_current.is_(True)
                )
            ).scalars()
        )
        history = set(
            conn.execute(
                select(identifier_observations.c.value).where(identifier_observations.c.kind == "screen_name")
            ).scalars()
        )
        assert current == {"quietfox88", "sunny_day_22"} and "quietfox87" in history
        assert repo.reports_with_value(conn, "screen_name", "quietfox87") == []
        assert repo.reports_with_value(conn, "screen_name", "quietfox88") == [100000042]
    assert count(engine, files, 100000042) == 2  # the file carried into version 2
    # the old content again is stale, not a revert
    assert ingest(engine, settings, tmp_path / "v1").duplicates == 1


def test_two_versions_in_one_batch(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    write(tmp_path, "a/100000042.xml", REPORT)
    write(tmp_path, "b/100000042.xml", REPORT.replace(b"quietfox87", b"quietfox99"))
    summary = ingest(engine, settings, tmp_path)
    assert (summary.accepted, summary.updated) == (1, 1)


def test_a_bad_report_never_half_lands(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    write(tmp_path, "100000042.xml", REPORT)
    bad = REPORT.replace(b"<ipAddress>192.0.2.200</ipAddress>", b"<ipAddress>192.0.2.999</ipAddress>")
    write(tmp_path, "100000043.xml", bad)
    write(tmp_path, "f43.xml", FILE.replace(b"100000042", b"100000043"))
    write(tmp_path, "garbage.txt", b"\x00\x01 not a report")
    summary = ingest(engine, settings, tmp_path)
    assert (summary.accepted, summary.quarantined, summary.waiting_file_details) == (1, 2, 1)
    for table in (reports, report_versions, accounts, identifier_observations, files):
        assert count(engine, table, 100000043) == 0
    entries = {e.reason: e for e in quarantine_service.list_entries(engine)}
    assert set(entries) == {"invalid_ip", "unrecognised_format", "orphan_file_details"}
    bad_entry = entries["invalid_ip"]
    assert bad_entry.report_id == 100000043 and bad_entry.source_name.endswith("100000043.xml")
    assert bad_entry.element == "report/intendedRecipient[1]/ipCaptureEvent[1]/ipAddress"
    assert bad_entry.expected == "an IPv4 or IPv6 address"
    with engine.connect() as conn:
        assert repo.load_blob(conn, bad_entry.source_sha256) == bad
        assert (
            conn.execute(
                select(func.count()).select_from(audit_events).where(audit_events.c.action == "document.quarantined")
            ).scalar_one()
            >= 2
        )


def test_bad_file_details_alone_is_quarantined(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    write(tmp_path, "100000042.xml", REPORT)
    write(tmp_path, "f.xml", FILE.replace(b"<ipAddress>203.0.113.45</ipAddress>", b"<ipAddress>nope</ipAddress>"))
    summary = ingest(engine, settings, tmp_path)
    assert (summary.accepted, summary.quarantined) == (1, 1)
    assert count(engine, files, 100000042) == 0
    (entry,) = quarantine_service.list_entries(engine)
    assert entry.reason == "invalid_ip" and entry.report_id == 100000042


def test_store_failure_isolates_one_report(
    engine: Engine, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "100000042.xml", REPORT)
    write(tmp_path, "100000044.xml", REPORT.replace(b"quietfox87", b"other"))
    real = repo.write_rows

    def flaky(conn: object, items: list[tuple[int, int, str]], rows: repo.ReportRows) -> None:
        real(conn, items, rows)  # type: ignore[arg-type]
        if any(report_id == 100000044 for report_id, _, _ in items):
            raise IntegrityError("insert", {}, Exception("simulated constraint failure"))

    monkeypatch.setattr(repo, "write_rows", flaky)
    summary = ingest(engine, settings, tmp_path)
    assert (summary.accepted, summary.quarantined) == (1, 1)
    assert count(engine, reports, 100000044) == 0 and count(engine, identifier_observations, 100000044) == 0
    assert count(engine, reports, 100000042) == 1
    (entry,) = quarantine_service.list_entries(engine)
    assert entry.reason == "store_error" and "simulated" in entry.message


def test_leads_csv(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    text = (
        "lead_ref,agency,kind,value,country,received_at,note\n"
        "L-1,Foreign Police,phone,+91 98110 12345,IN,2026-05-01T00:00:00Z,ring\n"
        "L-1,Foreign Police,phone,098110 12345,,,same number again\n"
        "L-1,Foreign Police,email,Fox@Example.com,,,\n"
    )
    summary = ingest(engine, settings, write(tmp_path, "lead.csv", text.encode()))
    assert summary.lead_identifiers == 2 and summary.quarantined == 0
    with engine.connect() as conn:
        values = set(conn.execute(select(lead_identifiers.c.canonical)).scalars())
    assert values == {"+919811012345", "fox@example.com"}
    bad = text + "L-2,X,fax,123,,,\nL-3,X,ip,999.1.1.1,,,\n"
    summary = ingest(engine, settings, write(tmp_path / "bad", "lead.csv", bad.encode()))
    assert summary.quarantined == 1 and summary.lead_identifiers == 0
    (entry,) = quarantine_service.list_entries(engine)
    assert "line 5: kind 'fax'" in entry.message and "line 6" in entry.message


def test_leads_csv_written_a_chunk_at_a_time_lands_whole_or_not_at_all(
    engine: Engine, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lead list is read and written a few items at a time (a list of a million rows is never held whole), yet it
    still lands whole or not at all: a bad row after several written chunks undoes them, and an item repeated in a
    later chunk is stored once."""
    from tipfusion.ingest import service

    monkeypatch.setattr(service, "LEADS_PER_WRITE", 4)
    header = "lead_ref,agency,kind,value,country,received_at,note\n"
    rows = [f"L-9,Foreign Police,email,fox{i % 7}@example.com,,," for i in range(23)]  # 7 distinct, over 6 chunks
    summary = ingest(engine, settings, write(tmp_path, "lead.csv", (header + "\n".join(rows) + "\n").encode()))
    assert (summary.lead_identifiers, summary.quarantined) == (7, 0)
    assert count(engine, lead_identifiers) == 7
    with engine.connect() as conn:
        (event,) = [e for e in conn.execute(select(audit_events.c.details)).scalars() if "identifiers" in e]
    assert event["identifiers"] == 7 and event["leads"] == ["L-9"]
    fresh = [f"L-10,Foreign Police,email,owl{i}@example.com,,," for i in range(21)] + ["L-10,X,fax,123,,,"]
    summary = ingest(engine, settings, write(tmp_path / "bad", "lead.csv", (header + "\n".join(fresh)).encode()))
    assert (summary.lead_identifiers, summary.quarantined) == (0, 1)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).where(lead_identifiers.c.lead_ref == "L-10")).scalar_one() == 0
    (entry,) = quarantine_service.list_entries(engine)
    assert entry.source_name.endswith("lead.csv") and "1 bad row(s): line 23: kind 'fax'" in entry.message


def test_quarantine_retry(engine: Engine, db_url: str, tmp_path: Path) -> None:
    small = Settings(database_url=db_url, xml_limits=XmlLimits(max_document_bytes=1000))
    summary = ingest(engine, small, write(tmp_path, "100000042.xml", REPORT))
    assert summary.quarantined == 1
    (entry,) = quarantine_service.list_entries(engine)
    assert entry.reason == "too_large"
    still = quarantine_service.retry(engine, small, "tester", [entry.id])
    assert still[0].outcome == "still_rejected"
    (newer,) = quarantine_service.list_entries(engine)
    roomy = Settings(database_url=db_url)
    done = quarantine_service.retry(engine, roomy, "tester", [newer.id])
    assert done[0].outcome == "resolved"
    assert quarantine_service.list_entries(engine) == []
    assert count(engine, reports) == 1
    statuses = [e.status for e in quarantine_service.list_entries(engine, None)]
    assert statuses == ["superseded", "resolved"]


def test_audit_chain_detects_tampering(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    write(tmp_path, "100000042.xml", REPORT)
    ingest(engine, settings, tmp_path)
    with engine.begin() as conn:
        assert verify(conn).ok
        conn.execute(update(audit_events).where(audit_events.c.seq == 1).values(actor="someone else"))
    with engine.connect() as conn:
        report = verify(conn)
    assert report.first_broken == 1 and "altered" in (report.problem or "")
    with engine.begin() as conn:
        conn.execute(update(audit_events).where(audit_events.c.seq == 1).values(actor="tester"))
        assert verify(conn).ok
        conn.execute(audit_events.delete().where(audit_events.c.seq == 1))
    with engine.connect() as conn:
        assert verify(conn).first_broken == 2


def test_blobs_are_chunked_for_large_documents(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(repo, "BLOB_CHUNK", 100)
    data = bytes(range(256)) * 3
    import hashlib

    sha = hashlib.sha256(data).hexdigest()
    with engine.begin() as conn:
        repo.store_sources(conn, [repo.SourceRow(sha, "big.bin", data, "test")], run_id=0)
        assert conn.execute(select(func.count()).select_from(source_blobs)).scalar_one() == 8
        assert repo.load_blob(conn, sha) == data


def test_synthetic_fixture_is_untouched(synthetic_batch: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(synthetic_batch, copy)
    assert sorted(p.name for p in copy.iterdir()) == [
        "SYNTHETIC-DATA.json",
        "files",
        "leads",
        "reference",
        "reports",
        "truth.csv",
    ]


def test_worker_processes_give_the_same_store(
    engine: Engine, db_url: str, synthetic_batch: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Parsing in worker processes (the path large batches take, each chunk shared among them) lands exactly what
    inline parsing lands: every row of every ingest table, column by column and in the same order, on either
    database (compared with an inline SQLite store)."""
    from dataclasses import replace

    parallel = replace(Settings(database_url=db_url), ingest_workers=2, reports_per_transaction=20)
    summary = ingest(engine, parallel, synthetic_batch)
    assert summary.accepted == len(truth_ids(synthetic_batch)) and summary.quarantined == 0
    inline_url = f"sqlite:///{tmp_path_factory.mktemp('inline') / 'inline.db'}"
    from tipfusion.store.db import make_engine, upgrade

    inline_engine = make_engine(inline_url)
    upgrade(inline_engine)
    ingest(inline_engine, replace(Settings(database_url=inline_url), ingest_workers=0), synthetic_batch)

    assert store_content(engine) == store_content(inline_engine)
    assert ingest(engine, parallel, synthetic_batch).duplicates == summary.accepted


def test_zip_member_in_a_compression_python_cannot_read(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    """Deflate64 (method 9, written by Windows Explorer for large files): the member is quarantined, named."""
    archive = tmp_path / "deflate64.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("100000042.xml", (FIXTURES / "100000042.xml").read_bytes())
    data = bytearray(archive.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):  # local header, central directory
        at = data.index(signature)
        data[at + offset : at + offset + 2] = (9).to_bytes(2, "little")
    archive.write_bytes(bytes(data))
    summary = ingest(engine, settings, archive)
    assert summary.quarantined == 1 and summary.accepted == 0
    with engine.connect() as conn:
        entry = conn.execute(select(quarantine_entries)).one()
    assert entry.reason == "corrupt_zip_member" and entry.source_name.endswith("deflate64.zip!100000042.xml")
    assert "compression method" in entry.message and entry.pointer == "100000042.xml"
    with engine.connect() as conn:  # the entry points into the container, kept whole
        assert repo.load_blob(conn, entry.source_sha256) == bytes(data)


def test_zip_member_over_the_size_limit_is_quarantined_and_retried(engine: Engine, db_url: str, tmp_path: Path) -> None:
    archive = tmp_path / "big.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("100000042.xml", REPORT)
    small = Settings(database_url=db_url, xml_limits=XmlLimits(max_document_bytes=1000))
    summary = ingest(engine, small, archive)
    assert (summary.quarantined, summary.accepted) == (1, 0)
    (entry,) = quarantine_service.list_entries(engine)
    assert entry.reason == "too_large" and entry.pointer == "100000042.xml"
    done = quarantine_service.retry(engine, Settings(database_url=db_url), "tester", [entry.id])
    assert done[0].outcome == "resolved" and count(engine, reports) == 1


@pytest.mark.parametrize("stream_above", [4 * 1024 * 1024, 0], ids=["whole_document", "streamed"])
def test_a_doctype_after_a_long_comment_is_quarantined_on_both_parse_paths(
    engine: Engine, db_url: str, tmp_path: Path, stream_above: int
) -> None:
    """The DTD sits past the first 64 KiB (where the check used to stop); its entity must never land as cut text."""
    declaration, rest = REPORT.split(b"\n", 1)
    hostile = (
        declaration
        + b"\n<!--"
        + b"x" * (65 * 1024)
        + b'-->\n<!DOCTYPE report [<!ENTITY e "EXPANDED">]>\n'
        + rest.replace(b"Time the upload", b"Time &e; the upload")
    )
    write(tmp_path, "100000042.xml", hostile)
    limits = XmlLimits(stream_above_bytes=stream_above)
    summary = ingest(engine, Settings(database_url=db_url, xml_limits=limits), tmp_path)
    assert (summary.accepted, summary.quarantined) == (0, 1)
    (entry,) = quarantine_service.list_entries(engine)
    assert (entry.reason, entry.line, entry.element) == ("dtd_forbidden", 3, "<!DOCTYPE>")
    assert entry.expected == "no DOCTYPE declaration" and entry.source_name.endswith("100000042.xml")
    assert count(engine, reports) == 0


# what an ingest writes, less what differs between two runs of the same batch (ids, times of the run, run numbers)
INGEST_TABLES = (
    "reports",
    "report_versions",
    "report_version_parts",
    "report_annotations",
    "accounts",
    "estimated_locations",
    "files",
    "identifier_observations",
    "source_documents",
    "source_blobs",
    "quarantine_entries",
    "leads",
    "lead_identifiers",
)
RUN_COLUMNS = {"id", "run_id", "ingested_at", "first_ingested_at", "updated_at", "received_at", "created_at"}


def store_content(engine: Engine) -> dict[str, list[tuple[str, ...]]]:
    """Every ingest table's rows as text, comparable across databases (times in UTC, bytes as hex, JSON with sorted
    keys); in insertion order where the table numbers its rows (observations: their order is part of what was
    written), else sorted."""
    import json
    from datetime import UTC, datetime

    from tipfusion.store.tables import metadata

    def text(value: object) -> str:
        if isinstance(value, datetime):
            assert value.tzinfo is not None, "a naive time in the store"
            return value.astimezone(UTC).isoformat()
        if isinstance(value, bytes | memoryview):
            return bytes(value).hex()
        if isinstance(value, dict | list):  # PostgreSQL's jsonb keeps keys in its own order
            return json.dumps(value, sort_keys=True)
        return repr(value)

    out: dict[str, list[tuple[str, ...]]] = {}
    with engine.connect() as conn:
        for name in INGEST_TABLES:
            table = metadata.tables[name]
            query = select(*(c for c in table.c if c.name not in RUN_COLUMNS))
            rows = [tuple(text(v) for v in row) for row in conn.execute(query.order_by(*table.primary_key.columns))]
            out[name] = rows if "id" in table.c else sorted(rows)
    return out
