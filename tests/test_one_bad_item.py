"""One bad item never sinks the batch: five good reports land beside each hostile kind, which alone is quarantined
with its reason (issue 14 §1), on SQLite and PostgreSQL."""

from __future__ import annotations

import errno
import io
import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from tests.conftest import FIXTURES
from tipfusion.config import Settings
from tipfusion.errors import InputRefused
from tipfusion.ingest import IngestService, sources
from tipfusion.ingest import quarantine as quarantine_service
from tipfusion.ingest.ids import MAX_REPORT_ID, BadReportId, parse_report_id
from tipfusion.store.tables import lead_identifiers, reports

REPORT = (FIXTURES / "100000042.xml").read_bytes()
JSON_REPORT = json.loads((FIXTURES / "police-100000042.json").read_text())
GOOD = [100000001 + i for i in range(5)]


def good_batch(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for report_id in GOOD:
        (folder / f"{report_id}.xml").write_bytes(REPORT.replace(b"quietfox87", f"fox{report_id}".encode()))
    return folder


def zip_of(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, data)
    return buffer.getvalue()


def json_with_id(report_id: object) -> bytes:
    return json.dumps(dict(JSON_REPORT, reportId=report_id)).encode()


def nested_zip(depth: int) -> bytes:
    data = zip_of("100000077.xml", REPORT)
    for level in range(depth):
        data = zip_of(f"level{level}.zip", data)
    return data


def encrypted_zip() -> bytes:
    """A member marked encrypted (bit 0 of its flags), as a password-protected zip from Windows arrives."""
    data = bytearray(zip_of("100000078.xml", REPORT))
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # local header, central directory
        at = data.index(signature)
        data[at + offset] |= 0x1
    return bytes(data)


def dangling(folder: Path) -> None:
    os.symlink(folder / "sub" / "gone.xml", folder / "100000079.xml")  # inside the batch, to nothing


LEADS = b"lead_ref,agency,kind,value,country,received_at,note\nL1,BKA,email,a@example.com,GB,,\n"


def write(name: str, data: bytes) -> Callable[[Path], None]:
    return lambda folder: (folder / name).write_bytes(data)


# kind -> (how to put it in the batch, the reason its quarantine entry carries)
HOSTILE: dict[str, tuple[Callable[[Path], None], str]] = {
    "id_over_64_bits": (write("99999999999999999999.xml", REPORT), "report_id_out_of_range"),
    "id_just_over_64_bits": (write(f"{MAX_REPORT_ID + 1}.xml", REPORT), "report_id_out_of_range"),
    "id_in_superscript_digits": (write("²³.xml", REPORT), "missing_report_id"),
    "json_id_over_64_bits": (write("big.json", json_with_id(2**64)), "report_id_out_of_range"),
    "json_id_in_arabic_digits": (write("arabic.json", json_with_id("١٢٣")), "missing_report_id"),
    "file_details_id_over_64_bits": (
        write("f.xml", (FIXTURES / "file-0a1b2c3d.xml").read_bytes().replace(b"100000042", b"9" * 19)),
        "report_id_out_of_range",
    ),
    "json_nested_10000_deep": (write("deep.json", b"[" * 10_000 + b"]" * 10_000), "too_deep"),
    "zip_nested_past_the_depth_limit": (write("nested.zip", nested_zip(6)), "zip_too_deep"),
    "encrypted_zip_member": (write("locked.zip", encrypted_zip()), "encrypted_zip_member"),
    "dangling_symlink": (dangling, "unreadable"),
    # lead lists (found by the reliability suite): a field past the csv module's 128 KiB limit; a NUL, which
    # PostgreSQL text refuses and SQLite would keep (now refused on both, by line and column)
    "leads_field_over_the_csv_limit": (
        write("leads.csv", LEADS + b'L2,BKA,email,b@example.com,GB,,"' + b"n" * 200_000 + b'"\n'),
        "malformed_csv",
    ),
    "leads_nul_in_a_value": (write("leads.csv", LEADS + b"L2,BKA,email,b\x00@example.com,GB,,\n"), "invalid_rows"),
    "leads_nul_in_a_note": (write("leads.csv", LEADS + b"L2,BKA,email,b@example.com,GB,,x\x00y\n"), "invalid_rows"),
}


def test_a_bad_lead_list_says_which_line_and_column(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    batch = good_batch(tmp_path / "batch")
    HOSTILE["leads_nul_in_a_note"][0](batch)
    IngestService(engine, settings, "tester").ingest_paths([batch])
    (entry,) = quarantine_service.list_entries(engine)
    assert "line 3: column 'note' contains a NUL byte (0x00)" in entry.message
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(lead_identifiers)).scalar_one() == 0  # whole or nothing


def reports_held(engine: Engine) -> set[int]:
    with engine.connect() as conn:
        return set(conn.execute(select(reports.c.report_id)).scalars())


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_five_good_reports_land_beside_each_bad_kind(
    engine: Engine, settings: Settings, tmp_path: Path, kind: str
) -> None:
    batch = good_batch(tmp_path / "batch")
    put, reason = HOSTILE[kind]
    put(batch)
    summary = IngestService(engine, settings, "tester").ingest_paths([batch])
    assert reports_held(engine) == set(GOOD)
    assert summary.accepted == 5 and summary.quarantined == 1
    (entry,) = quarantine_service.list_entries(engine)
    assert entry.reason == reason
    assert entry.message and entry.expected and entry.source_name.startswith(str(batch))


def test_an_unreadable_file_is_quarantined_and_the_rest_lands(
    engine: Engine, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """EIO half-way through one file (a failing disk, a network share that went away)."""
    batch = good_batch(tmp_path / "batch")
    (batch / "100000080.xml").write_bytes(REPORT)
    real = sources._read_capped

    def failing(handle: io.RawIOBase, label: str, cap: int, is_zip: bool, expected: int = 0) -> bytes:
        if label.endswith("100000080.xml"):
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real(handle, label, cap, is_zip, expected)

    monkeypatch.setattr(sources, "_read_capped", failing)
    summary = IngestService(engine, settings, "tester").ingest_paths([batch])
    assert reports_held(engine) == set(GOOD) and summary.quarantined == 1
    (entry,) = quarantine_service.list_entries(engine)
    assert entry.reason == "unreadable" and "Input/output error" in entry.message
    assert entry.source_name.endswith("100000080.xml")


def test_a_parser_crash_rejects_that_report_alone(
    engine: Engine, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure nobody foresaw (here a RuntimeError inside the parser) is that report's, with its name."""
    from tipfusion.ingest import esp_xml

    batch = good_batch(tmp_path / "batch")
    (batch / "100000081.xml").write_bytes(REPORT.replace(b"quietfox87", b"crash-me"))
    real = esp_xml.parse_report

    def crashing(data: bytes, **kwargs: object) -> object:
        if b"crash-me" in data:
            raise RuntimeError("unforeseen")
        return real(data, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(esp_xml, "parse_report", crashing)
    summary = IngestService(engine, settings, "tester").ingest_paths([batch])
    assert reports_held(engine) == set(GOOD) and summary.quarantined == 1
    (entry,) = quarantine_service.list_entries(engine)
    assert entry.reason == "parse_failed" and "RuntimeError: unforeseen" in entry.message
    assert entry.report_id == 100000081


def test_a_value_too_long_for_its_column_fails_that_report_alone(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    """PostgreSQL refuses a value longer than its column (SQLite stores it): one savepoint per report on refusal."""
    batch = good_batch(tmp_path / "batch")
    long_reason = b'<batchedReport reason="' + b"x" * 300 + b'"/>'
    (batch / "100000082.xml").write_bytes(REPORT.replace(b"<incidentSummary>", long_reason + b"<incidentSummary>", 1))
    summary = IngestService(engine, settings, "tester").ingest_paths([batch])
    if engine.dialect.name == "postgresql":
        assert reports_held(engine) == set(GOOD) and summary.quarantined == 1
        (entry,) = quarantine_service.list_entries(engine)
        assert entry.reason == "store_error" and entry.report_id == 100000082
    else:
        assert reports_held(engine) == {*GOOD, 100000082}


def test_an_actor_longer_than_the_column_is_refused_before_anything_is_written(
    engine: Engine, settings: Settings
) -> None:
    with pytest.raises(InputRefused, match="1 to 200 characters"):
        IngestService(engine, settings, "x" * 201)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(reports)).scalar_one() == 0


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("42", 42), (" 0042 ", 42), (42, 42), (str(MAX_REPORT_ID), MAX_REPORT_ID)],
)
def test_report_ids_that_are_accepted(raw: object, expected: int) -> None:
    assert parse_report_id(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("²³", "missing_report_id"),
        ("١٢٣", "missing_report_id"),
        ("1_000", "missing_report_id"),
        ("-5", "missing_report_id"),
        ("", "missing_report_id"),
        (None, "missing_report_id"),
        (True, "missing_report_id"),
        (str(MAX_REPORT_ID + 1), "report_id_out_of_range"),
        ("9" * 5000, "report_id_out_of_range"),
    ],
)
def test_report_ids_that_are_refused(raw: object, reason: str) -> None:
    with pytest.raises(BadReportId) as caught:
        parse_report_id(raw)
    assert caught.value.reason == reason


def test_refused_documents_are_stored_as_they_pile_up_not_held_to_the_end(
    engine: Engine, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the full fuzz run held a batch's five 72 MiB bad documents whole until pass 1 ended (426 MiB): past
    # REJECTED_BYTES_HELD they are stored and quarantined at once, each exactly once, and the good reports land
    from tipfusion.ingest import service as ingest_service
    from tipfusion.store.tables import source_documents

    monkeypatch.setattr(ingest_service, "REJECTED_BYTES_HELD", 1)
    batch = good_batch(tmp_path / "batch")
    bad = {f"bad{i}.xml": b"<report><broken" + bytes([65 + i]) * 100 for i in range(4)}
    for name, data in bad.items():
        (batch / name).write_bytes(data)
    summary = IngestService(engine, settings, "tester").ingest_paths([batch])
    assert reports_held(engine) == set(GOOD)
    assert summary.accepted == 5 and summary.quarantined == 4
    entries = quarantine_service.list_entries(engine)
    assert sorted(Path(e.source_name).name for e in entries) == sorted(bad)
    with engine.connect() as conn:
        kept = conn.execute(select(func.count()).select_from(source_documents)).scalar_one()
    again = IngestService(engine, settings, "tester").ingest_paths([batch])  # re-ingest: nothing new
    assert again.accepted == 0 and len(quarantine_service.list_entries(engine)) == 4
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(source_documents)).scalar_one() == kept
