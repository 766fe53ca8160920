"""Nothing lost, nothing misattributed: real documents from public NCMEC clients, read in place from
`../shared/real-samples/`, and the role of every identifier from ingest to every output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import Engine, func, select

from tipfusion.config import Settings
from tipfusion.domain import SUSPECT_ROLES
from tipfusion.enrich.service import EnrichConfig, EnrichService
from tipfusion.ingest import IngestService
from tipfusion.link.export import suspect_rows
from tipfusion.link.service import LinkService
from tipfusion.refer.dossier import gather
from tipfusion.refer.service import build_referral
from tipfusion.refer.subjects import interop_export
from tipfusion.route.service import gather_evidence
from tipfusion.store.report_detail import report_detail
from tipfusion.store.tables import files, identifier_observations, report_links, report_version_parts

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "real-samples"
XML = REAL / "xml"


def _real(*parts: str) -> Path:
    path = XML.joinpath(*parts)
    if not REAL.is_dir():
        pytest.skip(f"real samples not found at {REAL} (the shared/ folder beside the repository)")
    return path


def _land(engine: Engine, settings: Settings, *paths: Path) -> object:
    return IngestService(engine, settings, "test").ingest_paths(list(paths))


# -- several fileDetails for one file ---------------------------------------------------------------------------
def test_every_file_details_document_for_one_file_is_kept(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    """johannes-andersen sends four fileDetails for report 123456, file FILE789: all four land, each as its own
    row with its own source document; the one with hashes, an IP and a device ID is not overwritten."""
    folder = _real("johannes-andersen")
    summary = _land(engine, settings, folder)
    assert summary.quarantined == 0  # type: ignore[attr-defined]
    with engine.connect() as conn:
        rows = conn.execute(select(files).where(files.c.report_id == 123456)).all()
        parts = conn.execute(
            select(report_version_parts.c.role).where(report_version_parts.c.report_id == 123456)
        ).all()
        sightings = {
            (o.kind, o.value, o.port)
            for o in conn.execute(
                select(identifier_observations).where(
                    identifier_observations.c.report_id == 123456, identifier_observations.c.file_ordinal.is_not(None)
                )
            )
        }
    assert len(rows) == 4 and {r.file_id for r in rows} == {"FILE789"}
    assert len({r.source_sha256 for r in rows}) == 4
    assert sorted(p.role for p in parts) == ["file_details"] * 4 + ["report"]
    assert ("file_hash", "md5:e86fdc2283aff4179685f2a918a769eb", None) in sightings
    assert ("ip", "192.168.5.100", 443) in sightings
    assert any(kind == "device" and "354123456789012" in value for kind, value, _ in sightings)
    assert any(kind == "device" and "89012345678901234567" in value for kind, value, _ in sightings)
    relevance = {r.relevance for r in rows}
    assert {"Reported", "Supplemental Reported"} <= relevance  # both documents' values, neither overwritten

    again = _land(engine, settings, folder)  # the same documents again: a no-op
    assert again.accepted == again.updated == 0  # type: ignore[attr-defined]

    # a later batch adds a fifth document for the same file: a new version holding all five
    extra = tmp_path / "later"
    extra.mkdir()
    (extra / "fd-5.xml").write_text(
        "<fileDetails><reportId>123456</reportId><fileId>FILE789</fileId>"
        "<additionalInfo>fifth document, later batch</additionalInfo></fileDetails>"
    )
    later = _land(engine, settings, extra)
    assert later.updated == 1  # type: ignore[attr-defined]
    with engine.connect() as conn:
        detail = report_detail(conn, 123456)
    current = detail["versions"][0]
    assert current["version"] == 2 and current["current"]
    assert len(current["files"]) == 5
    assert len(detail["versions"][1]["files"]) == 4  # the earlier version stays as it was


def test_referral_files_join_the_documents_of_one_file(engine: Engine, settings: Settings) -> None:
    _land(engine, settings, _real("johannes-andersen"))
    LinkService(engine, "test").run()
    with engine.connect() as conn:
        suspect = conn.execute(select(report_links.c.suspect_id).where(report_links.c.report_id == 123456)).scalar_one()
        dossier = gather(conn, "suspect", suspect, [suspect], settings.profile.zone)
    rows = [f for f in dossier.files if f["report_id"] == 123456]
    assert len(rows) == 1, rows  # one file …
    (row,) = rows
    assert row["details_documents"] == 4  # … described by four documents
    assert {"MD5", "SHA1"} <= set(row["hashes"])
    assert row["relevance"] == "Reported" and row["also_reported"]["relevance"] == ["Supplemental Reported"]


# -- whose identifiers ------------------------------------------------------------------------------------------
def _roles(engine: Engine, report_id: int) -> dict[tuple[str, str], str]:
    with engine.connect() as conn:
        return {
            (o.kind, o.value): o.role
            for o in conn.execute(
                select(identifier_observations).where(identifier_observations.c.report_id == report_id)
            )
        }


def test_each_identifier_keeps_its_role_from_ingest(engine: Engine, settings: Settings) -> None:
    _land(engine, settings, _real("johannes-andersen"))
    roles = _roles(engine, 123456)
    assert roles[("screen_name", "suspicious_user_123")] == "reported"
    assert roles[("screen_name", "victim_user")] == "recipient"
    assert roles[("esp_user", "company.com/USER123")] == "recipient"
    assert roles[("ip", "192.168.5.100")] == "reported"  # the upload of the reported person's file
    assert roles[("chat_room", "securechat/private-room-123")] == "incident"


def test_other_peoples_identifiers_never_appear_as_the_suspects(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    """The intended recipient's account and screen name, and the victim, are listed apart in every output about the
    suspect: export suspects, the referral (JSON, Word, Excel annex), MISP and STIX."""
    _land(engine, settings, _real("johannes-andersen"))
    LinkService(engine, "test").run()
    with engine.connect() as conn:
        suspect = conn.execute(select(report_links.c.suspect_id).where(report_links.c.report_id == 123456)).scalar_one()
        dossier = gather(conn, "suspect", suspect, [suspect], settings.profile.zone)
        exported = {r["suspect_id"]: r for r in suspect_rows(conn)}[suspect]
    others = {"company.com/USER123", "victim_user", "USER123"}
    mine = {v for i in dossier.identifiers for v in (i["canonical"], *i["values"])}
    assert not mine & others
    assert {i["kind"] for i in dossier.identifiers} >= {"screen_name", "ip"}
    assert all(set(i["roles"]) <= SUSPECT_ROLES for i in dossier.identifiers)
    apart = {(o["role"], o["canonical"]) for o in dossier.other_parties}
    assert ("recipient", "company.com/USER123") in apart and ("recipient", "victim_user") in apart
    assert "USER123" not in exported["esp_accounts"] and "USER123" in exported["recipient_accounts"]

    built = build_referral(engine, settings, "test", suspect, tmp_path / "out")
    package = json.loads(built.part(".json").read_text())
    assert not {v for i in package["identifiers"] for v in i["values"]} & others
    assert {o["canonical"] for o in package["other_parties"]} >= {"company.com/USER123", "victim_user"}
    word = "\n".join(
        cell.text for table in Document(str(built.part(".docx"))).tables for row in table.rows for cell in row.cells
    )
    assert "NOT the suspect" in "\n".join(p.text for p in Document(str(built.part(".docx"))).paragraphs)
    assert "victim_user" in word  # shown, in its own section
    annex = load_workbook(built.part("-annex.xlsx"), read_only=True)
    identifiers_sheet = " ".join(str(c) for row in annex["Identifiers"].iter_rows(values_only=True) for c in row)
    assert "USER123" not in identifiers_sheet and "victim_user" not in identifiers_sheet
    other_sheet = " ".join(
        str(c) for row in annex["Other people (not the suspect)"].iter_rows(values_only=True) for c in row
    )
    assert "company.com/USER123" in other_sheet and "intended recipient" in other_sheet

    for fmt in ("misp", "stix"):
        text = json.dumps(interop_export(engine, settings, suspect, fmt))
        assert "USER123" not in text and "victim_user" not in text, fmt
        assert "suspicious_user_123" in text, fmt


def test_roles_hold_across_a_synthetic_pipeline(engine: Engine, settings: Settings, synthetic_batch: Path) -> None:
    """On the generator's batch (recipients and victims included), no suspect's referral identifiers include a value
    seen only on another person's account."""
    _land(engine, settings, synthetic_batch)
    ref = synthetic_batch / "reference"
    EnrichService(
        engine,
        EnrichConfig((ref / "demo-asn.mmdb", ref / "demo-city.mmdb"), ref / "demo-isps.csv", None),
        "test",
    ).run()
    LinkService(engine, "test").run()
    o = identifier_observations
    with engine.connect() as conn:
        other_only = {
            (row.kind, row.canonical)
            for row in conn.execute(select(o.c.kind, o.c.canonical).where(o.c.role.in_(["recipient", "victim"])))
        } - {
            (row.kind, row.canonical)
            for row in conn.execute(select(o.c.kind, o.c.canonical).where(o.c.role.in_(list(SUSPECT_ROLES))))
        }
        assert other_only, "the generator writes recipients and victims"
        suspects = [r.suspect_id for r in conn.execute(select(report_links.c.suspect_id).distinct().limit(60))]
        for suspect in suspects:
            dossier = gather(conn, "suspect", suspect, [suspect], settings.profile.zone)
            assert not {(i["kind"], i["canonical"]) for i in dossier.identifiers} & other_only
        counted = conn.execute(select(func.count()).select_from(o).where(o.c.role == "recipient")).scalar_one()
    assert counted > 0


# -- one definition of current ------------------------------------------------------------------------------------
_REPORT = (
    "<report><incidentSummary><incidentType>Child Pornography (possession, manufacture, and distribution)"
    "</incidentType><incidentDateTime>2025-03-14T21:07:33Z</incidentDateTime></incidentSummary>"
    "<reporter><reportingPerson><email>t@esp.test</email></reportingPerson></reporter>"
    "<personOrUserReported><espIdentifier>u-moved</espIdentifier>{location}</personOrUserReported></report>"
)


def test_routing_reads_only_the_current_version(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    """Version 2 dropped <estimatedLocation>: routing must not use version 1's."""
    first, second = tmp_path / "v1", tmp_path / "v2"
    first.mkdir()
    second.mkdir()
    location = "<estimatedLocation><city>Oldtown</city><countryCode>IN</countryCode></estimatedLocation>"
    (first / "100000501.xml").write_text(_REPORT.format(location=location))
    (second / "100000501.xml").write_text(_REPORT.format(location=""))
    _land(engine, settings, first)
    LinkService(engine, "test").run()
    assert any(e.kind == "esp_location" for ev in gather_evidence(engine, {}).values() for e in ev)
    _land(engine, settings, second)
    LinkService(engine, "test").run()
    assert not any(e.kind == "esp_location" for ev in gather_evidence(engine, {}).values() for e in ev)


def test_an_account_associated_with_a_recipient_is_the_recipients(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    """`associated` is not the suspect's side by itself: an account the ESP associated with the intended recipient
    belongs to the recipient, in the sightings and in "Suspect as reported"."""
    from tipfusion.refer.dossier import as_reported

    batch = tmp_path / "batch"
    batch.mkdir()
    (batch / "100000601.xml").write_text(
        _REPORT.format(location="").replace(
            "</report>",
            "<intendedRecipient><espIdentifier>u-child</espIdentifier>"
            '<associatedAccount type="Linked"><espIdentifier>u-childs-other</espIdentifier></associatedAccount>'
            "</intendedRecipient></report>",
        )
    )
    _land(engine, settings, batch)
    assert _roles(engine, 100000601)[("esp_user", "esp.test/u-childs-other")] == "recipient"
    with engine.connect() as conn:
        mine = as_reported(conn, [100000601], {100000601: "S1"}, {})
        theirs = as_reported(conn, [100000601], {100000601: "S1"}, {}, parties=frozenset({"recipient"}))
    assert {r["value"] for r in mine if r["field"] == "esp_account"} == {"u-moved"}
    assert {r["value"] for r in theirs if r["field"] == "esp_account"} == {"u-child", "u-childs-other"}
