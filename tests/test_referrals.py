"""Referral packages, cases in the store, operations, interop exports and supplementary referrals — on SQLite and
PostgreSQL, from a synthetic batch taken through every stage."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from tests.conftest import StoreTemplates
from tests.rendering import read_on, read_page
from tipfusion import __version__, clock
from tipfusion.cli.main import app
from tipfusion.config import Settings
from tipfusion.documents.manifest import verify_bag
from tipfusion.errors import NotFound, TipfusionError
from tipfusion.ingest import IngestService
from tipfusion.keys import create_key
from tipfusion.link.service import LinkService
from tipfusion.pipeline import through_routing
from tipfusion.refer.service import build_referral, top_subjects
from tipfusion.refer.subjects import interop_export
from tipfusion.refer.verification import verify_package
from tipfusion.requests.service import build_requests, mark_sent
from tipfusion.route.service import route_all, routing_rows
from tipfusion.store.db import make_engine, safe_url, upgrade
from tipfusion.store.tables import audit_events, case_events, cases, isp_requests, networks, referrals, reports
from tipfusion.synth import generate
from tipfusion.synth.generate import GenerateResult
from tipfusion.track.lifecycle import TransitionRefused
from tipfusion.track.operations import create_operation, operation_report, write_report
from tipfusion.track.service import advance, correct, history, overdue, refresh_flags, transfer


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> GenerateResult:
    return generate(tmp_path_factory.mktemp("referrals") / "batch", 160, seed=41)


@pytest.fixture
def routed(
    db_url: str, store_templates: StoreTemplates, batch: GenerateResult
) -> Iterator[tuple[Engine, Settings, GenerateResult]]:
    """The test's own store holding `batch` taken through every stage up to routing, its settings and the batch. The
    stages run once per kind of database (per xdist worker) and each test gets a copy, as `engine` copies a migrated
    store: eight tests on two databases took the same batch through the same stages sixteen times."""

    def build(engine: Engine, url: str) -> None:
        upgrade(engine)
        through_routing(engine, Settings(database_url=url), "tester", batch)

    store_templates.fill(db_url, "referrals-routed", build)
    engine = make_engine(db_url)
    yield engine, Settings(database_url=db_url), batch
    engine.dispose()


def test_packages_for_a_suspect_and_a_network(
    routed: tuple[Engine, Settings, GenerateResult], db_url: str, tmp_path: Path
) -> None:
    engine, settings, _ = routed
    (suspect,) = top_subjects(engine, 1, routed_only=True)
    built = build_referral(engine, settings, "analyst", suspect, tmp_path / "out")
    decision = next(r for r in routing_rows(engine) if r["suspect_id"] == suspect)
    assert (built.station, built.district) == (decision["station"], decision["district"])
    assert built.kind == "initial" and built.reference.startswith("TF/REF/")
    stem = built.reference.replace("/", "-")
    names = sorted(p.name for p in built.folder.iterdir())
    assert names == ["bag-info.txt", "bagit.txt", "data", "manifest-sha256.txt", "tagmanifest-sha256.txt"]
    parts = sorted(p.name for p in (built.folder / "data").iterdir())
    assert parts == sorted(
        [
            f"{stem}{suffix}"
            for suffix in (".docx", ".pdf", ".json", "-annex.xlsx", "-certificate.pdf", "-certificate.docx")
        ]
    )
    assert set(built.files) == set(parts)

    package = json.loads(built.part(".json").read_text())
    assert package["synthetic"] is True and package["to"]["station"] == built.station
    assert package["reports"] and all(r["suspect_id"] == suspect for r in package["reports"])
    assert {"kind", "canonical", "enrichment", "reports", "esps", "provenance"} <= set(package["identifiers"][0])
    timeline = package["ip_timeline"]
    assert timeline and all(t["time_utc"].endswith("Z") and t["time_local"].endswith("+05:30") for t in timeline)
    first = timeline[0]
    utc = datetime.fromisoformat(first["time_utc"].replace("Z", "+00:00"))
    assert datetime.fromisoformat(first["time_local"]) == utc  # the same instant, to the second
    assert {"port", "identifiable", "identifiability", "isp"} <= set(first)
    assert package["files"] and {"hashes", "viewed_by_esp", "upload_ip", "relevance"} <= set(package["files"][0])
    assert [s["section"] for s in package["sections"]][:3] == [
        "IT Act 2000 s.67B",
        "POCSO Act 2012 s.14",
        "POCSO Act 2012 s.15",
    ]
    tasks = [c["task"] for c in package["checklist"]]
    assert tasks[0].startswith("Acknowledge") and any("seize" in t for t in tasks)
    assert package["statements"][0]["id"] == "source" and package["priority"]["factors"]

    document = Document(str(built.part(".docx")))
    text = "\n".join(p.text for p in document.paragraphs)
    for heading in (
        "Summary / सारांश",
        "Identifiers / पहचानकर्ता",
        "IP timeline / आईपी समयरेखा",
        "Linked reports",
        "Checklist for the station / थाने हेतु कार्य सूची",
        "Suggested legal sections",
    ):
        assert heading in text
    assert "SYNTHETIC DATA" in text
    fonts = document.styles["Normal"].element.rPr.rFonts
    assert fonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}cs")  # Hindi in Word
    report_numbers = {str(r["report_id"]) for r in package["reports"]}
    first_lines = {c.text.splitlines()[0] for t in document.tables for row in t.rows for c in row.cells if c.text}
    assert report_numbers <= first_lines  # the linked-reports table: NCMEC number, then the suspect
    if any(f["viewed_by_esp"] is False for f in package["files"]):
        assert "NOT viewed by the reporting company" in text

    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(built.part(".pdf")))
    whole = "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    assert "Checklist for the station" in whole and first["ip"] in whole and "SYNTHETIC DATA" in whole
    pdf.close()
    if read_on(db_url):
        seen = read_page(built.part(".pdf"), 0, tmp_path)  # page 1 as a reader sees it
        assert "सारांश" in seen and "Summary" in seen
    sheet = load_workbook(built.part("-annex.xlsx"))["IP timeline"]
    assert sheet.max_row == len(timeline) + 1  # header (row 1), every sighting

    check, stored = verify_package(engine, built.folder)
    assert check.ok and check.signature == "absent" and stored == f"referral {built.reference}"
    pdf_path = built.part(".pdf")
    data = bytearray(pdf_path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit of one byte
    pdf_path.write_bytes(bytes(data))
    tampered = verify_bag(built.folder)
    assert tampered.altered == [f"data/{stem}.pdf"] and not tampered.ok
    runner = CliRunner()
    verified = runner.invoke(app, ["--database", db_url, "refer", "verify", str(built.folder)])
    assert verified.exit_code != 0 and "ALTERED" in verified.output

    with engine.connect() as conn:
        network = conn.execute(
            select(networks.c.network_id).order_by(networks.c.suspects.desc()).limit(1)
        ).scalar_one_or_none()
        assert conn.execute(select(func.count()).select_from(cases)).scalar_one() == 1
    assert network is not None
    whole_network = build_referral(engine, settings, "analyst", network, tmp_path / "out")
    net_package = json.loads(whole_network.part(".json").read_text())
    assert net_package["subject_type"] == "network" and len(net_package["suspects"]) > 1
    assert net_package["network"]["network_id"] == network and net_package["network"]["key_shared_values"]
    assert {r["suspect_id"] for r in net_package["routing"]} == set(net_package["suspects"])
    with pytest.raises(TipfusionError, match="nothing new"):
        build_referral(engine, settings, "analyst", network, tmp_path / "out")
    with pytest.raises(NotFound):
        build_referral(engine, settings, "analyst", "S999", tmp_path / "out")


def test_a_signed_package_carries_its_certificate_and_fingerprint(
    routed: tuple[Engine, Settings, GenerateResult], db_url: str, tmp_path: Path
) -> None:
    engine, settings, _ = routed
    key = create_key(tmp_path / "keys" / "signing-key.pem")
    unit = replace(settings.unit, name="Cyber Crime Unit, Mockabad", officer_name="Inspector A. Rao")
    settings = replace(settings, signing_key=str(key.path), unit=replace(unit, officer_designation=""))
    first, second = top_subjects(engine, 2, routed_only=True)
    built = build_referral(engine, settings, "analyst", first, tmp_path / "out")
    assert built.key_fingerprint == key.fingerprint
    check, stored = verify_package(engine, built.folder)
    assert check.ok and check.signature == "valid" and check.key_fingerprint == key.fingerprint
    assert stored == f"referral {built.reference}" and check.files == built.files
    if shutil.which("sha256sum"):
        run = subprocess.run(["sha256sum", "-c", "manifest-sha256.txt"], cwd=built.folder, capture_output=True)
        assert run.returncode == 0, run.stdout
    if shutil.which("openssl"):
        command = "openssl pkeyutl -verify -pubin -inkey signing-key.pub.pem -rawin -in manifest-sha256.txt"
        run = subprocess.run([*command.split(), "-sigfile", "manifest-sha256.txt.sig"], cwd=built.folder)
        assert run.returncode == 0

    # the fingerprint closes the referral and runs in every page footer, English and Hindi
    document = Document(str(built.part(".docx")))
    text = "\n".join(p.text for p in document.paragraphs)
    assert f"Unit signing key (SHA-256 fingerprint): {key.fingerprint}" in text
    assert f"इकाई की हस्ताक्षर कुंजी (SHA-256 फ़िंगरप्रिंट): {key.fingerprint}" in text
    assert key.fingerprint in document.sections[0].footer.paragraphs[0].text
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(built.part(".pdf")))
    pages = ["".join(pdf[i].get_textpage().get_text_range().split()) for i in range(len(pdf))]
    pdf.close()
    assert all(key.fingerprint.replace(" ", "") in page for page in pages)

    # the s.63 certificate: the system, each part's SHA-256, the date, the certifying officer; Word and PDF alike
    certificate = Document(str(built.part("-certificate.docx")))
    words = "\n".join(p.text for p in certificate.paragraphs) + "\n".join(
        c.text for t in certificate.tables for row in t.rows for c in row.cells
    )
    assert "Certificate under Section 63(4)(c) of the Bharatiya Sakshya Adhiniyam, 2023" in words
    assert "भारतीय साक्ष्य अधिनियम, 2023 की धारा 63(4)(ग)" in words and "Section 65B" in words
    assert f"tipfusion {__version__}" in words and safe_url(db_url) in words
    assert "Inspector A. Rao, Cyber Crime Unit, Mockabad" in words and key.fingerprint in words
    stem = built.reference.replace("/", "-")
    for suffix in (".docx", ".pdf", ".json", "-annex.xlsx"):
        assert built.files[stem + suffix] in words, suffix
    assert f"{built.part('.json').stat().st_size}" in words
    produced = datetime.now(UTC).astimezone(settings.profile.zone)
    assert f"{produced:%d/%m/%Y}" in words
    pdf = pdfium.PdfDocument(str(built.part("-certificate.pdf")))
    whole = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    pdf.close()
    assert "Bharatiya Sakshya Adhiniyam" in whole and built.files[stem + ".json"] in "".join(whole.split())

    # a unit's own template replaces the built-in certificate, for the Word file and the PDF alike
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "certificate.html.j2").write_text(
        "<html><body><h1>Certificate of the Mockabad unit: {{ c.reference }}</h1><table>{% for p in c.parts %}"
        "<tr><td>{{ p.name }}</td><td>{{ p.sha256 }}</td></tr>{% endfor %}</table></body></html>"
    )
    own = build_referral(engine, replace(settings, templates_dir=str(templates)), "analyst", second, tmp_path / "out")
    replaced = Document(str(own.part("-certificate.docx")))
    assert replaced.paragraphs[0].text == f"Certificate of the Mockabad unit: {own.reference}"
    assert replaced.tables[0].rows[0].cells[1].text in own.files.values()
    assert verify_package(engine, own.folder)[0].ok


def test_the_case_a_referral_opens(routed: tuple[Engine, Settings, GenerateResult], tmp_path: Path) -> None:
    engine, settings, result = routed
    suspect, other = top_subjects(engine, 2, routed_only=True)
    built = build_referral(engine, settings, "analyst", suspect, tmp_path / "out")
    second = build_referral(engine, settings, "analyst", other, tmp_path / "out", to="PS Mockabad 2")
    assert (second.station, second.district) == ("PS Mockabad 2", "Mockabad")
    today = datetime.now(UTC).astimezone(settings.profile.zone).date()
    case = str(built.case_id)
    with pytest.raises(TransitionRefused, match="cannot become"):
        advance(engine, settings, "officer", case, "arrested", {"count": 1, "date": today.isoformat()})
    advance(engine, settings, "officer", case, "acknowledged", {})
    advance(
        engine,
        settings,
        "officer",
        built.reference,
        "fir_registered",
        {"fir_number": f"0042/{today.year}", "fir_date": today.isoformat(), "sections": "IT Act 67B; POCSO 15"},
    )
    advance(engine, settings, "officer", case, "arrested", {"count": 1, "date": today.isoformat(), "names": "A. Rao"})
    with pytest.raises(TransitionRefused, match="not in the expected form"):
        correct(engine, settings, "officer", case, "fir_number", "FORTY-TWO", "typo")
    with pytest.raises(TipfusionError, match="needs a reason"):
        correct(engine, settings, "officer", case, "fir_number", f"0043/{today.year}", " ")
    correct(engine, settings, "officer", case, "fir_number", f"0043/{today.year}", "typed 42 for 43")
    before, after = transfer(engine, "supervisor", case, "PS Testnagar 1", "the accused lives in Testnagar")
    assert before == built.station and after == "PS Testnagar 1"
    with pytest.raises(NotFound):
        transfer(engine, "supervisor", case, "PS Nowhere", "x")
    row, events = history(engine, case)
    assert (row.state, row.fir_number, row.arrests, row.station, row.district) == (
        "arrested",
        f"0043/{today.year}",
        1,
        "PS Testnagar 1",
        "Testnagar",
    )
    assert [e.action for e in events] == [
        "transition",
        "transition",
        "transition",
        "transition",
        "correction",
        "transfer",
    ]
    correction = events[4]
    assert correction.fields["before"] == f"0042/{today.year}" and correction.reason == "typed 42 for 43"
    assert events[5].fields["from_station"] == built.station  # history keeps where it was
    with engine.connect() as conn:
        actions = set(conn.execute(select(audit_events.c.action)).scalars())
    assert {"referral.built", "case.transition", "case.correction", "case.transfer"} <= actions

    # overdue: the second case is never acknowledged; an ISP request covering it goes unanswered
    sent_at = datetime.now(UTC)
    assert [i.what for i in overdue(engine, settings, sent_at + timedelta(hours=47))] == []
    late = overdue(engine, settings, sent_at + timedelta(hours=49))
    assert [(i.station, i.what) for i in late] == [("PS Mockabad 2", "acknowledgement")]
    week = overdue(engine, settings, sent_at + timedelta(days=8))
    assert {(i.station, i.what) for i in week} == {
        ("PS Mockabad 2", "acknowledgement"),
        ("PS Mockabad 2", "FIR registration"),
    }
    requests = build_requests(engine, settings, "analyst", tmp_path / "requests", result.reference.isp_table)
    for request in requests:
        mark_sent(engine, "analyst", request.request_id, sent_at - timedelta(hours=1))
    later = overdue(engine, settings, sent_at + timedelta(hours=80))
    isp = [i for i in later if i.what.startswith("ISP answer")]
    assert isp and {i.station for i in isp} >= {"central unit"}
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(isp_requests)).scalar_one() == len(requests)
    covered = {i.reference for i in isp}
    assert covered & {built.reference, second.reference} or all(i.case is None for i in isp)


def test_operation_totals_reconcile_with_the_cases(
    routed: tuple[Engine, Settings, GenerateResult], db_url: str, tmp_path: Path
) -> None:
    engine, settings, _ = routed
    now = datetime.now(UTC)
    create_operation(engine, "chief", "MASOOM-TEST", now - timedelta(days=1), now + timedelta(days=1), "test drive")
    targets = top_subjects(engine, 4, routed_only=True) + top_subjects(engine, 2)
    built = [build_referral(engine, settings, "analyst", t, tmp_path / "out") for t in dict.fromkeys(targets)]
    today = now.astimezone(settings.profile.zone).date().isoformat()
    for n, referral in enumerate(built[:3]):
        advance(engine, settings, "o", referral.reference, "acknowledged", {})
        advance(
            engine,
            settings,
            "o",
            referral.reference,
            "fir_registered",
            {"fir_number": f"{n + 1:04d}/{now.year}", "fir_date": today, "sections": "IT Act 67B"},
        )
        advance(engine, settings, "o", referral.reference, "arrested", {"count": 1, "date": today})
    advance(engine, settings, "o", built[0].reference, "chargesheet_filed", {"date": today})
    advance(engine, settings, "o", built[4].reference, "closed", {"closed_reason": "untraced"})
    report = operation_report(engine, "MASOOM-TEST")
    with engine.connect() as conn:
        rows = conn.execute(select(cases)).all()
    assert report.totals["referrals"] == len(built) == len(rows)
    assert report.totals["firs"] == sum(1 for r in rows if r.fir_number) == 3
    assert report.totals["arrests"] == sum(r.arrests for r in rows) == 3
    assert report.totals["chargesheets"] == 1 and report.totals["closed"] == 1
    for key in ("referrals", "firs", "arrests", "devices", "chargesheets", "closed"):
        assert report.totals[key] == sum(row[key] for row in report.rows)
    stations = {(r.district or "central", r.station or "central unit") for r in rows}
    assert {(row["district"], row["station"]) for row in report.rows} == stations
    assert report.totals["reports"] >= max(row["reports"] for row in report.rows) > 0

    for fmt in ("csv", "xlsx", "pdf"):
        write_report(report, fmt, tmp_path / f"op.{fmt}")
    lines = (tmp_path / "op.csv").read_text().splitlines()
    assert (
        lines[0].startswith("# SYNTHETIC") and lines[1].startswith("# Unit-wide") and lines[-1].startswith("All,All,")
    )
    sheet = load_workbook(tmp_path / "op.xlsx")["Totals"]
    assert sheet._charts and sheet.cell(sheet.max_row - 1, 1).value == "All"
    with engine.connect() as conn:
        arrived = conn.execute(select(func.count()).select_from(reports)).scalar_one()  # all ingested in the period
    assert report.received == arrived and f"{arrived:,} reports received" in str(sheet.cell(sheet.max_row, 1).value)
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(tmp_path / "op.pdf"))
    text = pdf[0].get_textpage().get_text_range()
    assert "Referrals, FIRs registered and arrests per police station" in text and "MASOOM-TEST" in text
    runner = CliRunner()
    shown = runner.invoke(app, ["--database", db_url, "operation", "report", "MASOOM-TEST"])
    assert shown.exit_code == 0 and "All" in shown.output


def test_interop_exports_validate(routed: tuple[Engine, Settings, GenerateResult], db_url: str, tmp_path: Path) -> None:
    from stix2validator import validate_instance

    from tipfusion.refer.interop import validate_misp

    engine, settings, _ = routed
    with engine.connect() as conn:
        network = conn.execute(select(networks.c.network_id).order_by(networks.c.suspects.desc()).limit(1)).scalar_one()
    event = interop_export(engine, settings, network, "misp")
    validate_misp(event)
    body = event["Event"]
    assert "SYNTHETIC" in body["info"] and {t["name"] for t in body["Tag"]} >= {"tlp:red"}
    assert {o["name"] for o in body["Object"]} >= {"ip-port", "file"}
    ports = [o for o in body["Object"] if o["name"] == "ip-port"]
    assert all({a["object_relation"] for a in o["Attribute"]} >= {"ip-src", "src-port", "first-seen"} for o in ports)
    bundle = interop_export(engine, settings, network, "stix")
    assert validate_instance(bundle).is_valid
    kinds = {o["type"] for o in bundle["objects"]}
    assert {"identity", "relationship", "grouping", "file", "marking-definition"} <= kinds
    runner = CliRunner()
    out = tmp_path / "net.stix.json"
    done = runner.invoke(app, ["--database", db_url, "export", "referral", network, "--format", "stix", "-o", str(out)])
    assert done.exit_code == 0 and json.loads(out.read_text())["type"] == "bundle"


def _report_xml(email: str, incident: str = "2026-05-01T10:00:00Z") -> str:
    return (
        "<report><incidentSummary><incidentType>Child Pornography (possession, manufacture, and distribution)"
        f"</incidentType><incidentDateTime>{incident}</incidentDateTime></incidentSummary>"
        "<reporter><reportingPerson><email>t@esp.test</email></reportingPerson></reporter>"
        f"<personOrUserReported><personOrUserReportedPerson><email>{email}</email></personOrUserReportedPerson>"
        f"</personOrUserReported></report>"
    )


def test_new_reports_flag_an_open_case_and_a_supplementary_referral_says_what_changed(
    routed: tuple[Engine, Settings, GenerateResult], db_url: str, tmp_path: Path
) -> None:
    engine, settings, _ = routed
    (suspect,) = top_subjects(engine, 1, routed_only=True)
    first = build_referral(engine, settings, "analyst", suspect, tmp_path / "out")
    package = json.loads(first.part(".json").read_text())
    email = next(i["canonical"] for i in package["identifiers"] if i["kind"] == "email")
    assert refresh_flags(engine, "t") == []
    later = tmp_path / "later"
    later.mkdir()
    (later / "999000001.xml").write_text(_report_xml(email))
    assert IngestService(engine, settings, "t").ingest_paths([later]).quarantined == 0
    LinkService(engine, "t").run()
    ((case_id, note),) = refresh_flags(engine, "t")
    assert case_id == first.case_id and note == "1 new reports"
    runner = CliRunner()
    listed = runner.invoke(app, ["--database", db_url, "cases", "list"])
    assert "1 new reports" in listed.output
    supplement = build_referral(engine, settings, "analyst", suspect, tmp_path / "out")
    assert supplement.kind == "supplementary" and supplement.reference == f"{first.reference}/S1"
    assert supplement.case_id == first.case_id
    (other,) = top_subjects(engine, 1)
    after = build_referral(engine, settings, "analyst", other, tmp_path / "out")
    assert after.reference == first.reference[:-6] + f"{int(first.reference[-6:]) + 1:06d}"  # /S1 takes no number
    body = json.loads(supplement.part(".json").read_text())
    assert body["changes"]["reports"] == ["999000001"] and body["parent_reference"] == first.reference
    docx_text = "\n".join(p.text for p in Document(str(supplement.part(".docx"))).paragraphs)
    assert "What changed since the last package" in docx_text
    with engine.connect() as conn:
        assert conn.execute(select(cases.c.needs_update).where(cases.c.id == first.case_id)).scalar_one() is None
    assert refresh_flags(engine, "t") == []
    with pytest.raises(TipfusionError, match="nothing new"):
        build_referral(engine, settings, "analyst", suspect, tmp_path / "out")


def test_referral_numbers_count_initial_referrals_only(engine: Engine) -> None:
    """The year's sequence numbers initial referrals; `<ref>/S1`, `<ref>/S2` take none of its numbers."""
    from tipfusion.refer.service import _next_reference

    at = datetime(2026, 6, 1, tzinfo=UTC)
    with engine.begin() as conn:
        for number, (reference, parent) in enumerate(
            [("TF/REF/2026/000001", None), ("TF/REF/2026/000001/S1", 1), ("TF/REF/2026/000001/S2", 1)], start=1
        ):
            conn.execute(
                referrals.insert().values(
                    id=number,
                    reference=reference,
                    subject_type="suspect",
                    subject_id="S1",
                    suspects=["S1"],
                    kind="initial" if parent is None else "supplementary",
                    parent_id=parent,
                    built_at=at,
                    output_dir="out",
                    files={},
                    manifest_sha256="0" * 64,
                    snapshot={},
                    actor="t",
                )
            )
        assert _next_reference(conn, "TF/REF", at, None) == "TF/REF/2026/000002"
        parent = conn.execute(select(referrals).where(referrals.c.id == 1)).one()
        assert _next_reference(conn, "TF/REF", at, parent) == "TF/REF/2026/000001/S3"


def test_routing_flags_identifiers_already_in_another_stations_case(
    routed: tuple[Engine, Settings, GenerateResult], db_url: str, tmp_path: Path
) -> None:
    engine, settings, _ = routed
    (suspect,) = top_subjects(engine, 1, routed_only=True)
    built = build_referral(engine, settings, "analyst", suspect, tmp_path / "out", to="PS Fictiva 5")
    package = json.loads(built.part(".json").read_text())
    email = next(i["canonical"] for i in package["identifiers"] if i["kind"] == "email")
    # another suspect elsewhere shares that email: split off by hand (a family account, say)
    later = tmp_path / "later"
    later.mkdir()
    (later / "999000002.xml").write_text(_report_xml(email))
    IngestService(engine, settings, "t").ingest_paths([later])
    runner = CliRunner()
    split = runner.invoke(app, ["--database", db_url, "override", "split", "999000002", "--reason", "a family account"])
    assert split.exit_code == 0, split.output
    LinkService(engine, "t").run()
    route_all(engine, "t", None)
    rows = {r["suspect_id"]: r for r in routing_rows(engine)}
    flagged = [r for r in rows.values() if f"email {email} is in open case {built.case_id}" in r["deconfliction"]]
    assert flagged, "the other holder of the email is flagged at routing time"
    with engine.connect() as conn:
        notes = [
            e.fields.get("note", "")
            for e in conn.execute(
                select(case_events).where(case_events.c.case_id == built.case_id, case_events.c.action == "flag")
            )
        ]
    assert any(email in n for n in notes), "and the case side is flagged too"
    route_all(engine, "t", None)
    with engine.connect() as conn:
        again = conn.execute(
            select(func.count())
            .select_from(case_events)
            .where(case_events.c.case_id == built.case_id, case_events.c.action == "flag")
        ).scalar_one()
    assert again == len(notes)  # routing again does not repeat the flag


def test_the_commands_a_station_and_the_unit_use(
    routed: tuple[Engine, Settings, GenerateResult], db_url: str, tmp_path: Path
) -> None:
    engine, _, _ = routed
    runner = CliRunner()

    def run(*args: str) -> str:
        done = runner.invoke(app, ["--database", db_url, *args])
        assert done.exit_code == 0, done.output
        return done.output

    today = clock.today(Settings().profile.zone)  # the unit's day: after 18:30 UTC it is already tomorrow in India
    run("operation", "create", "OP-CLI", "--from", (today - timedelta(days=1)).isoformat(), "--to", today.isoformat())
    built = run("refer", "build", "--top", "2", "--output", str(tmp_path / "refs"))
    assert "TF/REF/" in built and "SYNTHETIC" in built
    run("cases", "advance", "1", "acknowledged")
    run(
        "cases",
        "advance",
        "1",
        "fir_registered",
        "--fir-number",
        f"7/{today.year}",
        "--fir-date",
        today.isoformat(),
        "--sections",
        "IT Act 67B; POCSO 15",
    )
    run("cases", "advance", "1", "arrested", "--count", "1", "--date", today.isoformat(), "--names", "A. Rao")
    refused = runner.invoke(
        app, ["--database", db_url, "cases", "advance", "2", "chargesheet_filed", "--date", today.isoformat()]
    )
    assert refused.exit_code != 0 and "cannot become chargesheet_filed" in str(refused.exception)
    run("cases", "correct", "1", "fir_number", f"8/{today.year}", "--reason", "typo")
    run("cases", "transfer", "1", "--to", "PS Demopur 2", "--reason", "address is in Demopur")
    shown = run("cases", "show", "1")
    assert f"FIR 8/{today.year}" in shown and "transfer" in shown and "correction" in shown
    assert "PS Demopur 2" in run("cases", "list", "--district", "Demopur")
    assert "nothing overdue" in run("cases", "overdue")
    late = run("cases", "overdue", "--at", (datetime.now(UTC) + timedelta(days=9)).isoformat()[:19])
    assert "FIR registration" in late
    later = (datetime.now(UTC) + timedelta(days=9)).isoformat()[:19]
    assert "nothing overdue" in run("cases", "overdue", "--at", later, "--station", "PS Nowhere")
    assert "OP-CLI" in run("operation", "list")
    wrong = runner.invoke(app, ["--database", db_url, "operation", "create", "X", "--from", "31/02/26", "--to", "x"])
    assert wrong.exit_code == 2 and "--from" in wrong.output and "YYYY-MM-DD" in wrong.output
    report = run("operation", "report", "OP-CLI", "-o", str(tmp_path / "op.xlsx"))
    assert "All" in report and (tmp_path / "op.xlsx").is_file()
    assert "0 case(s) newly flagged" in run("cases", "check")
    assert "TF/REF/" in run("refer", "list")
    out = tmp_path / "misp.json"
    run("export", "referral", "TF/REF/" + str(today.year) + "/000001", "--format", "misp", "-o", str(out))
    assert json.loads(out.read_text())["Event"]["info"].startswith("tipfusion TF/REF/")
    with engine.connect() as conn:
        actions = set(conn.execute(select(audit_events.c.action)).scalars())
    assert {
        "case.viewed",
        "case.listed",
        "export.referral",
        "export.operation",
        "operation.saved",
        "operation.viewed",
    } <= actions


def test_suspects_on_one_home_line_are_shown_as_a_household(engine: Engine, db_url: str, tmp_path: Path) -> None:
    """Issue 17 §2: two people on one home broadband line, whom nothing else makes one person, stay two suspects —
    and the referral of either shows the household: the line, every suspect on it with their reports, apart."""
    from tipfusion.domain import SUSPECT_ROLES
    from tipfusion.store.tables import identifier_observations as o
    from tipfusion.store.tables import ip_enrichments, report_links
    from tipfusion.synth import Noise

    settings = Settings(database_url=db_url)
    noise = Noise(mobile_share=0.0, nameless_share=1.0, household_share=1.0)
    through_routing(engine, settings, "tester", generate(tmp_path / "batch", 120, seed=43, noise=noise))
    on_line: dict[str, set[str]] = {}
    with engine.connect() as conn:
        rows = conn.execute(
            select(o.c.canonical, report_links.c.suspect_id)
            .join(report_links, report_links.c.report_id == o.c.report_id)
            .join(ip_enrichments, ip_enrichments.c.ip == o.c.canonical)
            .where(o.c.kind == "ip", o.c.is_current.is_(True), o.c.role.in_(sorted(SUSPECT_ROLES)))
            .where(ip_enrichments.c.network_type == "fixed")
        ).all()
    for line, suspect in rows:
        on_line.setdefault(line, set()).add(suspect)
    line, held = next((line, held) for line, held in sorted(on_line.items()) if len(held) == 2)
    first, second = sorted(held)
    built = build_referral(engine, settings, "analyst", first, tmp_path / "out")
    package = json.loads(built.part(".json").read_text())
    (household,) = [h for h in package["households"] if h["line"] == line]
    assert household["suspects"] == [first, second] and household["elsewhere"] == [second]
    assert household["in_this_referral"] == [first] and len(household["reports"]) == 2
    assert "possibly several people" in household["note"]
    text = "\n".join(p.text for p in Document(str(built.part(".docx"))).paragraphs)
    assert "Households: one home line, possibly several people" in text
    assert "Households" in load_workbook(built.part("-annex.xlsx")).sheetnames
