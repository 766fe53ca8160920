"""Requests to ISPs: grouping, CGNAT-without-port exclusion, times in UTC and the ISP's zone, letters, tracking."""

from __future__ import annotations

import csv
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import Engine

from tests.conftest import FIXTURES
from tests.rendering import read_page
from tipfusion.config import Settings
from tipfusion.enrich.demo import build_demo_reference
from tipfusion.enrich.service import EnrichConfig, EnrichService
from tipfusion.errors import TipfusionError
from tipfusion.ingest import IngestService
from tipfusion.keys import create_key
from tipfusion.link.service import LinkService
from tipfusion.refer import verify_package
from tipfusion.requests.isp import Sighting, group_requests, render_time
from tipfusion.requests.service import build_requests, list_requests, mark_sent

WHEN = datetime(2025, 3, 14, 21, 7, 31, tzinfo=UTC)


def sighting(
    ip: str,
    network: str,
    port: int | None = None,
    when: datetime | None = WHEN,
    isp: str = "Mobile",
    zone: str = "Asia/Kolkata",
    report: int = 1,
) -> Sighting:
    return Sighting(report, "S1", ip, port, when, "Upload", isp, network, zone, None, None)


def test_time_to_the_second_in_utc_and_the_isp_zone() -> None:
    assert render_time(WHEN, "Asia/Kolkata") == "2025-03-15T02:37:31+05:30"
    (request,) = group_requests([sighting("198.19.0.7", "mobile_cgnat", 51322)])
    item = request.items[0]
    assert (item.time_utc, item.time_isp) == ("2025-03-14T21:07:31Z", "2025-03-15T02:37:31+05:30")
    assert item.row()["source_port"] == 51322 and item.flag == ""


def test_cgnat_without_port_is_left_out_unless_asked() -> None:
    sightings = [sighting("198.19.0.7", "mobile_cgnat", None), sighting("198.19.0.8", "mobile_cgnat", 1000)]
    (request,) = group_requests(sightings)
    assert [i.sighting.ip for i in request.items] == ["198.19.0.8"] and request.excluded == 1
    (forced,) = group_requests(sightings, include_unidentifiable=True)
    assert len(forced.items) == 2 and "no source port" in forced.items[0].flag + forced.items[1].flag


def test_what_is_never_asked_and_grouping() -> None:
    requests = group_requests(
        [
            sighting("10.0.0.1", "private"),
            sighting("1.2.3.4", "unknown", isp=None),
            sighting("198.18.1.2", "fixed", when=None, isp="Fixed"),
            sighting("198.18.1.2", "fixed", isp="Fixed", report=1),
            sighting("198.18.1.2", "fixed", isp="Fixed", report=2),
            sighting("203.0.113.9", "hosting_vpn", 5, isp="Hosting", zone="UTC"),
        ]
    )
    assert [(r.isp, len(r.items)) for r in requests] == [("Fixed", 1), ("Hosting", 1)]  # one event, reported twice
    assert "hosting" in requests[1].items[0].flag


@pytest.fixture
def ready(engine: Engine, db_url: str, tmp_path: Path) -> tuple[Engine, Path]:
    reference = build_demo_reference(tmp_path / "reference")
    batch = tmp_path / "batch"
    batch.mkdir()
    for name in ("100000042.xml", "file-0a1b2c3d.xml"):
        (batch / name).write_bytes((FIXTURES / name).read_bytes())
    IngestService(engine, Settings(database_url=db_url), "tester").ingest_paths([batch])
    EnrichService(
        engine, EnrichConfig(tuple(reference.databases), reference.isp_table, reference.warninglist), "tester"
    ).run()
    LinkService(engine, "tester").run()
    return engine, reference.isp_table


def test_build_letters_and_track(ready: tuple[Engine, Path], db_url: str, tmp_path: Path) -> None:
    engine, isp_table = ready
    built = build_requests(engine, Settings(database_url=db_url), "analyst", tmp_path / "out", isp_table)
    by_isp = {b.isp: b for b in built}
    # the reported person's upload from a hosting address, and their IPv6 login on the mobile network;
    # never the child's address (192.0.2.200), never an address no database covers (198.51.100.7)
    assert set(by_isp) == {"Example Hosting (synthetic)", "Example Fixed Broadband (synthetic)"}
    hosting = by_isp["Example Hosting (synthetic)"]
    assert hosting.items == 1 and len(hosting.files) == 4
    annex = hosting.part("-annex.csv")
    (row,) = list(csv.DictReader(annex.open()))
    assert (row["ip"], row["source_port"], row["time_utc"], row["time_isp_zone"]) == (
        "203.0.113.45",
        "51322",
        "2025-03-14T21:07:31Z",
        "2025-03-14T21:07:31+00:00",
    )  # the hosting ISP logs in UTC
    fixed = by_isp["Example Fixed Broadband (synthetic)"].part("-annex.csv")
    rows_fixed = list(csv.DictReader(fixed.open()))
    (v6,) = rows_fixed
    assert v6["time_isp_zone"] == "2025-03-15T02:25:02+05:30"
    letter = Document(str(hosting.part(".docx")))
    text = "\n".join(p.text for p in letter.paragraphs)
    assert "Section 94 of the Bharatiya Nagarik Suraksha Sanhita" in text and "Abuse Desk (synthetic)" in text
    assert letter.tables[0].rows[1].cells[1].text == "203.0.113.45"
    sheet = load_workbook(hosting.part("-annex.xlsx")).active
    assert sheet is not None and sheet.cell(2, 2).value == "203.0.113.45"
    pdf = hosting.part(".pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    assert "भारतीय नागरिक सुरक्षा संहिता" in text  # the Hindi notice follows the English one
    # the first page, as a reader sees it: the Hindi letter follows the English one, Devanagari shaped by the
    # vendored font, not boxes (the annex starts its own page)
    seen = read_page(hosting.part(".pdf"), 0, tmp_path)
    assert "नागरिक सुरक्षा संहिता" in seen and "नोटिस" in seen
    # the notice is a bag like a referral: one manifest format, checked with common tools
    manifest = (hosting.folder / "manifest-sha256.txt").read_text()
    import hashlib

    listed = {}
    for line in manifest.splitlines():
        digest, name = line.split("  ")
        assert hashlib.sha256((hosting.folder / name).read_bytes()).hexdigest() == digest
        listed[name.removeprefix("data/")] = digest
    assert listed == hosting.files
    assert "Unit signing key / इकाई हस्ताक्षर कुंजी: none configured" in letter.sections[0].footer.paragraphs[0].text
    check, stored = verify_package(engine, hosting.folder)
    assert check.ok and check.signature == "absent" and stored == f"request {hosting.reference}"

    # nothing is asked twice, unless the analyst says so
    assert build_requests(engine, Settings(database_url=db_url), "analyst", tmp_path / "again", isp_table) == []
    assert build_requests(engine, Settings(database_url=db_url), "analyst", tmp_path / "again", isp_table, again=True)

    sent = datetime.now(UTC) - timedelta(hours=80)
    due = mark_sent(engine, "analyst", hosting.request_id, sent)
    assert due == sent + timedelta(hours=72)
    rows = {r["id"]: r for r in list_requests(engine)}
    assert rows[hosting.request_id]["overdue"] and rows[hosting.request_id]["status"] == "sent"
    assert not rows[by_isp["Example Fixed Broadband (synthetic)"].request_id]["overdue"]
    with pytest.raises(TipfusionError):
        mark_sent(engine, "analyst", hosting.request_id, datetime.now(UTC) + timedelta(days=2))


def test_notices_are_signed_bags_like_referrals(ready: tuple[Engine, Path], db_url: str, tmp_path: Path) -> None:
    engine, isp_table = ready
    key = create_key(tmp_path / "keys" / "signing-key.pem")
    settings = Settings(database_url=db_url, signing_key=str(key.path))
    built = build_requests(engine, settings, "analyst", tmp_path / "out", isp_table)
    assert built
    for request in built:
        check, stored = verify_package(engine, request.folder)
        assert check.ok and check.signature == "valid" and check.key_fingerprint == key.fingerprint
        assert stored == f"request {request.reference}" and check.files == request.files
        footer = Document(str(request.part(".docx"))).sections[0].footer.paragraphs[0].text
        assert f"Unit signing key / इकाई हस्ताक्षर कुंजी (SHA-256): {key.fingerprint}" in footer
        if shutil.which("openssl"):
            command = "openssl pkeyutl -verify -pubin -inkey signing-key.pub.pem -rawin -in manifest-sha256.txt"
            run = subprocess.run([*command.split(), "-sigfile", "manifest-sha256.txt.sig"], cwd=request.folder)
            assert run.returncode == 0
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(built[0].part(".pdf")))
    assert key.fingerprint.replace(" ", "") in "".join(pdf[0].get_textpage().get_text_range().split())
    pdf.close()


def test_platform_notices(ready: tuple[Engine, Path], db_url: str, tmp_path: Path) -> None:
    from tipfusion.requests.service import build_platform_requests

    engine, _ = ready
    (built,) = build_platform_requests(engine, Settings(database_url=db_url), "analyst", tmp_path / "platforms")
    assert built.isp == "example.com" and built.items == 1 and built.reference.startswith("TF/PLATFORM/")
    (row,) = list(csv.DictReader(built.part("-annex.csv").open()))
    assert (row["account_id"], row["screen_name"], row["reports"]) == ("u-7f3a91c2", "quietfox87", "100000042")
    text = "\n".join(p.text for p in Document(str(built.part(".docx"))).paragraphs)
    assert "login and session logs" in text and "u-00c4d1e9" not in text  # never the child's account


def test_requests_build_platforms_flag_writes_the_platform_notices(
    ready: tuple[Engine, Path], db_url: str, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from tipfusion.cli.main import app

    engine, isp_table = ready
    runner = CliRunner()
    base = ["--database", db_url, "requests", "build", "--isp-table", str(isp_table)]
    plain = runner.invoke(app, [*base, "-o", str(tmp_path / "plain")])
    assert plain.exit_code == 0, plain.output
    assert "Notices to platforms" not in plain.output
    assert not any(p.name.startswith("TF-PLATFORM-") for p in (tmp_path / "plain").iterdir())
    done = runner.invoke(app, [*base, "-o", str(tmp_path / "out"), "--platforms"])
    assert done.exit_code == 0, done.output
    assert "Notices to platforms" in done.output and "TF/PLATFORM/" in done.output
    (folder,) = [p for p in (tmp_path / "out").iterdir() if p.name.startswith("TF-PLATFORM-")]
    (row,) = list(csv.DictReader(next(folder.glob("data/*-annex.csv")).open()))
    assert row["account_id"] == "u-7f3a91c2"
    assert any(r["recipient"] == "platform: example.com" for r in list_requests(engine))
