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
from tests.rendering import read_on, read_page
from tipfusion.config import Settings
from tipfusion.enrich.demo import build_demo_reference
from tipfusion.enrich.service import EnrichConfig, EnrichService
from tipfusion.errors import TipfusionError
from tipfusion.ingest import IngestService
from tipfusion.keys import create_key
from tipfusion.link.service import LinkService
from tipfusion.refer.verification import verify_package
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
    if read_on(db_url):
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


def _new_version_of_the_upload(tmp_path: Path) -> Path:
    """100000042 again, its upload a second later: a new version of the report, so its sighting is a new one."""
    folder = tmp_path / "again"
    folder.mkdir()
    text = (FIXTURES / "100000042.xml").read_text()
    moved = text.replace("<dateTime>2025-03-14T21:07:31Z</dateTime>", "<dateTime>2025-03-14T21:07:32Z</dateTime>")
    assert moved != text
    (folder / "100000042.xml").write_text(moved)
    return folder


def test_kept_pending_counts_equal_a_full_recount(
    ready: tuple[Engine, Path], db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The /requests page reads the pending counts kept per ISP (`pending_summary`), never counting the store when
    nothing changed; after every step that changes what is pending (build) or could (send, answer, a new version of
    a report ingested and enriched) they equal a full recount (`pending_counts`)."""
    from tipfusion.requests import service
    from tipfusion.requests.answers import ingest_answer_bytes
    from tipfusion.requests.service import pending_counts, pending_summary, sighting_key

    engine, isp_table = ready
    settings = Settings(database_url=db_url)
    recount = service._counted

    def refuse(*_: object) -> list[tuple[str, str, int, int]]:
        pytest.fail("the store was counted again")

    def summary_without_counting() -> list[tuple[str, str, int, int]]:
        """The kept counts, with counting the store made to fail: proof that the view did not count."""
        with monkeypatch.context() as patched:
            patched.setattr(service, "_counted", refuse)
            return pending_summary(engine)

    first = pending_summary(engine)  # counted once: nothing kept yet
    assert first == pending_counts(engine) and first, "the store has sightings to ask"
    assert summary_without_counting() == first
    hosting = "Example Hosting (synthetic)"
    assert {isp for isp, *_ in first} >= {hosting, "Example Fixed Broadband (synthetic)"}

    # a build for one ISP recounts that ISP in its own transaction: the page still counts nothing
    (built,) = build_requests(engine, settings, "analyst", tmp_path / "out", isp_table, isps={hosting})
    after_build = summary_without_counting()
    assert after_build == pending_counts(engine) != first
    assert hosting not in {isp for isp, *_ in after_build}

    # sending and answering ask nothing new: the counts stay, still equal to a recount
    mark_sent(engine, "analyst", built.request_id, datetime.now(UTC) - timedelta(hours=1), "DR/2026/7")
    assert summary_without_counting() == pending_counts(engine) == after_build
    answer = "IP Address,Source Port,Date Time,Subscriber Name\n203.0.113.45,51322,2025-03-14T21:07:31Z,S (synthetic)\n"
    landed = ingest_answer_bytes(engine, "analyst", answer.encode(), "answer.csv", hosting, "IN", {"Date Time": "time"})
    assert landed.rows == 1
    assert summary_without_counting() == pending_counts(engine) == after_build

    # a new version of the report (its upload a second later) and enrich: the kept counts are out of date, the next
    # view counts again, and the new sighting is pending for the hosting ISP
    IngestService(engine, Settings(database_url=db_url), "tester").ingest_paths([_new_version_of_the_upload(tmp_path)])
    reference = build_demo_reference(tmp_path / "reference-2")
    EnrichService(
        engine, EnrichConfig(tuple(reference.databases), reference.isp_table, reference.warninglist), "tester"
    ).run()
    counted: list[object] = []
    monkeypatch.setattr(service, "_counted", lambda *a: counted.append(a) or recount(*a))
    changed = pending_summary(engine)
    assert counted, "the kept counts were used although the sightings changed"
    monkeypatch.setattr(service, "_counted", recount)
    assert changed == pending_counts(engine)
    assert [(isp, n) for isp, _, n, _ in changed if isp == hosting] == [(hosting, 1)]
    # and a build for the new sighting alone empties the ISP's line again
    (key,) = [sighting_key(s) for s in service.pending_sightings(engine, isp=hosting)]
    build_requests(engine, settings, "analyst", tmp_path / "out2", isp_table, isps={hosting}, only={key})
    assert summary_without_counting() == pending_counts(engine) == after_build


def test_the_reference_a_request_went_under(ready: tuple[Engine, Path], db_url: str, tmp_path: Path) -> None:
    """`--reference` (and the web form's field) is recorded with the sent event: kept as given (spaces trimmed),
    refused — never cut or cleaned — when too long or holding a control character, kept when the request is marked
    sent again without one, and carried by the audit entry and `requests list`."""
    from sqlalchemy import select
    from typer.testing import CliRunner

    from tests.web_support import cli_account
    from tipfusion.cli.main import app
    from tipfusion.requests.service import REFERENCE_LIMIT, ReferenceRefused, check_reference
    from tipfusion.store.tables import audit_events, isp_requests

    engine, isp_table = ready
    built = build_requests(engine, Settings(database_url=db_url), "analyst", tmp_path / "out", isp_table)
    first, second = built[0].request_id, built[1].request_id
    assert check_reference("  ABC/123 ") == "ABC/123" and check_reference(" ") is None
    assert check_reference("पत्र क्र. 12/2026") == "पत्र क्र. 12/2026"  # printable in any script
    for bad in ("DR\n118", "DR\x00118", "DR\t118", "DR\x1b[31m", "x" * (REFERENCE_LIMIT + 1)):
        with pytest.raises(ReferenceRefused, match="reference: "):
            check_reference(bad)

    def stored(request_id: int) -> str | None:
        with engine.connect() as conn:
            found = select(isp_requests.c.sent_reference).where(isp_requests.c.id == request_id)
            return conn.execute(found).scalar_one()

    cli_account(db_url, "analyst1", "analyst")
    runner = CliRunner()
    base = ["--database", db_url, "requests", "sent"]
    refused = runner.invoke(app, [*base, str(first), "--reference", "DR\x07118"])
    assert refused.exit_code != 0 and "--reference" in refused.output and "control" in refused.output
    assert stored(first) is None
    with engine.connect() as conn:
        assert conn.execute(select(isp_requests.c.status).where(isp_requests.c.id == first)).scalar_one() == "draft"
    done = runner.invoke(app, [*base, str(first), "--reference", " ISP-ACK-55731 "])
    assert done.exit_code == 0, done.output
    assert "under reference ISP-ACK-55731" in done.output and stored(first) == "ISP-ACK-55731"
    # a corrected date without a reference keeps the one recorded
    again = runner.invoke(app, [*base, str(first), "--at", "2025-03-16 10:00"])
    assert again.exit_code == 0, again.output
    assert stored(first) == "ISP-ACK-55731"
    assert runner.invoke(app, [*base, str(second)]).exit_code == 0 and stored(second) is None
    with engine.connect() as conn:
        events = conn.execute(
            select(audit_events.c.actor, audit_events.c.object_id, audit_events.c.details)
            .where(audit_events.c.action == "request.sent")
            .order_by(audit_events.c.seq)
        ).all()
    reference = next(b.reference for b in built if b.request_id == first)
    assert [(e.actor, e.object_id, e.details["reference"]) for e in events[:2]] == [
        ("analyst1", reference, "ISP-ACK-55731"),
        ("analyst1", reference, "ISP-ACK-55731"),
    ]
    assert events[1].details["again"] is True
    listed = runner.invoke(app, ["--database", db_url, "requests", "list"], env={"COLUMNS": "250"})
    assert listed.exit_code == 0 and "ISP-ACK-55731" in listed.output


def test_requests_build_platform_names_the_one_platform(
    ready: tuple[Engine, Path], db_url: str, tmp_path: Path
) -> None:
    """`--platform NAME` writes the notice to that platform alone (as the web's build button does); a platform
    with no reported account gets none."""
    from typer.testing import CliRunner

    from tipfusion.cli.main import app
    from tipfusion.requests.service import platform_accounts

    engine, isp_table = ready
    assert platform_accounts(engine) == [("example.com", 1, 1)]  # the reported account, never the child's
    base = ["--database", db_url, "requests", "build", "--isp-table", str(isp_table)]
    none = CliRunner().invoke(app, [*base, "-o", str(tmp_path / "none"), "--platform", "nowhere.test"])
    assert none.exit_code == 0, none.output
    assert "no platform notice" in none.output
    one = CliRunner().invoke(app, [*base, "-o", str(tmp_path / "one"), "--platform", "example.com"])
    assert one.exit_code == 0, one.output
    assert [r["recipient"] for r in list_requests(engine) if r["recipient"].startswith("platform: ")] == [
        "platform: example.com"
    ]


def test_tipfusion_enrich_leaves_the_pending_counts_kept(engine: Engine, db_url: str, tmp_path: Path) -> None:
    """`tipfusion enrich` counts what is still to ask once, at its end: the web's first view after it reads kept
    counts equal to a recount."""
    from typer.testing import CliRunner

    from tests.web_support import cli_account
    from tipfusion.cli.main import app
    from tipfusion.requests import service
    from tipfusion.store.sightings import held_pending_counts

    reference = build_demo_reference(tmp_path / "reference")
    IngestService(engine, Settings(database_url=db_url), "tester").ingest_paths([FIXTURES / "100000042.xml"])
    cli_account(db_url, "analyst1", "analyst")
    databases = [arg for db in reference.databases for arg in ("--ip-database", str(db))]
    done = CliRunner().invoke(
        app, ["--database", db_url, "enrich", *databases, "--isp-table", str(reference.isp_table)]
    )
    assert done.exit_code == 0, done.output
    with engine.connect() as conn:
        held = held_pending_counts(conn)
    assert held is not None, "enrich left no current counts"
    assert held.rows == service.pending_counts(engine) and held.rows
