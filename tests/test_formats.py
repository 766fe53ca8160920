"""Input formats as a registry: each format claims its own documents and no other's, and a new format is one object.

The fixtures are labelled by where they come from (the generator's folders, the shared real samples, the test
fixtures), never by sniffing, so a sniff that starts claiming another format's documents fails here.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from tests.conftest import FIXTURES
from tipfusion.config import Settings, XmlLimits
from tipfusion.domain import ParsedReport, QuarantineEntry, SourcePart
from tipfusion.errors import DocumentRejected
from tipfusion.ingest import IngestService, registry
from tipfusion.ingest.builder import Builder
from tipfusion.ingest.registry import CERTAIN, LIKELY, NO, Format, ParseContext, Piece
from tipfusion.ingest.sources import LoadedDocument
from tipfusion.store.tables import audit_events, identifier_observations, quarantine_entries, reports, source_documents
from tipfusion.synth import generate

REAL = Path("/work/shared/real-samples")
ALL_ROLES = frozenset({"container", "marker", "reference", "report", "file_details", "leads", "answer"})
# an ISP's answer as it is sent: its own column names, a time in its log zone without a zone
ANSWER_CSV = (
    b"IP Address,Source Port,Session Time,Subscriber Name,Mobile,Email\n"
    b"203.0.113.7,51234,2025-03-15 02:25:02,Subscriber One,98110 12345,sub.one@example.com\n"
)


def _real_samples() -> list[tuple[str, str | None]]:
    """The shared real samples, labelled by what their authors wrote them as."""
    labelled: list[tuple[str, str | None]] = []
    for path in sorted((REAL / "xml").rglob("*.xml")):
        details = "fileinfo" in path.name or "FileDetails" in path.name or path.name == "incompleteIPCaptureXML.xml"
        labelled.append((str(path), "esp_file_details" if details else "esp_report"))
    labelled += [(str(p), "reference_data") for p in sorted((REAL / "mmdb").glob("*.mmdb"))]
    labelled += [(str(REAL / "README.md"), None), (str(REAL / "mmdb" / "LICENSE-MIT.txt"), None)]
    return labelled


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[bytes, str | None]]:
    """name → (bytes, the format it was written as; None for documents that are no input format)."""
    out = tmp_path_factory.mktemp("formats")
    generate(out / "xml", 4, seed=21)
    generate(out / "json", 3, seed=22, fmt="json")
    by_folder = {"reports": None, "files": "esp_file_details", "leads": "leads_csv", "reference": "reference_data"}
    labelled: list[tuple[str, str | None]] = []
    for batch in (out / "xml", out / "json"):
        for path in sorted(p for p in batch.rglob("*") if p.is_file()):
            folder = path.relative_to(batch).parts[0]
            if folder in by_folder:
                label = by_folder[folder] or ("ncmec_json" if path.suffix == ".json" else "esp_report")
            else:
                assert path.name in {"SYNTHETIC-DATA.json", "truth.csv"}, path
                label = "synthetic_marker"
            labelled.append((str(path), label))
    labelled += [
        (str(FIXTURES / "100000042.xml"), "esp_report"),
        (str(FIXTURES / "full" / "300000001.xml"), "esp_report"),
        (str(FIXTURES / "file-0a1b2c3d.xml"), "esp_file_details"),
        (str(FIXTURES / "full" / "file-full.xml"), "esp_file_details"),
        (str(FIXTURES / "police-100000042.json"), "ncmec_json"),
    ]
    labelled += _real_samples()
    found: dict[str, tuple[bytes, str | None]] = {name: (Path(name).read_bytes(), label) for name, label in labelled}
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("100000042.xml", (FIXTURES / "100000042.xml").read_bytes())
    found["batch.zip"] = (archive.getvalue(), "zip")
    found["answer-from-isp.csv"] = (ANSWER_CSV, "isp_answer")
    return found


def test_every_format_claims_its_own_fixtures_and_no_others(fixtures: dict[str, tuple[bytes, str | None]]) -> None:
    every = registry.formats()
    assert set(every) >= {"zip", "esp_report", "esp_file_details", "ncmec_json", "leads_csv", "isp_answer"}
    # a format without a fixture here is a format nobody has shown it tells its documents apart
    assert {label for _, label in fixtures.values()} - {None} == set(every)
    wrong = []
    for name, (data, label) in fixtures.items():
        claimed = registry.classify(name, data, ALL_ROLES)
        if (claimed.name if claimed else None) != label:
            wrong.append(f"{name}: claimed by {claimed.name if claimed else None}, written as {label}")
            continue
        over = [f.name for f in every.values() if f.sniff(name, data) > f.surest]
        if over:  # classify stops early trusting `surest`: a sniff above it could lose to a less sure format
            wrong.append(f"{name}: {over} sniff surer than their `surest`")
        own = every[label].sniff(name, data) if label else NO
        rivals = [f.name for f in every.values() if f.name != label and f.sniff(name, data) >= max(own, 1e-9)]
        if rivals:
            wrong.append(f"{name} ({label}): also claimed as surely by {rivals}")
    assert not wrong, "\n".join(wrong)


def test_an_xlsx_answer_is_an_answer_to_the_answer_command_and_a_zip_to_ingest() -> None:
    """A spreadsheet is a zip: ingest keeps it whole as before; the answer command reads it as an answer."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["IP Address", "Session Time"])
    sheet.append(["203.0.113.7", "2025-03-15 02:25:02"])
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()
    answer = registry.classify("answer.xlsx", data, frozenset({"answer"}))
    ingested = registry.classify("answer.xlsx", data)
    assert (answer and answer.name, ingested and ingested.name) == ("isp_answer", "zip")


def test_the_answer_format_reads_an_isp_csv() -> None:
    answer = registry.get("isp_answer")
    context = ParseContext("a.csv", "0" * 64, "IN", XmlLimits(), options={"zone": "Asia/Kolkata"})
    ((line, row),) = answer.parse(ANSWER_CSV, context)
    assert (line, row["ip"], row["port"], row["phone"]) == (2, "203.0.113.7", 51234, "+919811012345")
    assert row["time"].isoformat() == "2025-03-14T20:55:02+00:00"  # read in the ISP's zone, kept in UTC


def test_only_the_roles_ingest_lands_are_classified_by_ingest() -> None:
    assert registry.classify("a.csv", ANSWER_CSV) is None  # an answer given to ingest is unrecognised, as before
    rejected = registry.unclaimed("a.csv", ANSWER_CSV)
    assert rejected.reason == "unrecognised_format"
    assert registry.unclaimed("x.xml", b"<html/>").reason == "wrong_root"
    with registry.registered(TOY):  # what ingest would take is listed from the registry: a new format is named
        assert "a toy plain-text tip" in str(registry.unclaimed("a.bin", b"?").expected)


# -- a format added by one object --------------------------------------------------------------------------------
TOY_MAGIC = b"TIPTXT/1\n"


def _toy_sniff(_name: str, data: bytes) -> float:
    return CERTAIN if data.startswith(TOY_MAGIC) else NO


def _toy_split(document: LoadedDocument, _limits: XmlLimits) -> list[Piece | DocumentRejected]:
    fields = _toy_fields(document.data)
    if not fields.get("reportId", "").isdigit():
        raise DocumentRejected(document.name, "missing_report_id", "no reportId line", element="reportId")
    return [Piece(int(fields["reportId"]), document.name)]


def _toy_parse(payload: Any, context: ParseContext) -> ParsedReport:
    assert context.report_id is not None
    fields = _toy_fields(payload)
    b = Builder(context.source, context.phone_region, report_id=context.report_id)
    account = b.new_account("reported", "tiptxt/reported")
    b.observe("email", fields.get("email"), "tiptxt/reported/email", account=account.ordinal)
    part = SourcePart("tiptxt", context.source_sha256, context.source_sha256, context.source)
    return ParsedReport(
        context.report_id, "tiptxt", parts=[part], accounts=b.accounts, observations=b.observations, issues=b.issues
    )


def _toy_fields(data: bytes) -> dict[str, str]:
    lines = data.decode().splitlines()[1:]
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in lines) if k.strip()}


TOY = Format(
    "tiptxt", "report", "a toy plain-text tip", _toy_sniff, _toy_split, _toy_parse, part_role="tiptxt", surest=CERTAIN
)


def test_a_registered_format_is_ingested_like_the_built_ins(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    batch = tmp_path / "batch"
    batch.mkdir()
    tip = TOY_MAGIC + b"reportId: 700000001\nemail: Toy.Person@Example.com\n"
    (batch / "tip.txt").write_bytes(tip)
    (batch / "broken.txt").write_bytes(TOY_MAGIC + b"email: nobody@example.com\n")
    (batch / "100000042.xml").write_bytes((FIXTURES / "100000042.xml").read_bytes())

    with registry.registered(TOY):
        first = IngestService(engine, settings, "tester").ingest_paths([batch])
        again = IngestService(engine, settings, "tester").ingest_paths([batch])
        # parser processes would not know the toy: asked for them, ingest still parses it here
        (batch / "tip-2.txt").write_bytes(TOY_MAGIC + b"reportId: 700000002\nemail: other@example.com\n")
        workers = IngestService(engine, replace(settings, ingest_workers=2), "tester").ingest_paths([batch])
        (batch / "tip-2.txt").unlink()
    assert (workers.accepted, workers.quarantined) == (1, 1)
    assert "tiptxt" not in registry.formats()
    assert (first.accepted, first.quarantined) == (2, 1)  # the toy tip lands; the one without a reportId does not
    assert (again.accepted, again.duplicates, again.new_documents) == (0, 2, 0)  # re-ingest changes nothing
    unknown = IngestService(engine, settings, "tester").ingest_paths([batch])
    assert unknown.quarantined == 2  # without the format both are unrecognised again
    sha = hashlib.sha256(tip).hexdigest()
    with engine.connect() as conn:
        assert conn.execute(select(reports.c.format).where(reports.c.report_id == 700000001)).scalar_one() == "tiptxt"
        stored_as = conn.execute(select(source_documents.c.format).where(source_documents.c.sha256 == sha))
        assert stored_as.scalar_one() == "tiptxt"
        email = conn.execute(
            select(identifier_observations.c.canonical, identifier_observations.c.role).where(
                identifier_observations.c.report_id == 700000001
            )
        ).one()
        entry = conn.execute(
            select(quarantine_entries).where(
                quarantine_entries.c.reason == "missing_report_id", quarantine_entries.c.status == "open"
            )
        ).one()
        details = [
            e.details for e in conn.execute(select(audit_events).where(audit_events.c.action == "document.quarantined"))
        ]
    assert tuple(email) == ("toy.person@example.com", "reported")
    assert (entry.source_name, entry.element, entry.format) == (str(batch / "broken.txt"), "reportId", "tiptxt")
    assert any(_details(d).get("format") == "tiptxt" for d in details)  # the audit names the format it was read as


def _details(raw: Any) -> dict[str, Any]:
    import json

    return raw if isinstance(raw, dict) else json.loads(raw)


def test_a_quarantine_entry_names_the_file_not_the_piece() -> None:
    error = DocumentRejected("batch.json#3", "invalid_ip", "not an IP", element="ipAddress", line=7, report_id=9)
    entry = QuarantineEntry.of(error, "a" * 64, 5, pointer="3", fmt="ncmec_json")
    assert (entry.source_name, entry.pointer, entry.format, entry.rejected) == ("batch.json", "3", "ncmec_json", True)
    assert entry.describe() == "batch.json:7: invalid_ip: not an IP [element ipAddress]"
    assert (entry.row()["format"], entry.row()["report_id"]) == ("ncmec_json", 9)
    waiting = QuarantineEntry.waiting("b" * 64, "f.xml", "F1", 9, "its report has not arrived yet", 5, "x")
    assert not waiting.rejected and waiting.key == ("b" * 64, "F1", "orphan_file_details")


def test_a_surer_format_wins_over_an_earlier_one_and_ties_go_to_the_earlier() -> None:
    def magic(_name: str, data: bytes) -> float:
        return CERTAIN if data.startswith(b'{"magic"') else LIKELY if data.startswith(b"{") else NO

    surer = Format("magic_json", "report", "JSON with a magic key", magic, surest=CERTAIN)
    with registry.registered(surer, order=999):
        assert registry.classify("a.json", b'{"magic": 1}') is surer
        plain = registry.classify("b.json", b'{"reportId": 1}')
        assert plain is not None and plain.name == "ncmec_json"  # equally sure: the earlier format keeps it
    assert registry.classify("a.json", b'{"magic": 1}') == registry.get("ncmec_json")


def test_a_damaged_spreadsheet_answer_is_rejected_not_a_crash() -> None:
    """Found by the reliability suite: a damaged XLSX raised BadZipFile out of the answer command."""
    context = ParseContext("answer.xlsx", "0" * 64, "IN", XmlLimits())
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
    for damaged in (b"PK\x03\x04" + b"\x00" * 40, archive.getvalue()[:-30]):
        with pytest.raises(DocumentRejected) as caught:
            registry.get("isp_answer").parse(damaged, context)
        assert caught.value.reason == "malformed_answer"
