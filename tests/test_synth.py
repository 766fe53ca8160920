"""The generator: deterministic, harmless (reserved ranges only), and strict about the schema's element order."""

from __future__ import annotations

import csv
import ipaddress
import re
import time
from pathlib import Path

import maxminddb
import pytest
from lxml import etree

from tipfusion.enrich.demo import DEMO_BUILD_EPOCH, build_demo_reference
from tipfusion.synth import generate

# Child order per the reference (shared/reference/ncmec-report-format.md §2–§4): generators must follow it exactly.
ORDER = {
    "report": [
        "batchedReport",
        "incidentSummary",
        "internetDetails",
        "lawEnforcement",
        "reporter",
        "personOrUserReported",
        "intendedRecipient",
        "victim",
        "additionalInfo",
    ],
    "incidentSummary": [
        "incidentType",
        "platform",
        "escalateToHighPriority",
        "reportAnnotations",
        "incidentDateTime",
        "incidentDateTimeDescription",
    ],
    "reporter": ["reportingPerson", "contactPerson", "companyTemplate", "termsOfService", "legalURL"],
    "reportingPerson": ["firstName", "lastName", "phone", "email", "address", "age", "dateOfBirth"],
    "personOrUserReportedPerson": ["firstName", "lastName", "phone", "email", "address", "age", "dateOfBirth"],
    "victimPerson": ["firstName", "lastName", "phone", "email", "address", "age", "dateOfBirth"],
    "personOrUserReported": [
        "personOrUserReportedPerson",
        "vehicleDescription",
        "espIdentifier",
        "espService",
        "compromisedAccount",
        "screenName",
        "displayName",
        "profileUrl",
        "profileBio",
        "ipCaptureEvent",
        "deviceId",
        "thirdPartyUserReported",
        "priorCTReports",
        "groupIdentifier",
        "accountTemporarilyDisabled",
        "accountPermanentlyDisabled",
        "estimatedLocation",
        "allEmailsReported",
        "associatedAccount",
        "additionalInfo",
    ],
    "intendedRecipient": [
        "intendedRecipientPerson",
        "espIdentifier",
        "espService",
        "compromisedAccount",
        "screenName",
        "displayName",
        "profileUrl",
        "profileBio",
        "ipCaptureEvent",
        "deviceId",
        "priorCTReports",
        "groupIdentifier",
        "accountTemporarilyDisabled",
        "accountPermanentlyDisabled",
        "estimatedLocation",
        "allEmailsReported",
        "additionalInfo",
    ],
    "victim": [
        "victimPerson",
        "espIdentifier",
        "espService",
        "compromisedAccount",
        "screenName",
        "displayName",
        "profileUrl",
        "profileBio",
        "ipCaptureEvent",
        "deviceId",
        "schoolName",
        "priorCTReports",
        "accountTemporarilyDisabled",
        "accountPermanentlyDisabled",
        "estimatedLocation",
        "allEmailsReported",
        "associatedAccount",
        "additionalInfo",
    ],
    "ipCaptureEvent": ["ipAddress", "eventName", "dateTime", "possibleProxy", "port"],
    "deviceId": ["idType", "idValue", "eventName", "dateTime"],
    "chatImIncident": ["chatClient", "chatRoomName", "content", "additionalInfo"],
    "webPageIncident": ["url", "additionalInfo"],
    "fileDetails": [
        "reportId",
        "fileId",
        "fileName",
        "originalFileName",
        "uploadedToEspTimestamp",
        "locationOfFile",
        "fileViewedByEsp",
        "exifViewedByEsp",
        "publiclyAvailable",
        "fileRelevance",
        "fileAnnotations",
        "industryClassification",
        "originalFileHash",
        "ipCaptureEvent",
        "deviceId",
        "details",
        "additionalInfo",
    ],
}
REQUIRED = {
    "report": {"incidentSummary", "reporter"},
    "incidentSummary": {"incidentType", "incidentDateTime"},
    "ipCaptureEvent": {"ipAddress"},
    "fileDetails": {"reportId", "fileId"},
    "victim": {"victimPerson"},
    "reporter": {"reportingPerson"},
}
SYNTHETIC_NETWORKS = [
    ipaddress.ip_network(n)
    for n in ("198.18.0.0/15", "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
]
EVENTS = {"Login", "Registration", "Purchase", "Upload", "Other", "Unknown"}


def check_order(element: etree._Element) -> None:
    name = etree.QName(element).localname
    children = [etree.QName(c).localname for c in element if isinstance(c.tag, str)]
    if name in ORDER:
        positions = [ORDER[name].index(c) for c in children]  # ValueError: an element the schema does not allow
        assert positions == sorted(positions), f"<{name}> children out of order: {children}"
        assert REQUIRED.get(name, set()) <= set(children), f"<{name}> lacks {REQUIRED[name] - set(children)}"
    if name == "internetDetails":
        assert len(children) == 1
    if name == "eventName":
        assert element.text in EVENTS
    for child in element:
        if isinstance(child.tag, str):
            check_order(child)


def test_xml_follows_the_schema_order(synthetic_batch: Path) -> None:
    documents = sorted((synthetic_batch / "reports").glob("*.xml")) + sorted((synthetic_batch / "files").glob("*.xml"))
    assert documents
    for path in documents:
        check_order(etree.parse(str(path)).getroot())


def test_only_reserved_addresses_and_example_domains(synthetic_batch: Path, synthetic_json_batch: Path) -> None:
    text = "".join(
        p.read_text()
        for batch in (synthetic_batch, synthetic_json_batch)
        for p in batch.rglob("*")
        if p.is_file() and p.suffix in {".xml", ".json"}
    )
    ips = set(re.findall(r"<ipAddress>([^<]+)</ipAddress>", text)) | set(
        re.findall(r'"captureType": "IP Address",\s*"value": "([^"]+)"', text)
    )
    assert ips
    for ip in ips:
        address = ipaddress.ip_address(ip)
        assert any(address in net for net in SYNTHETIC_NETWORKS if net.version == address.version), ip
    domains = {d.lower().strip(".") for d in re.findall(r"@([A-Za-z0-9.-]+)", text)}
    assert domains and all(d.endswith((".test", "example.com", "example.net", "example.org")) for d in domains)
    assert "SYNTHETIC" in text


def test_the_demo_databases_state_a_fixed_build_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """mmdb-writer stamps the clock's second: same-seed batches differed whenever a second ticked between them."""
    first = build_demo_reference(tmp_path / "a")
    monkeypatch.setattr(time, "time", lambda: DEMO_BUILD_EPOCH + 86_400 * 400)  # a later day
    second = build_demo_reference(tmp_path / "b")
    for one, other in zip(first.databases, second.databases, strict=True):
        assert one.read_bytes() == other.read_bytes()
        with maxminddb.open_database(str(one)) as reader:
            assert reader.metadata().build_epoch == DEMO_BUILD_EPOCH


def test_same_seed_same_batch(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", 40, seed=5)
    second = generate(tmp_path / "b", 40, seed=5)
    other = generate(tmp_path / "c", 40, seed=6)
    files_a = {p.relative_to(first.out): p.read_bytes() for p in first.out.rglob("*") if p.is_file()}
    files_b = {p.relative_to(second.out): p.read_bytes() for p in second.out.rglob("*") if p.is_file()}
    assert files_a == files_b
    assert (tmp_path / "c" / "truth.csv").read_bytes() != (tmp_path / "a" / "truth.csv").read_bytes()
    assert other.reports == 40


def test_truth_has_people_with_many_reports_and_networks(synthetic_batch: Path) -> None:
    with (synthetic_batch / "truth.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    persons = [r["person_id"] for r in rows]
    assert len(set(persons)) < len(persons)  # somebody is reported more than once
    assert any(r["network_id"] for r in rows) and any(not r["network_id"] for r in rows)


def test_noise_is_present(synthetic_batch: Path) -> None:
    text = "".join(p.read_text() for p in (synthetic_batch / "reports").glob("*.xml"))
    cgnat = re.findall(r"<ipAddress>198\.19\.0\.\d+</ipAddress>", text)
    assert len(cgnat) > len(set(cgnat))  # a shared carrier-grade-NAT pool
    assert "+05:30" in text and "Z<" in text  # mixed offsets
    files = "".join(p.read_text() for p in (synthetic_batch / "files").glob("*.xml"))
    assert "<viral/>" in files or "VIRAL_POTENTIAL_MEME" in text


def test_zip_output(tmp_path: Path) -> None:
    result = generate(tmp_path / "z", 10, seed=2, as_zip=True)
    assert (result.out / "batch.zip").exists() and not (result.out / "reports").exists()


def test_household_scenarios_are_drawn_apart_from_the_default_batch(tmp_path: Path) -> None:
    """Issue 17's cases: display names, nameless persons, two people on one home line, a relative's mailbox beside a
    phone of one's own — and a default world without them is the world it was (their draws are their own)."""
    from dataclasses import asdict

    from tipfusion.synth.world import Noise, build_world

    plain = build_world(600, 3)
    assert all(p.named and p.household is None for p in plain.persons)
    assert not any(a.display_name for p in plain.persons for a in p.accounts)
    hard = build_world(
        600, 3, Noise(display_name_share=1.0, nameless_share=1.0, household_share=1.0, shared_email_share=1.0)
    )
    by_id = {p.person_id: p for p in hard.persons}
    housemates = [(p, by_id[p.household]) for p in hard.persons if p.household]
    assert housemates and all(p.fixed_ips == [h.fixed_ips[0]] and p is not h for p, h in housemates)
    shared = [(p, q) for p in hard.persons for q in hard.persons if p is not q and set(p.emails) & set(q.emails)]
    assert shared and all(p.phone and q.phone and p.phone != q.phone for p, q in shared)
    assert all(not p.named for p in hard.persons)
    assert all(a.display_name for p in hard.persons for a in p.accounts)
    # the default draws are untouched: everything but the new fields is the same world
    changed = {"named", "household", "fixed_ips", "emails", "accounts"}
    assert [{k: v for k, v in asdict(p).items() if k not in changed} for p in plain.persons] == [
        {k: v for k, v in asdict(p).items() if k not in changed} for p in hard.persons
    ]
    out = generate(
        tmp_path / "h", 30, seed=3, noise=Noise(display_name_share=1.0, nameless_share=1.0, household_share=1.0)
    ).out
    text = "".join(p.read_text() for p in (out / "reports").glob("*.xml"))
    assert "<displayName>" in text and "<firstName>Trust</firstName>" in text
    assert text.count("<firstName>") == text.count("<firstName>Trust</firstName>")  # only the reporter is named
    for path in (out / "reports").glob("*.xml"):
        check_order(etree.parse(str(path)).getroot())
