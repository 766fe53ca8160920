"""The police JSON export: field names from the reference, "N/A" as absent, one bad report alone rejected."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conftest import FIXTURES
from tipfusion.config import XmlLimits
from tipfusion.domain import ParsedReport
from tipfusion.errors import DocumentRejected
from tipfusion.ingest import police_json

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
