"""Station-ready documents (issue 11, points 1–3), read back as their readers' software sees them.

Who and where: a referral names the suspect as reported (names, ages, addresses, phones, emails, accounts with their
screen and display names; each with its report and company; the reported person's and associated accounts only) and
the address it was routed by. Readable: codes in words (English and Hindi), one IP-timeline row per sighting, times
to the second with their zone, the checklist in both languages with the unit's contact. Proper documents: Word on
A4 with repeating table headers and the unit as author; Excel with the header in row 1 and date-time cells; an ISP
notice in English, then Hindi, then the annex, with the case's FIR and a signature from the unit profile.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from docx.oxml.ns import qn
from openpyxl import load_workbook
from sqlalchemy import Engine, select

from tests.conftest import FIXTURES
from tests.rendering import read_on, read_page
from tipfusion.config import Settings, UnitProfile
from tipfusion.documents.sheets import DATE_TIME_FORMAT
from tipfusion.enrich.demo import build_demo_reference
from tipfusion.enrich.service import EnrichConfig, EnrichService
from tipfusion.ingest import IngestService
from tipfusion.link.service import LinkService
from tipfusion.pipeline import through_routing
from tipfusion.refer.service import build_referral
from tipfusion.refer.words import both
from tipfusion.requests.service import build_requests
from tipfusion.route.service import routing_rows
from tipfusion.store.tables import networks, report_links
from tipfusion.synth import generate
from tipfusion.track.service import advance

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "real-samples"
UNIT = UnitProfile(
    name="Cyber Crime Police Station, Example City",
    address="2nd Floor, Police Commissionerate, Example Road, Example City 560001",
    phone="+91 80 0000 0000",
    email="cyberps@police.example",
    officer_name="A. Kumar",
    officer_designation="Inspector of Police",
)
DEVANAGARI = re.compile(r"[\u0900-\u097F]")
STAMP = r"\d{4}-\d\d-\d\d\xa0\d\d:\d\d:\d\d\xa0"


def _real(*parts: str) -> Path:
    if not REAL.is_dir():
        pytest.skip(f"real samples not found at {REAL} (the shared/ folder beside the repository)")
    return REAL.joinpath(*parts)


def _part(folder: Path, suffix: str) -> Path:
    """A package's part by its ending (parts lie in the bag's data/ folder; the s.63 certificate apart)."""
    (found,) = [p for p in (folder / "data").glob(f"*{suffix}") if not p.name.endswith("-certificate" + suffix)]
    return found


def _package(folder: Path) -> tuple[dict[str, Any], Any, str]:
    """The JSON, the Word document and the PDF's text of a referral package."""
    import pypdfium2 as pdfium

    package = json.loads(_part(folder, ".json").read_text())
    document = Document(str(_part(folder, ".docx")))
    pdf = pdfium.PdfDocument(str(_part(folder, ".pdf")))
    text = "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    pdf.close()
    return package, document, text.replace("\xa0", " ")


def _table(document: Any, first_heading: str) -> list[list[str]]:
    (table,) = [t for t in document.tables if t.rows[0].cells[0].text == first_heading]
    return [[c.text for c in row.cells] for row in table.rows]


def _paragraphs(document: Any) -> list[str]:
    return [p.text for p in document.paragraphs]


def test_the_suspect_as_reported_from_a_real_report(engine: Engine, db_url: str, tmp_path: Path) -> None:
    """ncmec-cybertip's maximal report: the reported person (name, age, date of birth, address, phone, emails,
    account with screen and display names) and its associated ExamplePay account — and nothing of the reporter, the
    intended recipient, the victim or the law-enforcement contact in the same report."""
    settings = Settings(database_url=db_url, unit=UNIT)
    folder = _real("xml", "nachtalb")
    assert IngestService(engine, settings, "t").ingest_paths([folder]).quarantined == 0
    LinkService(engine, "t").run()
    built = build_referral(engine, settings, "analyst", "S4242001", tmp_path / "out")
    package, document, pdf_text = _package(built.folder)

    seen = {(r["field"], r["value"], r["role"]) for r in package["as_reported"]}
    assert {
        ("name", "Quiet Fox", "reported"),
        ("age", "37", "reported"),
        ("date_of_birth", "1987-05-01", "reported"),
        ("address", "London, GB", "reported"),
        ("phone", "+447700900123", "reported"),
        ("email", "quiet.fox.1987+tag@gmail.com", "reported"),
        ("esp_account", "u-7f3a91c2", "reported"),
        ("esp_account", "pay-55102", "associated"),
        ("email", "fox.pay@example.org", "associated"),
    } <= seen
    account = next(r for r in package["as_reported"] if r["value"] == "u-7f3a91c2")
    assert {"screen name @QuietFox87", "display name Q. Fox, QF"} <= set(account["details"])
    phone = next(r for r in package["as_reported"] if r["field"] == "phone")
    assert "as sent: 7700 900123" in phone["details"]
    assert all(r["reports"] == [4242001] and r["esps"] for r in package["as_reported"])  # each with its source
    assert {r["role"] for r in package["as_reported"]} == {"reported", "associated"}
    held = " | ".join(f"{r['value']} {' '.join(r['details'])}" for r in package["as_reported"])
    for other in ("Alex", "Testperson", "555-0100", "Example Plaza", "trust-safety@example.com", "u-00c4d1e9"):
        assert other not in held, f"{other}: the reporter's or the recipient's, not the suspect's"
    for other in ("sunny_day_22", "officer@police.example", "Example School", "Delhi", "Example Park"):
        assert other not in held, f"{other}: the recipient's, the victim's, law enforcement's or the incident's"
    assert ("age", "14") not in {(r["field"], r["value"]) for r in package["as_reported"]}  # the victim's age

    rows = _table(document, "What / क्या")
    assert rows[1][:2] == ["name / नाम", "Quiet Fox"] and rows[1][2].startswith("reported person\nreport 4242001")
    cells = "\n".join(c for row in rows for c in row)
    assert "u-7f3a91c2\nExampleChat Messaging; screen name @QuietFox87; display name Q. Fox, QF" in cells
    assert "associated account (of the reported person)" in cells and "London, GB" in cells
    assert not any(o in cells for o in ("Testperson", "sunny_day_22", "u-00c4d1e9", "Example Plaza"))
    headings = _paragraphs(document)
    assert headings.index("Suspect as reported / रिपोर्ट के अनुसार संदिग्ध") < headings.index("Summary / सारांश")
    assert pdf_text.index("Suspect as reported") < pdf_text.index("Summary") and "Quiet Fox" in pdf_text

    sheet = load_workbook(_part(built.folder, "-annex.xlsx"))["Suspect as reported"]
    assert [c.value for c in sheet[1]][:3] == ["Suspect", "What", "As reported"]
    assert sheet.max_row == len(package["as_reported"]) + 1 and sheet["C2"].value == "Quiet Fox"


def _settings(db_url: str) -> Settings:
    return Settings(database_url=db_url, unit=UNIT)


def test_a_referral_says_who_where_and_what_in_words(engine: Engine, db_url: str, tmp_path: Path) -> None:
    settings = _settings(db_url)
    through_routing(engine, settings, "tester", generate(tmp_path / "batch", 160, seed=41))
    by_address = [  # a suspect the station gets (one in a network that spans stations is held by the unit)
        r["suspect_id"]
        for r in routing_rows(engine)
        if r["basis"] == "report_address" and r["station"] and not r["network_central"]
    ]
    assert by_address, "the synthetic batch routes some suspects by the address in their reports"
    built = build_referral(engine, settings, "analyst", by_address[0], tmp_path / "out")
    package, document, pdf_text = _package(built.folder)

    # who and where: the address it was routed by is on the routing line, and among the addresses as reported
    (decision,) = package["routing"]
    assert decision["basis"] == "report_address" and decision["decided_by"]
    addresses = {r["value"] for r in package["as_reported"] if r["field"] == "address"}
    assert addresses and all(any(a in d for a in addresses) for d in decision["decided_by"])
    assert {r["field"] for r in package["as_reported"]} >= {"name", "address"}
    (routed,) = [p for p in _paragraphs(document) if p.startswith("Routed to ")]
    assert (
        routed.startswith(f"Routed to {built.station} by address in the report") and decision["decided_by"][0] in routed
    )
    assert decision["decided_by"][0] in pdf_text.replace("\r\n", " ")
    assert package["from"]["officer_name"] == "A. Kumar"

    # readable: factors in words, English and Hindi
    factor_cells = {row[0] for row in _table(document, "Factor / कारक")}
    assert {both("factor", f[0]) for f in package["priority"]["factors"]} <= factor_cells
    assert all(DEVANAGARI.search(c) for c in factor_cells if c != "Factor / कारक")
    jurisdiction = _table(document, "Suspect")
    assert jurisdiction[1][2].startswith(both("basis", "report_address"))
    assert jurisdiction[1][3] == both("confidence", decision["confidence"])

    # one timeline row per sighting, times to the second with their zone, unbroken
    timeline = package["ip_timeline"]
    keys = [(t["ip"], t["port"], t["time_utc"], t["event"]) for t in timeline]
    assert len(keys) == len(set(keys)) and all(t["reports"] for t in timeline)
    rows = _table(document, "Time (UTC / local)")[1:]
    assert len(rows) == min(80, len(timeline))
    assert all(re.fullmatch(f"{STAMP}UTC\n{STAMP}IST", row[0]) for row in rows), rows[0][0]
    first = timeline[0]
    utc = datetime.fromisoformat(first["time_utc"].replace("Z", "+00:00"))
    assert rows[0][0].startswith(f"{utc:%Y-%m-%d}\xa0{utc:%H:%M:%S}\xa0UTC")
    assert f"{utc:%Y-%m-%d %H:%M:%S} UTC" in pdf_text  # on one line of the PDF: not wrapped mid-value
    assert any(t["identifiability"] for t in timeline) and "yes: IP address and exact time" in "\n".join(
        r[4] for r in rows
    )

    # the checklist in both languages, naming the unit's contact; the signature from the unit profile
    checklist = package["checklist"]
    assert all(DEVANAGARI.search(c["hindi"]) for c in checklist)
    assert UNIT.phone in checklist[0]["task"] and UNIT.email in checklist[-1]["hindi"]
    tasks = _table(document, "#")
    assert tasks[1][1] == f"{checklist[0]['task']}\n{checklist[0]['hindi']}" and "IST" in tasks[1][2]
    paragraphs = _paragraphs(document)
    assert "A. Kumar\nInspector of Police\nCyber Crime Police Station, Example City" in "\n".join(paragraphs)
    assert "Inspector of Police" in pdf_text and UNIT.address in pdf_text and UNIT.address in "\n".join(paragraphs)

    # a proper Word file: A4, headers repeated, the unit as its author
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert all(t.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None for t in document.tables)
    assert document.core_properties.author == UNIT.name and built.reference in document.core_properties.title

    # the annex: header in row 1, date-time cells in UTC, filters, frozen header; the banner out of the data
    book = load_workbook(_part(built.folder, "-annex.xlsx"))
    assert book.sheetnames[0] == "About" and "SYNTHETIC" in str(book["About"]["A2"].value)
    sheet = book["IP timeline"]
    assert [c.value for c in sheet[1]][:3] == ["Time (UTC)", "Time (Asia/Kolkata)", "Time as received"]
    assert sheet.max_row == len(timeline) + 1  # header and every sighting, no banner row
    assert sheet["A2"].value == utc.replace(tzinfo=None) and sheet["A2"].number_format == DATE_TIME_FORMAT
    assert sheet["B2"].value == utc.astimezone(settings.profile.zone).replace(tzinfo=None)
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:")
    assert "SYNTHETIC" in sheet.oddHeader.center.text and book.properties.creator == UNIT.name
    assert all(c.value != "ip_time" for c in sheet["I"])  # identifiability in words
    routing_sheet = book["Jurisdiction"]
    assert routing_sheet["E2"].value == ", ".join(decision["decided_by"])

    # a network's package: each member, with the address (or evidence) it was routed by
    with engine.connect() as conn:
        network = conn.execute(select(networks.c.network_id).order_by(networks.c.suspects.desc()).limit(1)).scalar_one()
    whole = build_referral(engine, settings, "analyst", network, tmp_path / "out")
    net_package, net_document, _ = _package(whole.folder)
    texts = _paragraphs(net_document)
    for suspect in net_package["suspects"]:
        assert f"Suspect {suspect} / संदिग्ध" in texts
    lines = [t for t in texts if t.startswith(("Routed to ", "Held by the central unit: "))]
    assert len(lines) == len(net_package["routing"])
    merged = [t for t in net_package["ip_timeline"] if t["sightings"] > 1]
    assert merged, "the batch reports some sightings more than once: one row each, with every report"

    # a suspect whose network spans districts: the central unit's, whatever its own routing says, and said first
    central = [r for r in routing_rows(engine) if r["network_central"] and r["station"]]
    assert central, "the synthetic batch has a network spanning districts"
    held = build_referral(engine, settings, "analyst", central[0]["suspect_id"], tmp_path / "out")
    held_package, held_document, held_pdf = _package(held.folder)
    assert held.station is None and held_package["routing"][0]["network_central"]
    texts = _paragraphs(held_document)
    assert not [t for t in texts if t.startswith("Routed to ")]
    (line,) = [t for t in texts if t.startswith("Held by the central unit: ")]
    assert line.startswith(
        f"Held by the central unit: network {central[0]['network_id']} spans districts "
        f"(own routing: {central[0]['station']} by "
    )
    assert any(t.startswith("केंद्रीय इकाई के पास: नेटवर्क") for t in texts) and "Held by the central unit" in held_pdf


def test_an_isp_notice_reads_english_then_hindi_then_the_annex(engine: Engine, db_url: str, tmp_path: Path) -> None:
    """With the unit profile's letterhead and signature, and the FIR of the case the request serves."""
    reference = build_demo_reference(tmp_path / "reference")
    batch = tmp_path / "batch"
    batch.mkdir()
    for name in ("100000042.xml", "file-0a1b2c3d.xml"):
        (batch / name).write_bytes((FIXTURES / name).read_bytes())
    settings = _settings(db_url)
    IngestService(engine, settings, "tester").ingest_paths([batch])
    EnrichService(
        engine, EnrichConfig(tuple(reference.databases), reference.isp_table, reference.warninglist), "tester"
    ).run()
    LinkService(engine, "tester").run()
    # before any referral: no case, no FIR
    (unreferred, *_) = build_requests(engine, settings, "analyst", tmp_path / "first", reference.isp_table)
    text = "\n".join(p.text for p in Document(str(_part(unreferred.folder, ".docx"))).paragraphs)
    assert "Case / प्रकरण: no FIR yet" in text and "प्रकरण: अभी तक प्राथमिकी दर्ज नहीं" in text

    with engine.connect() as conn:
        suspect = conn.execute(select(report_links.c.suspect_id).where(report_links.c.report_id == 100000042))
        suspect_id = suspect.scalar_one()
    referral = build_referral(engine, settings, "analyst", suspect_id, tmp_path / "refs")
    today = datetime.now(UTC).astimezone(settings.profile.zone).date()
    advance(engine, settings, "officer", referral.reference, "acknowledged", {})
    fir = f"0042/{today.year}"
    advance(
        engine,
        settings,
        "officer",
        referral.reference,
        "fir_registered",
        {"fir_number": fir, "fir_date": today.isoformat(), "fir_station": "PS Example 1", "sections": "IT Act 67B"},
    )
    built = build_requests(engine, settings, "analyst", tmp_path / "out", reference.isp_table, again=True)
    hosting = next(b for b in built if b.isp == "Example Hosting (synthetic)")
    document = Document(str(_part(hosting.folder, ".docx")))

    # body order: English letter, Hindi letter, signature, then the annex table
    order = []
    for element in document.element.body:
        if element.tag == qn("w:tbl"):
            order.append("TABLE")
        elif element.tag == qn("w:p"):
            order.append("".join(t.text or "" for t in element.iter(qn("w:t"))))

    def at(prefix: str) -> int:
        return next(n for n, text in enumerate(order) if text.startswith(prefix))

    assert at(UNIT.name) < at("No. ") < at("Notice under Section 94") < at("भारतीय नागरिक सुरक्षा संहिता")
    assert at("भारतीय नागरिक सुरक्षा संहिता") < at("Yours faithfully") < at("Annex / अनुलग्नक") < at("TABLE")
    case_line = order[at("Case / प्रकरण")]
    assert f"FIR {fir} dated {today:%d.%m.%Y}, PS Example 1 (referral {referral.reference})" in case_line
    assert f"प्राथमिकी {fir}" in order[at("प्रकरण: ")]
    signature = order[at("Yours faithfully")]
    assert all(x in signature for x in ("A. Kumar", "Inspector of Police", UNIT.name, UNIT.phone, UNIT.email))
    (table,) = document.tables
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    assert (
        table.rows[1].cells[1].text == "203.0.113.45" and table.rows[1].cells[3].text == "2025-03-14\xa021:07:31\xa0UTC"
    )
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert document.core_properties.author == UNIT.name and hosting.reference in document.core_properties.title

    import pypdfium2 as pdfium

    pdf_path = _part(hosting.folder, ".pdf")
    pdf = pdfium.PdfDocument(str(pdf_path))
    pages = [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    pdf.close()
    whole = "\n".join(pages)
    assert f"FIR {fir}" in pages[0] and whole.index("Notice under Section 94") < whole.index("Yours faithfully")
    assert whole.index("A. Kumar") < whole.index("Annex /") < whole.index("203.0.113.45")  # the annex comes last
    annex_page = next(n for n, text in enumerate(pages) if "Annex /" in text)
    if read_on(db_url):
        seen = "".join(read_page(pdf_path, n, tmp_path) for n in range(annex_page + 1))  # Hindi before the annex
        assert "नागरिक सुरक्षा संहिता" in seen and seen.index("संहिता") < seen.index("Annex")

    book = load_workbook(_part(hosting.folder, "-annex.xlsx"))
    sheet = book["Annex"]
    assert book.active is not None and book.active.title == "Annex" and "About" in book.sheetnames
    assert [c.value for c in sheet[1]][:4] == ["#", "IP address", "Source port", "Date-time (UTC)"]
    assert sheet["D2"].value == datetime(2025, 3, 14, 21, 7, 31) and sheet["D2"].number_format == DATE_TIME_FORMAT
    assert sheet.auto_filter.ref == "A1:J2" and sheet.freeze_panes == "A2"
    assert book.properties.creator == UNIT.name
