"""The police JSON export: field names from the reference, "N/A" as absent, one bad report alone rejected."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from tests.conftest import FIXTURES
from tipfusion.config import Settings, XmlLimits
from tipfusion.domain import ParsedReport
from tipfusion.errors import DocumentRejected
from tipfusion.ingest import IngestService, police_json
from tipfusion.store.tables import report_versions
from tipfusion.synth import generate

EXAMPLE = json.loads((FIXTURES / "police-100000042.json").read_text())


def parse_obj(obj: Any) -> list[ParsedReport | DocumentRejected]:
    data = json.dumps(obj).encode()
    return list(
        police_json.iter_reports(data, source="p.json", source_sha256="s" * 64, phone_region="IN", limits=XmlLimits())
    )


def test_reference_example() -> None:
    (report,) = parse_obj(EXAMPLE)
    assert isinstance(report, ParsedReport)
    assert report.report_id == 100000042 and report.esp_name == "ExampleChat, Inc."
    assert report.esp_scope == "example.com"
    assert report.date_received == datetime(2025, 3, 15, 2, 11, 9, tzinfo=UTC)
    person = report.accounts[0]
    assert person.esp_identifier == "u-7f3a91c2" and person.screen_name == "quietfox87"
    assert person.details["addresses"] == [{"city": "Exampleton", "postalCode": "00000", "country": "DE"}]
    kinds = {(o.kind, o.value) for o in report.observations}
    assert ("phone", "+4915550000123") in kinds and ("email", "quiet.fox.1987@example.net") in kinds
    ip = next(o for o in report.observations if o.kind == "ip" and o.account == 0)
    assert (ip.value, ip.port, ip.event_name) == ("203.0.113.45", 51322, "Upload")  # UPLOAD mapped, not flagged
    assert not [i for i in report.issues if i.code == "enum_case"]
    (f,) = report.files
    assert f.hashes == {"MD5": "214f03192322f8b05aadf3414b1e186e"} and f.viewed_by_esp is True
    assert f.details["ncmecTags"] == ["Apparent Child Pornography"]
    assert report.parts[0].role == "json_report" and report.parts[0].pointer == "0"


def test_a_list_of_reports_and_one_bad_one() -> None:
    bad = dict(EXAMPLE, reportId="N/A")
    second = json.loads(json.dumps(EXAMPLE))
    second["reportId"] = 100000043
    results = parse_obj([EXAMPLE, bad, second])
    assert isinstance(results[0], ParsedReport) and isinstance(results[2], ParsedReport)
    assert isinstance(results[1], DocumentRejected) and results[1].reason == "missing_report_id"
    assert results[1].source == "p.json#1"


def test_na_means_absent_and_unknown_keys_are_kept() -> None:
    obj = json.loads(json.dumps(EXAMPLE))
    person = obj["reportedInformation"]["reportedPeople"]["reportedPersons"][0]
    person["screenName"] = {"value": "N/A"}
    person["favouriteColour"] = "blue"
    obj["reportedInformation"]["newSection"] = {"a": 1}
    (report,) = parse_obj(obj)
    assert isinstance(report, ParsedReport)
    assert report.accounts[0].screen_name is None
    assert {e["path"] for e in report.extras} == {
        "reportedInformation.reportedPeople.reportedPersons[0].favouriteColour",
        "reportedInformation.newSection",
    }


@pytest.mark.parametrize(
    "mutate,reason",
    [
        (lambda o: o["reportedInformation"].pop("reportingEsp"), "missing_element"),
        (lambda o: o.pop("reportedInformation"), "missing_element"),
        (
            lambda o: o["reportedInformation"]["reportedPeople"]["reportedPersons"][0]["sourceInformation"][
                "sourceCaptures"
            ][0].update(value="not-an-ip"),
            "invalid_ip",
        ),
        (
            lambda o: o["reportedInformation"]["incidentSummary"].update(incidentDateTime="2025-02-30T00:00:00Z"),
            "impossible_date",
        ),
    ],
)
def test_bad_reports_are_rejected(mutate: Any, reason: str) -> None:
    obj = json.loads(json.dumps(EXAMPLE))
    mutate(obj)
    (result,) = parse_obj(obj)
    assert isinstance(result, DocumentRejected) and result.reason == reason and result.report_id in (None, 100000042)


def test_malformed_json_names_the_line() -> None:
    with pytest.raises(DocumentRejected) as caught:
        police_json.split_units(b'{"reportId": 1,\n "x": }', "p.json", XmlLimits())
    assert caught.value.reason == "malformed_json" and caught.value.line == 2


# -- nothing received is dropped: unknown keys at every depth -------------------------------------------------
VERBATIM = (  # objects stored whole, as received, in a field: their keys are kept there rather than as extras
    ("reportedInformation", "reportingEsp"),
    ("reportedInformation", "incidentDetails", "*", int),
    ("addresses", "addresses", int),
    ("espMetadata", "metadatas", int),
)


def _is_verbatim(location: tuple[str | int, ...]) -> bool:
    for pattern in VERBATIM:
        for start in range(len(location) - len(pattern) + 1):
            window = location[start : start + len(pattern)]
            if all(
                p == "*" or (p is int and isinstance(w, int)) or p == w for p, w in zip(pattern, window, strict=True)
            ):
                return True
    return False


def _json_path(location: tuple[str | int, ...], key: str) -> str:
    if not location:
        return f"$.{key}"
    out = str(location[0])
    for part in location[1:]:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return f"{out}.{key}"


def _inject(
    obj: Any, added: list[tuple[tuple[str | int, ...], str, str]], location: tuple[str | int, ...] = ()
) -> None:
    """Add one unknown key to every object of the report, at every depth (lists are walked, not changed)."""
    if isinstance(obj, dict):
        for key, value in list(obj.items()):
            _inject(value, added, (*location, key))
        key, value = f"zzUnknown{len(added)}", f"kept-{len(added)}"
        obj[key] = value
        added.append((location, key, value))
    elif isinstance(obj, list):
        for i, item in enumerate(obj):
            _inject(item, added, (*location, i))


def _augment(report: dict[str, Any]) -> None:
    """Shapes the generator does not write but the reference names: tag groups, ESP metadata, victims, locations."""
    info = report["reportedInformation"]
    person = info["reportedPeople"]["reportedPersons"][0]
    person["displayNames"] = {"displayNames": [{"value": "Display One"}, "Display Two"]}
    person["estimatedLocation"] = {"city": "Exampleton", "countryCode": "IN", "verified": False}
    person["additionalInformations"] = [{"value": "person note"}]
    person["sourceInformation"]["sourceCaptures"].append(
        {"captureType": "Device ID", "valueType": "GAID", "value": "38400000-8cf0-11bd-b23e-10b96e40000d"}
    )
    person.setdefault("addresses", {"addresses": [{"city": "Exampleton", "country": "IN"}]})
    info["victims"] = {"victims": [{"approximateAge": 14, "screenName": {"value": "victim_1"}}]}
    info["incidentDetails"].setdefault("chatImIncident", [{"chatClient": "ExampleChat", "chatRoomName": "room-1"}])
    for item in info["uploadedFiles"]["uploadedFiles"]:
        item["ncmecTags"] = {"groups": [{"tags": [{"value": "Apparent Child Pornography"}]}]}
        item["espMetadata"] = {"metadatas": [{"name": "Upload Date and Time", "value": "2025-03-14T21:07:31Z"}]}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    out = tmp_path_factory.mktemp("synth-json") / "batch"
    generate(out, 8, seed=21, fmt="json")
    reports = [obj for path in sorted((out / "reports").glob("*.json")) for obj in json.loads(path.read_text())]
    for report in reports:
        _augment(report)
    return reports


def _mutated(generated: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[list[tuple[Any, ...]]]]:
    reports = json.loads(json.dumps(generated))
    injected = []
    for report in reports:
        added: list[tuple[tuple[str | int, ...], str, str]] = []
        _inject(report, added)
        report["odd key.x"] = "kept-odd"
        added.append(((), "odd key.x", "kept-odd"))
        injected.append(added)
    return reports, injected


def test_unknown_keys_at_every_depth_are_kept_with_their_paths(generated: list[dict[str, Any]]) -> None:
    reports, injected = _mutated(generated)
    assert all(not r.extras for r in parse_obj(generated))  # the generator's own output holds no unknown key
    for parsed, added in zip(parse_obj(reports), injected, strict=True):
        assert isinstance(parsed, ParsedReport)
        kept = Counter((e["path"], e["raw"]) for e in parsed.extras)
        stored = json.dumps(
            [
                parsed.reporter,
                [i.data for i in parsed.incidents],
                [a.details for a in parsed.accounts],
                [f.details for f in parsed.files],
            ]
        )
        expected = Counter()
        for location, key, value in added:
            if _is_verbatim(location):
                assert f'"{key}": "{value}"' in stored, (location, key)
            else:
                path = '$["odd key.x"]' if key == "odd key.x" else _json_path(location, key)
                expected[(path, json.dumps(value))] += 1
        assert kept == expected  # each kept once, at its path, and nothing else
        assert len(expected) > 30  # every level of the report was reached


def test_unknown_keys_are_stored_with_the_version_and_counted(
    engine: Engine, settings: Settings, generated: list[dict[str, Any]], tmp_path: Path
) -> None:
    reports, injected = _mutated(generated)
    source = tmp_path / "export.json"
    source.write_text(json.dumps(reports))
    summary = IngestService(engine, settings, "tester").ingest_paths([source])
    assert summary.accepted == len(reports) and summary.quarantined == 0
    kept = sum(1 for added in injected for location, _, _ in added if not _is_verbatim(location))
    assert summary.unknown_fields == kept
    with engine.connect() as conn:
        rows = conn.execute(select(report_versions.c.extras, report_versions.c.unknown_count)).all()
    assert sum(row.unknown_count for row in rows) == kept
    assert sum(len(row.extras or []) for row in rows) == kept
    paths = {e["path"] for row in rows for e in row.extras}
    assert "reportedInformation.incidentSummary.zzUnknown0" not in paths  # numbered per report: check one shape
    assert any(p.startswith("reportedInformation.incidentSummary.zzUnknown") for p in paths)
    assert any(".ncmecTags.groups[0].tags[0].zzUnknown" in p for p in paths)
    assert '$["odd key.x"]' in paths


# -- device IDs and display names ---------------------------------------------------------------------------------
def test_device_id_captures_and_display_names() -> None:
    obj = json.loads(json.dumps(EXAMPLE))
    person = obj["reportedInformation"]["reportedPeople"]["reportedPersons"][0]
    person["displayNames"] = ["Q. Fox", {"value": "Quiet F"}, "N/A"]
    person["sourceInformation"]["sourceCaptures"] += [
        {
            "captureType": "Device ID",
            "valueType": "IDFA",
            "value": "6D92078A-8246-4BA4-AE5B-76104861E7DC",
            "dateTime": "2025-03-14T20:55:02Z",
            "eventName": "LOGIN",
        },
        {"captureType": "Device ID", "value": "A1B2C3"},
    ]
    upload = obj["reportedInformation"]["uploadedFiles"]["uploadedFiles"][0]["sourceInformation"]["sourceCaptures"]
    upload.append({"captureType": "Device ID", "valueType": "IMEI", "value": "490154203237518"})
    (report,) = parse_obj(obj)
    assert isinstance(report, ParsedReport)
    devices = [o for o in report.observations if o.kind == "device"]
    assert [(o.value, o.account, o.file) for o in devices] == [
        ("IDFA:6D92078A-8246-4BA4-AE5B-76104861E7DC", 0, None),
        ("UNKNOWN:A1B2C3", 0, None),
        ("IMEI:490154203237518", None, 0),
    ]
    idfa = devices[0]
    assert idfa.attrs == {"idType": "IDFA"} and idfa.event_name == "Login"
    assert idfa.observed_at == datetime(2025, 3, 14, 20, 55, 2, tzinfo=UTC)
    assert any(i.code == "missing_element" and i.path.endswith("sourceCaptures[3].valueType") for i in report.issues)
    account = report.accounts[0]
    assert account.display_name == "Q. Fox" and account.details["displayNames"] == ["Q. Fox", "Quiet F"]
    names = [(o.raw, o.path) for o in report.observations if o.kind == "display_name"]
    base = "reportedInformation.reportedPeople.reportedPersons[0]"
    assert names == [("Q. Fox", f"{base}.displayNames[0]"), ("Quiet F", f"{base}.displayNames[1]")]
    assert not report.extras
