"""Devices in what leaves the unit: shown and exported as received (a 15-digit IMEI keeps its check digit) while
linking compares the first 14 digits; in MISP, a device is a `phone` or `device` object that fits its template in
the misp-objects set PyMISP ships."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import Engine

from tipfusion.config import Settings
from tipfusion.errors import TipfusionError
from tipfusion.ingest import IngestService
from tipfusion.link.service import LinkService
from tipfusion.refer.dossier import Dossier
from tipfusion.refer.interop import misp_event, misp_object_problems, stix_bundle, validate_misp
from tipfusion.refer.service import build_referral
from tipfusion.refer.subjects import interop_export

REAL_SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "real-samples"


def template_of(name: str) -> dict[str, Any]:
    """The misp-objects template as PyMISP ships it, read straight from its data folder."""
    import pymisp

    path = Path(pymisp.__file__).parent / "data" / "misp-objects" / "objects" / name / "definition.json"
    definition: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return definition


def assert_fits_template(item: dict[str, Any]) -> None:
    """Every relation is the template's, with its type; required and one-of-required present; singles single."""
    template = template_of(item["name"])
    relations = [a["object_relation"] for a in item["Attribute"]]
    for attribute in item["Attribute"]:
        declared = template["attributes"].get(attribute["object_relation"])
        assert declared is not None, f"{item['name']} has no relation {attribute['object_relation']}"
        assert attribute["type"] == declared["misp-attribute"]
    assert set(template.get("required", [])) <= set(relations)
    assert not template.get("requiredOneOf") or set(template["requiredOneOf"]) & set(relations)
    for relation in set(relations):
        assert relations.count(relation) == 1 or template["attributes"][relation].get("multiple")


def device(values: list[str], canonical: str, suspect: str = "S1", flags: list[str] | None = None) -> dict[str, Any]:
    return {
        "kind": "device",
        "canonical": canonical,
        "shown": ", ".join(values),
        "values": values,
        "reports": [1],
        "esps": ["esp.test"],
        "suspects": [suspect],
        "first_seen_utc": "2026-05-01T10:00:00Z",
        "last_seen_utc": "2026-05-02T10:00:00Z",
        "valid": True,
        "flags": flags or [],
        "enrichment": "",
        "provenance": [],
    }


def dossier_with(identifiers: list[dict[str, Any]]) -> Dossier:
    return Dossier(
        subject_type="suspect",
        subject_id="S1",
        suspects=["S1"],
        network_id=None,
        network=None,
        priority=None,
        suspect_priorities={},
        routing=[],
        reports=[],
        identifiers=identifiers,
        ip_timeline=[],
        other_parties=[],
        files=[],
        answers=[],
        requests=[],
        display_timezone="Asia/Kolkata",
    )


DEVICES = [
    # one handset reported by its IMEI and, elsewhere, by its IMEISV: one identifier (first 14 digits)
    device(["IMEI:490154203237518", "IMEISV:4901542032375101"], "IMEI:49015420323751"),
    device(["ICCID:8991101200003204510"], "ICCID:8991101200003204510"),
    device(["IMEISV:3569380356438091"], "IMEI:35693803564380"),
    device(["MAC:001A2B3C4D5E"], "MAC:001A2B3C4D5E"),
    device(["ANDROID_ID:9774d56d682e549c"], "ANDROID_ID:9774d56d682e549c"),
    device(["IMEI:12345"], "IMEI:12345", flags=["imei_length"]),
]


def test_misp_devices_are_phone_or_device_objects_that_fit_their_templates() -> None:
    event = misp_event(dossier_with(DEVICES), "TF/REF/2026/000001", synthetic=True)
    validate_misp(event)
    objects = event["Event"]["Object"]
    assert len(objects) == len(DEVICES)
    for item in objects:
        assert_fits_template(item)
        assert misp_object_problems(item) == []
    relations = [{(a["object_relation"], a["value"]) for a in o["Attribute"]} for o in objects]
    assert [o["name"] for o in objects] == ["phone", "phone", "phone", "device", "device", "phone"]
    assert relations[0] == {("imei", "490154203237518"), ("text", "IMEISV:4901542032375101")}  # 15 digits
    assert relations[1] == {("iccid", "8991101200003204510")}
    assert relations[2] == {("text", "IMEISV:3569380356438091")}
    assert relations[3] == {("alias", "MAC:001A2B3C4D5E"), ("MAC-address", "00:1a:2b:3c:4d:5e")}
    assert relations[4] == {("alias", "ANDROID_ID:9774d56d682e549c")}
    assert relations[5] == {("imei", "12345")} and "imei_length" in objects[5]["comment"]
    assert objects[0]["first_seen"].startswith("2026-05-01") and objects[0]["last_seen"].startswith("2026-05-02")


def test_misp_validation_refuses_objects_off_their_template() -> None:
    old_style = {"name": "phone", "Attribute": [{"object_relation": "serial-number", "type": "text", "value": "x"}]}
    assert any("At least one of" in p for p in misp_object_problems(old_style))  # what devices went out as
    assert misp_object_problems({"name": "no-such-template", "Attribute": []}) == [
        "object 'no-such-template': no such misp-objects template"
    ]
    unknown = {"name": "phone", "Attribute": [{"object_relation": "imeisv", "type": "text", "value": "1"}]}
    assert misp_object_problems(unknown) == ["object 'phone': relation 'imeisv' is not in the template"]
    wrong_type = {"name": "phone", "Attribute": [{"object_relation": "imei", "type": "phone-number", "value": "1"}]}
    assert "the template says 'text'" in misp_object_problems(wrong_type)[0]
    event = misp_event(dossier_with(DEVICES[:1]), None, synthetic=False)
    event["Event"]["Object"].append(unknown)
    with pytest.raises(TipfusionError, match="relation 'imeisv'"):
        validate_misp(event)


def test_stix_names_the_devices_as_received() -> None:
    bundle = stix_bundle(dossier_with(DEVICES[:2]), None, "Unit", synthetic=True)
    (person,) = [o for o in bundle["objects"] if o["type"] == "identity" and o["identity_class"] == "individual"]
    assert "IMEI:490154203237518" in person["description"] and "ICCID:8991101200003204510" in person["description"]


def test_a_real_reports_devices_leave_as_received(engine: Engine, db_url: str, tmp_path: Path) -> None:
    """ncmec-cybertip's maximal report: an IMEI with its check digit and an ICCID, everywhere a person reads them."""
    folder = REAL_SAMPLES / "xml" / "nachtalb"
    if not folder.is_dir():
        pytest.skip(f"real samples not found at {folder} (the shared folder beside the repository)")
    settings = Settings(database_url=db_url)
    assert IngestService(engine, settings, "t").ingest_paths([folder]).quarantined == 0
    LinkService(engine, "t").run()

    event = interop_export(engine, settings, "S4242001", "misp")
    phones = [o for o in event["Event"]["Object"] if o["name"] == "phone"]
    for item in phones:
        assert_fits_template(item)
    found = {(a["object_relation"], a["value"]) for o in phones for a in o["Attribute"]}
    assert found == {("imei", "490154203237518"), ("iccid", "8991101200003204510")}

    built = build_referral(engine, settings, "analyst", "S4242001", tmp_path / "out")
    package = json.loads(built.part(".json").read_text())
    (imei,) = [i for i in package["identifiers"] if i["canonical"] == "IMEI:49015420323751"]
    assert imei["shown"] == "IMEI:490154203237518"  # linking compares 14 digits; people read all 15
    assert any("IMEI:490154203237518" in c["task"] for c in package["checklist"])
    cells = {c.text for t in Document(str(built.part(".docx"))).tables for r in t.rows for c in r.cells}
    assert "IMEI:490154203237518\ndevice ID" in cells and not any(c.startswith("IMEI:49015420323751\n") for c in cells)
    sheet = load_workbook(built.part("-annex.xlsx"))["Identifiers"]
    header = [c.value for c in sheet[1]]
    shown = [row[header.index("Shown")] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert "IMEI:490154203237518" in shown
