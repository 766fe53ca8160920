"""ISP answers: validated and matched like ingest; they become identity and routing evidence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine, func, select

from tests.conftest import FIXTURES
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
ISP_COLUMNS = {
    "Session Time": "time",
    "Mobile": "phone",
    "ID Type": "id_document_type",
    "ID Number": "id_document_number",
    "Connection": "connection_type",
}


@pytest.fixture
def asked(engine: Engine, db_url: str, tmp_path: Path) -> Engine:
    reference = build_demo_reference(tmp_path / "reference")
    batch = tmp_path / "batch"
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
        engine, Settings(database_url=db_url), "analyst", tmp_path / "out", reference.isp_table
    ):
        mark_sent(engine, "analyst", request.request_id, datetime.now(UTC) - timedelta(hours=1))
    return engine


def _answer(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(
        [
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
    )
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

    from tipfusion.refer import build_referral
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
