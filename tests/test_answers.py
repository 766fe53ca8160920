"""ISP answers: validated and matched like ingest; they become identity and routing evidence."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine, func, select

from tests.conftest import FIXTURES, StoreTemplates
from tipfusion.config import Settings
from tipfusion.enrich.demo import build_demo_reference
from tipfusion.enrich.service import EnrichConfig, EnrichService
from tipfusion.errors import DocumentRejected
from tipfusion.ingest import IngestService
from tipfusion.link.service import LinkService
from tipfusion.requests.answers import ingest_answers
from tipfusion.requests.service import build_requests, list_requests, mark_sent
from tipfusion.route.jurisdictions import demo_jurisdiction
from tipfusion.route.service import import_jurisdiction, route_all, routing_rows
from tipfusion.store.db import make_engine, upgrade
from tipfusion.store.tables import isp_answers, quarantine_entries

FIXED = "Example Fixed Broadband (synthetic)"
V6 = "2001:db8:85a3::8a2e:370:7334"
# the ISP's answer for V6, in its own log zone (Asia/Kolkata) without a zone, as its spreadsheet has it
SUBSCRIBER_ONE = [
    V6,
    None,
    "2025-03-15 02:25:02",
    "Subscriber One",
    "House 1, Demopur sector 3",
    "903003",
    "98110 12345",
    "sub.one@example.com",
    "Voter ID",
    "ABC 1234567",
    "FTTH",
]
ANSWER_HEADER = [
    "IP Address",
    "Source Port",
    "Session Time",
    "Subscriber Name",
    "Address",
    "PIN",
    "Mobile",
    "Email",
    "ID Type",
    "ID Number",
    "Connection",
]
ISP_COLUMNS = {
    "Session Time": "time",
    "Mobile": "phone",
    "ID Type": "id_document_type",
    "ID Number": "id_document_number",
    "Connection": "connection_type",
}


def _ask(engine: Engine, db_url: str, folder: Path) -> None:
    """Two reports ingested, enriched and linked, and their ISP requests built and marked sent an hour ago."""
    upgrade(engine)
    reference = build_demo_reference(folder / "reference")
    batch = folder / "batch"
    batch.mkdir()
    (batch / "100000042.xml").write_bytes((FIXTURES / "100000042.xml").read_bytes())
    other = (
        (FIXTURES / "100000042.xml")
        .read_bytes()
        .replace(b"u-7f3a91c2", b"u-other")
        .replace(b"quiet.fox.1987@example.net", b"someone.else@example.net")
        .replace(b"1555 0000123", b"1555 0000999")
    )
    (batch / "100000043.xml").write_bytes(other.replace(b"2001:db8:85a3::8a2e:370:7334", b"2001:db8:9000::1"))
    IngestService(engine, Settings(database_url=db_url), "tester").ingest_paths([batch])
    EnrichService(
        engine, EnrichConfig(tuple(reference.databases), reference.isp_table, reference.warninglist), "tester"
    ).run()
    LinkService(engine, "tester").run()
    for request in build_requests(
        engine, Settings(database_url=db_url), "analyst", folder / "out", reference.isp_table
    ):
        mark_sent(engine, "analyst", request.request_id, datetime.now(UTC) - timedelta(hours=1))


@pytest.fixture
def asked(db_url: str, store_templates: StoreTemplates) -> Iterator[Engine]:
    """The test's own copy of a store with sent ISP requests (`_ask`), built once per worker and database: building
    it (ingest, enrich, link, two PDF letters) was ~0.8 s of every test here."""

    def build(engine: Engine, url: str) -> None:
        folder = store_templates.folder / f"asked-{engine.dialect.name}"
        folder.mkdir()
        _ask(engine, url, folder)

    store_templates.fill(db_url, "asked", build)
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def _answer(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(ANSWER_HEADER)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_answers_land_and_become_evidence(asked: Engine, tmp_path: Path) -> None:
    # the ISP answers in its own log zone (Asia/Kolkata), times without a zone; one subscriber for both addresses
    path = _answer(
        tmp_path / "answer.xlsx",
        [
            SUBSCRIBER_ONE,
            ["2001:db8:9000::1", *SUBSCRIBER_ONE[1:9], "ABC1234567", "FTTH"],  # the ID written without a space
        ],
    )
    summary = ingest_answers(
        asked,
        "analyst",
        path,
        FIXED,
        "IN",
        ISP_COLUMNS,
    )
    assert summary.rows == 2
    with asked.connect() as conn:
        row = conn.execute(select(isp_answers).where(isp_answers.c.ip == V6)).one()
    assert (row.phone, row.email, row.observed_at) == (
        "+919811012345",
        "sub.one@example.com",
        datetime(2025, 3, 14, 20, 55, 2, tzinfo=UTC),
    )
    assert {r["status"] for r in list_requests(asked) if r["recipient"] == FIXED} == {"answered"}
    # one subscriber behind both reports: linking now joins them
    LinkService(asked, "tester").run()
    from tipfusion.store.tables import report_links

    with asked.connect() as conn:
        assert len(set(conn.execute(select(report_links.c.suspect_id)).scalars())) == 1
    # and the subscriber's address routes the suspect to a station with high confidence
    layer, pins = demo_jurisdiction(tmp_path / "jurisdiction")
    import_jurisdiction(asked, "analyst", layer, synthetic=True)
    route_all(asked, "analyst", pins)
    (decision,) = routing_rows(asked)
    assert (decision["station"], decision["basis"], decision["confidence"]) == ("PS Demopur 3", "isp_answer", "high")


@pytest.mark.parametrize(
    "rows,reason",
    [
        ([[V6, None, "2025-03-15 02:25:03", "X", "", "", "", "", "", "", ""]], "unmatched_rows"),  # a second off
        ([["not-an-ip", None, "2025-03-15 02:25:02", "X", "", "", "", "", "", "", ""]], "invalid_rows"),
        ([[V6, None, "yesterday", "X", "", "", "", "", "", "", ""]], "invalid_rows"),
        ([[V6, None, "2025-03-15 02:25:02", "X", "", "", "12", "", "", "", ""]], "invalid_rows"),
    ],
)
def test_bad_answer_files_are_quarantined_whole(
    asked: Engine, tmp_path: Path, rows: list[list[object]], reason: str
) -> None:
    path = _answer(tmp_path / "bad.xlsx", rows)
    with pytest.raises(DocumentRejected) as caught:
        ingest_answers(asked, "analyst", path, FIXED, "IN", {"Session Time": "time", "Mobile": "phone"})
    assert caught.value.reason == reason
    with asked.connect() as conn:
        assert conn.execute(select(func.count()).select_from(isp_answers)).scalar_one() == 0
        entry = conn.execute(select(quarantine_entries)).one()
    assert entry.reason == reason and entry.source_name.endswith("bad.xlsx")


def test_answer_for_an_isp_never_asked(asked: Engine, tmp_path: Path) -> None:
    path = _answer(tmp_path / "a.xlsx", [[V6, None, "2025-03-15 02:25:02", "X", "", "", "", "", "", "", ""]])
    with pytest.raises(DocumentRejected) as caught:
        ingest_answers(asked, "analyst", path, "Nobody Telecom", "IN")
    assert caught.value.reason == "no_request"


def test_an_answer_reaching_an_open_case_flags_it_for_a_supplementary_referral(
    asked: Engine, db_url: str, tmp_path: Path
) -> None:
    import json

    from tipfusion.refer.service import build_referral
    from tipfusion.track.service import refresh_flags

    settings = Settings(database_url=db_url)
    first = build_referral(asked, settings, "analyst", "S100000042", tmp_path / "refs")
    assert json.loads(first.part(".json").read_text())["answers"] == []
    path = _answer(
        tmp_path / "answer.xlsx",
        [SUBSCRIBER_ONE],
    )
    ingest_answers(asked, "analyst", path, FIXED, "IN", ISP_COLUMNS)
    assert refresh_flags(asked, "analyst") == [(first.case_id, "1 new answers")]
    supplement = build_referral(asked, settings, "analyst", "S100000042", tmp_path / "refs")
    body = json.loads(supplement.part(".json").read_text())
    assert supplement.kind == "supplementary" and len(body["changes"]["answers"]) == 1
    assert body["answers"][0]["subscriber_name"] == "Subscriber One"
    assert any("Verify subscriber Subscriber One" in c["task"] for c in body["checklist"])


def _csv_answer(path: Path, rows: list[list[object]]) -> Path:
    import csv

    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(ANSWER_HEADER)
        writer.writerows(rows)
    return path


def _damaged_workbooks(tmp_path: Path) -> dict[str, bytes]:
    """A good answer workbook, then broken as a bad disk or transfer breaks it (issue 14: each crashed the command)."""
    good = _answer(tmp_path / "good.xlsx", [SUBSCRIBER_ONE]).read_bytes()
    member = good.index(b"xl/worksheets/sheet1.xml")  # its local header's name: the data follows it
    flipped = bytearray(good)
    flipped[member + 60] ^= 0xFF  # inside the sheet's compressed bytes: a bad CRC (or a bad stream)
    header = good.rindex(b"PK\x03\x04", 0, member)  # the sheet's local header signature
    return {
        "truncated": good[: len(good) // 2],
        "not_a_zip": b"this is not a workbook\n",
        "bad_crc": bytes(flipped),
        "bad_magic": good[:header] + b"PK\x00\x00" + good[header + 4 :],
        "empty": b"",
    }


@pytest.mark.parametrize("damage", ["truncated", "not_a_zip", "bad_crc", "bad_magic", "empty"])
def test_a_damaged_workbook_is_quarantined_naming_the_file_and_the_next_answer_lands(
    asked: Engine, tmp_path: Path, damage: str
) -> None:
    path = tmp_path / f"{damage}.xlsx"
    path.write_bytes(_damaged_workbooks(tmp_path)[damage])
    with pytest.raises(DocumentRejected) as caught:
        ingest_answers(asked, "analyst", path, FIXED, "IN", ISP_COLUMNS)
    assert caught.value.reason == "malformed_answer" and caught.value.source == str(path)
    with asked.connect() as conn:
        entry = conn.execute(select(quarantine_entries)).one()
        assert conn.execute(select(func.count()).select_from(isp_answers)).scalar_one() == 0
    assert entry.source_name == str(path) and "cannot read the workbook" in entry.message
    # the rest goes on: the ISP's good answer lands after it
    good = _answer(tmp_path / "answer.xlsx", [SUBSCRIBER_ONE])
    assert ingest_answers(asked, "analyst", good, FIXED, "IN", ISP_COLUMNS).rows == 1


@pytest.mark.parametrize(
    "column,value,says",
    [
        (5, "99999999999999999999", "pin '99999999999999999999'"),  # past the column (12): PostgreSQL refused it
        (5, "²³", "pin '²³'"),
        (1, "²³", "port '²³'"),  # str.isdigit() passed it, int() then crashed
        (8, "V" * 41, "id_document_type is 41 characters (expected at most 40)"),
        (9, "N" * 81, "id_document_number is 81 characters (expected at most 80)"),
        (10, "F" * 41, "connection_type is 41 characters (expected at most 40)"),
        (3, "Sub\x00scriber", "subscriber_name contains a NUL byte"),  # PostgreSQL text refuses NUL
    ],
)
def test_a_value_the_store_cannot_hold_is_a_bad_row_on_every_database(
    asked: Engine, tmp_path: Path, column: int, value: str, says: str
) -> None:
    """Validated at parse time, by line and field, the same on SQLite and PostgreSQL — never a crash at insert."""
    row = list(SUBSCRIBER_ONE)
    row[column] = value
    path = _csv_answer(tmp_path / "answer.csv", [row])  # CSV: a workbook cannot even hold a NUL
    with pytest.raises(DocumentRejected) as caught:
        ingest_answers(asked, "analyst", path, FIXED, "IN", ISP_COLUMNS)
    assert caught.value.reason == "invalid_rows" and f"line 2: {says}" in caught.value.message
    with asked.connect() as conn:
        assert conn.execute(select(func.count()).select_from(isp_answers)).scalar_one() == 0
        assert conn.execute(select(quarantine_entries.c.reason)).scalars().all() == ["invalid_rows"]


def test_a_pin_in_other_digits_is_stored_in_ascii(asked: Engine, tmp_path: Path) -> None:
    path = _answer(tmp_path / "answer.xlsx", [[*SUBSCRIBER_ONE[:5], "９０３ ００３", *SUBSCRIBER_ONE[6:]]])
    ingest_answers(asked, "analyst", path, FIXED, "IN", ISP_COLUMNS)
    with asked.connect() as conn:
        assert conn.execute(select(isp_answers.c.pin)).scalar_one() == "903003"


def test_an_answer_over_the_document_limit_is_kept_and_quarantined_unparsed(asked: Engine, tmp_path: Path) -> None:
    from tipfusion.config import XmlLimits
    from tipfusion.store.tables import source_documents

    path = _answer(tmp_path / "answer.xlsx", [SUBSCRIBER_ONE])
    with pytest.raises(DocumentRejected) as caught:
        ingest_answers(asked, "analyst", path, FIXED, "IN", ISP_COLUMNS, XmlLimits(max_document_bytes=1_000))
    assert caught.value.reason == "too_large"
    with asked.connect() as conn:
        stored = conn.execute(select(source_documents.c.name).where(source_documents.c.format == "isp_answer")).all()
        assert conn.execute(select(func.count()).select_from(isp_answers)).scalar_one() == 0
    assert [r.name for r in stored] == [str(path)]


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_an_answer_with_more_rows_than_any_request_is_refused_before_they_are_all_held(
    asked: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    # a 20 MB answer of 600 k rows used to be held whole, parsed row by row: 474 MiB (the reliability fuzzer's find)
    from tipfusion.ingest.formats import isp_answer

    monkeypatch.setattr(isp_answer, "MAX_ROWS", 3)
    rows = [SUBSCRIBER_ONE] * 4
    if suffix == "xlsx":
        path = _answer(tmp_path / "answer.xlsx", rows)
    else:
        path = tmp_path / "answer.csv"
        with path.open("w", newline="", encoding="utf-8") as out:
            csv.writer(out).writerows([ANSWER_HEADER, *[["" if v is None else v for v in row] for row in rows]])
    with pytest.raises(DocumentRejected) as caught:
        ingest_answers(asked, "analyst", path, FIXED, "IN", ISP_COLUMNS)
    assert caught.value.reason == "too_many_rows" and "more than 3 rows" in caught.value.message
    with asked.connect() as conn:
        entry = conn.execute(select(quarantine_entries)).one()
        assert conn.execute(select(func.count()).select_from(isp_answers)).scalar_one() == 0
    assert entry.reason == "too_many_rows" and entry.source_name == str(path)
