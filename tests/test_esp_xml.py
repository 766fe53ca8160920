"""The ESP reporting XML parser: every element kind of the reference, tolerance, and what it refuses."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.conftest import FIXTURES
from tipfusion.config import XmlLimits
from tipfusion.domain import ParsedReport
from tipfusion.errors import DocumentRejected
from tipfusion.ingest import esp_xml
from tipfusion.ingest.xmlsafe import sniff_root
from tipfusion.store.repository import report_rows

LIMITS = XmlLimits()


def parse(data: bytes, report_id: int = 300000001) -> ParsedReport:
    return esp_xml.parse_report(data, source="t.xml", report_id=report_id, phone_region="IN", limits=LIMITS)


@pytest.fixture(scope="module")
def full() -> ParsedReport:
    report = parse((FIXTURES / "full" / "300000001.xml").read_bytes())
    files = [
        esp_xml.parse_file_details(
            (FIXTURES / "full" / "file-full.xml").read_bytes(), source="file-full.xml", phone_region="IN", limits=LIMITS
        )
    ]
    esp_xml.attach_files(report, files)
    return report


def values(report: ParsedReport, kind: str) -> list[str]:
    return [o.value for o in report.observations if o.kind == kind]


def test_summary_elements(full: ParsedReport) -> None:
    assert full.batched_reason == "VIRAL_POTENTIAL_MEME"
    assert full.incident_type == "Online Enticement of Children for Sexual Acts" and full.incident_type_known
    assert full.platform == "ExampleChat for iOS"
    assert full.escalation_text == "Child may be at immediate risk (synthetic)"
    assert [name for name, known in full.annotations if known] == [
        "sextortion",
        "csamSolicitation",
        "minorToMinorInteraction",
        "spam",
        "sadisticOnlineExploitation",
    ]
    assert full.incident_at == datetime(2025, 3, 14, 15, 37, 33, tzinfo=UTC)
    assert full.incident_at_raw == "2025-03-14T21:07:33+05:30"
    assert full.incident_at_description == "Detected by classifier"
    assert full.additional_info and full.additional_info.startswith("SYNTHETIC")
    assert full.esp_scope == "examplechat.test"


def test_all_eight_incident_kinds(full: ParsedReport) -> None:
    kinds = {i.kind: i.data for i in full.incidents}
    assert set(kinds) == {
        "webPageIncident",
        "emailIncident",
        "newsgroupIncident",
        "chatImIncident",
        "onlineGamingIncident",
        "cellPhoneIncident",
        "nonInternetIncident",
        "peer2peerIncident",
    }
    assert kinds["webPageIncident"]["thirdPartyHostedContent"] == "true"
    assert kinds["onlineGamingIncident"]["gameName"] == "Example Quest"
    assert kinds["cellPhoneIncident"]["latitude"] == pytest.approx(28.61)
    assert kinds["nonInternetIncident"]["incidentAddresses"][0]["nonUsaState"] == "Delhi"
    assert kinds["peer2peerIncident"]["fileNames"] == "a.bin b.bin"
    assert "chat_room" in {o.kind for o in full.observations}
    assert "examplechat/room-42" in values(full, "chat_room")
    assert "mail.sender@example.org" in values(full, "email")
    p2p = [o for o in full.observations if o.kind == "ip" and o.origin == "incident"]
    assert [(o.value, o.port, o.event_name) for o in p2p] == [("203.0.113.9", 6881, "Other")]


def test_law_enforcement_and_reporter(full: ParsedReport) -> None:
    le = full.law_enforcement or {}
    assert le["agencyName"] == "Example Police" and le["caseNumber"] == "EX-1"
    assert le["officerContact"]["emails"][0]["value"] == "officer@example.org"
    assert le["reportedToLe"] is True and le["servedLegalProcessDomestic"] is False
    assert le["servedLegalProcessInternational"] is True and le["fleaCountry"] == "DE"
    reporter = full.reporter or {}
    assert reporter["contactPerson"]["phones"][0]["countryCallingCode"] == "+1"
    assert reporter["termsOfService"].endswith("/tos") and reporter["legalURL"].endswith("/legal")
    # ESP staff contacts are not suspects: never identifier observations
    assert "trust-safety@examplechat.test" not in values(full, "email")


def test_reported_person_every_child(full: ParsedReport) -> None:
    person = full.accounts[0]
    assert person.role == "reported" and person.first_name == "Quiet" and person.last_name == "Fox"
    assert person.age == 37 and str(person.date_of_birth) == "1987-05-04"
    assert person.esp_identifier == "u-7f3a91c2" and person.esp_service == "ExampleChat Messaging"
    d = person.details
    assert d["vehicleDescription"] == "Blue example car" and d["profileBio"] == "Example bio"
    assert d["compromisedAccount"] is False and d["thirdPartyUserReported"] is False and d["allEmailsReported"] is True
    assert d["displayNames"] == ["Q. Fox", "Quiet F"] and len(d["profileUrls"]) == 2
    assert d["accountTemporarilyDisabled"]["reenabledDate"] == "2025-03-02T00:00:00Z"
    assert d["accountPermanentlyDisabled"] == {
        "value": True,
        "disabledDate": "2025-03-14T21:30:00Z",
        "userNotified": "false",
    }
    assert d["addresses"][0]["zipCode"] == "110002"
    assert "examplechat.test/u-7f3a91c2" in values(full, "esp_user")
    assert "quietfox87" in values(full, "screen_name")
    assert {"100000001", "100000002", "100000003"} <= set(values(full, "prior_report"))
    assert "examplechat.test/group-4471" in values(full, "group")
    location = full.locations[0]
    assert (location.city, location.region, location.country_code, location.verified) == (
        "Exampleton",
        "DL",
        "IN",
        False,
    )


def test_phone_and_email_attributes(full: ParsedReport) -> None:
    phone = next(o for o in full.observations if o.kind == "phone" and o.account == 0)
    assert phone.value == "+919811012345" and phone.raw == "098110 12345" and phone.verified is True
    assert phone.attrs == {"type": "Mobile", "verified": "true", "countryCallingCode": "+91", "extension": "12"}
    email = next(o for o in full.observations if o.kind == "email" and o.account == 0)
    assert email.value == "quiet.fox+pics@mail.example.com" and email.canonical == "quietfox@mail.example.com"
    assert email.attrs and email.attrs["verificationDate"] == "2024-11-02T10:00:00Z"


def test_ip_events_keep_time_port_and_proxy(full: ParsedReport) -> None:
    events = [o for o in full.observations if o.kind == "ip" and o.account == 0]
    mapped, cgnat = events[0], events[1]
    assert mapped.value == "198.51.100.23" and mapped.raw == "::ffff:198.51.100.23"
    assert mapped.observed_at == datetime(2025, 3, 15, 3, 55, 2, 123456, tzinfo=UTC)
    assert mapped.observed_at_raw == "2025-03-14T20:55:02.123456789-07:00"
    assert (mapped.port, mapped.possible_proxy, mapped.event_name) == (40001, True, "Login")
    assert cgnat.detail == "cgnat" and cgnat.port is None and "no_timezone" in cgnat.flags
    assert any(i.code == "no_timezone" for i in full.issues)


def test_devices(full: ParsedReport) -> None:
    devices = values(full, "device")
    assert "IMEI:490154203237518" in devices and "ICCID:89911010000000000019" in devices
    assert "SSID:Example-WiFi" in devices


def test_associated_account_is_scoped_to_its_platform(full: ParsedReport) -> None:
    assoc = next(a for a in full.accounts if a.role == "associated" and a.parent == 0)
    assert assoc.details["type"] == "Billing" and assoc.details["platform"] == "ExamplePay"
    assert assoc.details["thirdPartyUser"] is True and assoc.details["middleName"] == "R" and assoc.age == 38
    assert "examplepay/pay-55102" in values(full, "esp_user")
    assert "examplepay/pay-group" in values(full, "group")
    ipv6 = next(o for o in full.observations if o.kind == "ip" and o.account == assoc.ordinal)
    assert (ipv6.value, ipv6.event_name) == ("2001:db8::1", "Purchase")


def test_recipient_and_victim(full: ParsedReport) -> None:
    recipient = next(a for a in full.accounts if a.role == "recipient")
    assert recipient.details["additionalInfo"] == ["recipient note 1", "recipient note 2"]
    victim = next(a for a in full.accounts if a.role == "victim")
    assert victim.age == 14 and victim.details["schoolName"] == "Example School"
    guardian = next(a for a in full.accounts if a.role == "associated" and a.parent == victim.ordinal)
    assert guardian.details["type"] == "Parent/Guardian"


def test_free_text_identifiers_are_marked(full: ParsedReport) -> None:
    mined = {(o.kind, o.value) for o in full.observations if o.origin == "free_text"}
    assert ("ip", "192.0.2.77") in mined and ("email", "alt.fox@example.net") in mined


def test_file_details_every_child(full: ParsedReport) -> None:
    (f,) = full.files
    assert f.file_id == "ff00aa11bb22cc33" and f.file_name == "9f00aa.jpg" and f.original_file_name == "IMG_0001.jpg"
    assert f.uploaded_at == datetime(2025, 3, 14, 21, 7, 31, tzinfo=UTC)
    assert f.location_of_file and f.viewed_by_esp is False and f.exif_viewed_by_esp is True
    assert f.publicly_available is True and f.relevance == "Supplemental Reported" and f.potential_meme is True
    assert f.industry_classification == "A1"
    assert f.hashes == {
        "MD5": "214f03192322f8b05aadf3414b1e186e",
        "SHA1": "19f7465c192781cd867933fd760721dd4a1d5412",
        "SHA256": "64a00d9824b79a94c9c1b9ac5833bfb3a86931e4efdaf742ed45c5aa9395ef31",
    }
    assert f.details["details"][0] == {"type": "EXIF", "pairs": [{"name": "Make", "value": "ExampleCam"}]}
    assert f.details["additionalInfo"] == ["first file note", "second file note"]
    upload = [o for o in full.observations if o.file == 0 and o.kind == "ip"]
    assert [(o.value, o.port, o.event_name) for o in upload] == [("203.0.113.45", 51322, "Upload")]
    assert any(p.role == "file_details" and p.pointer == "ff00aa11bb22cc33" for p in full.parts)


def test_reference_examples_parse_cleanly() -> None:
    report = parse((FIXTURES / "100000042.xml").read_bytes(), 100000042)
    assert not report.issues and not report.extras
    files = esp_xml.parse_file_details(
        (FIXTURES / "file-0a1b2c3d.xml").read_bytes(), source="f", phone_region="IN", limits=LIMITS
    )
    assert files.report_id == 100000042 and files.file.annotations == ["viral"]


BASE = (FIXTURES / "100000042.xml").read_text()


def test_unknown_elements_and_enums_are_kept_and_counted() -> None:
    text = BASE.replace("<csamSolicitation/>", "<csamSolicitation/><informational/>")
    text = text.replace("<eventName>Upload</eventName>", "<eventName>Teleport</eventName>", 1)
    text = text.replace("<age>37</age>", "<age>37</age><ageAssertionDiscrepancy>true</ageAssertionDiscrepancy>")
    text = text.replace("</report>", "<futureElement kind='x'>new</futureElement></report>")
    report = parse(text.encode(), 100000042)
    codes = [(i.code, i.path) for i in report.issues]
    assert ("unknown_enum", "report/incidentSummary[1]/reportAnnotations[1]/informational[1]") in codes
    assert any(c == "unknown_enum" and "eventName" in p for c, p in codes)
    assert [e["path"] for e in report.extras] == [
        "report/personOrUserReported[1]/personOrUserReportedPerson[1]/ageAssertionDiscrepancy[1]",
        "report/futureElement[1]",
    ]
    assert "new" in report.extras[1]["raw"]
    assert ("informational", False) in report.annotations
    teleport = next(o for o in report.observations if o.kind == "ip" and o.event_name == "Teleport")
    assert teleport.value == "203.0.113.45"


def _kept(extras: list[dict[str, str]]) -> dict[str, str]:
    """Path → raw, without the namespace declaration an element serialised alone carries from its document."""
    xsi = ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
    return {e["path"]: e["raw"].replace(xsi, "") for e in extras}


@pytest.mark.parametrize("stream_above", [LIMITS.stream_above_bytes, 0], ids=["whole", "streamed"])
def test_unknown_attributes_text_and_children_are_kept_with_their_paths(stream_above: int) -> None:
    """Whatever no handler takes — attribute, stray text, a child of a leaf, a repeated singleton — is an extra."""
    text = BASE.replace('xsi:noNamespaceSchemaLocation="', 'schemaVersion="2025-11" xsi:noNamespaceSchemaLocation="')
    text = text.replace("<screenName>quietfox87</screenName>", '<screenName lang="en">quietfox87<b>x</b></screenName>')
    text = text.replace("<incidentSummary>", "<incidentSummary>stray note", 1)
    text = text.replace(
        "<ipAddress>203.0.113.45</ipAddress>", "<ipAddress>203.0.113.45</ipAddress><ipAddress>192.0.2.9</ipAddress>", 1
    )
    text = text.replace('<associatedAccount type="Linked">', '<associatedAccount type="Linked" since="2024">')
    text = text.replace("</report>", '<futureElement kind="x">new</futureElement></report>')
    report = esp_xml.parse_report(
        text.encode(),
        source="t.xml",
        report_id=100000042,
        phone_region="IN",
        limits=XmlLimits(stream_above_bytes=stream_above),
    )
    person = "report/personOrUserReported[1]"
    assert _kept(report.extras) == {
        "report/@schemaVersion": "2025-11",
        "report/incidentSummary[1]/text()": "stray note",
        f"{person}/screenName[1]/@lang": "en",
        f"{person}/screenName[1]/b[1]": "<b>x</b>",
        f"{person}/ipCaptureEvent[1]/ipAddress[2]": "<ipAddress>192.0.2.9</ipAddress>",
        f"{person}/associatedAccount[1]/@since": "2024",
        "report/futureElement[1]": '<futureElement kind="x">new</futureElement>',  # whole, attribute inside
    }
    codes = Counter(i.code for i in report.issues)
    assert codes["unknown_attribute"] == 3 and codes["unknown_text"] == 1 and codes["unknown_element"] == 3
    assert report.accounts[0].screen_name == "quietfox87"
    assert report_rows(report, 1, 1, datetime.now(UTC)).versions[0][-1] == 7  # all counted as unknown fields


def test_schema_location_is_envelope_unless_it_differs() -> None:
    assert not parse(BASE.encode(), 100000042).extras
    other = BASE.replace("https://report.cybertip.org/ispws/xsd", "https://exttest.cybertip.org/ispws/xsd")
    assert _kept(parse(other.encode(), 100000042).extras) == {
        "report/@xsi:noNamespaceSchemaLocation": "https://exttest.cybertip.org/ispws/xsd"
    }


def test_file_details_keep_unknown_attributes_pairs_and_flag_text() -> None:
    data = (FIXTURES / "file-0a1b2c3d.xml").read_text()
    data = data.replace("<fileId>", '<fileId scheme="hex">')
    data = data.replace("<viral/>", "<viral>sometimes</viral>")
    data = data.replace(
        "<nameValuePair><name>SHA256</name>", '<nameValuePair type="HASH"><name>SHA256</name><unit>hex</unit>'
    )
    details = esp_xml.parse_file_details(data.encode(), source="f.xml", phone_region="IN", limits=LIMITS)
    assert _kept(details.extras) == {
        "fileDetails/fileId[1]/@scheme": "hex",
        "fileDetails/details[1]/nameValuePair[1]/@type": "HASH",
        "fileDetails/details[1]/nameValuePair[1]/unit[1]": "<unit>hex</unit>",
    }
    assert ("unknown_enum", "sometimes") in [(i.code, i.value) for i in details.issues]
    assert details.file.details["details"][0]["pairs"] == [
        {"name": "SHA256", "value": "64a00d9824b79a94c9c1b9ac5833bfb3a86931e4efdaf742ed45c5aa9395ef31"}
    ]
    report = parse(BASE.encode(), 100000042)
    esp_xml.attach_files(report, [details])
    assert "f.xml:fileDetails/fileId[1]/@scheme" in _kept(report.extras)  # which fileDetails, once attached


def test_order_tolerant() -> None:
    reordered = BASE.replace(
        "<eventName>Upload</eventName>\n      <dateTime>2025-03-14T21:07:31Z</dateTime>",
        "<dateTime>2025-03-14T21:07:31Z</dateTime><eventName>Upload</eventName>",
    )
    report = parse(reordered.encode(), 100000042)
    assert any(o.event_name == "Upload" for o in report.observations)


@pytest.mark.parametrize(
    "mutation,reason,element",
    [
        (
            lambda t: t.replace("<ipAddress>203.0.113.45</ipAddress>", "<ipAddress>203.0.113.450</ipAddress>", 1),
            "invalid_ip",
            "report/personOrUserReported[1]/ipCaptureEvent[1]/ipAddress",
        ),
        (
            lambda t: t.replace("2023-08-01T09:12:44Z", "2023-02-30T09:12:44Z"),
            "impossible_date",
            "report/personOrUserReported[1]/ipCaptureEvent[3]/dateTime",
        ),
        (
            lambda t: t.replace("<port>51322</port>", "<port>99999</port>"),
            "invalid_port",
            "report/personOrUserReported[1]/ipCaptureEvent[1]/port",
        ),
        (
            lambda t: t.replace("<incidentDateTime>2025-03-14T21:07:33Z</incidentDateTime>", ""),
            "missing_element",
            "report/incidentSummary[1]/incidentDateTime",
        ),
        (lambda t: t.split("<reporter>")[0] + t.split("</reporter>")[1], "missing_element", "report/reporter"),
        (
            lambda t: t.replace("<ipAddress>192.0.2.200</ipAddress>", ""),
            "missing_element",
            "report/intendedRecipient[1]/ipCaptureEvent[1]/ipAddress",
        ),
        (
            lambda t: t.replace("<idType>IMEI</idType>", ""),
            "missing_element",
            "report/personOrUserReported[1]/deviceId[1]/idType",
        ),
        (lambda t: t.replace("</report>", ""), "malformed_xml", None),
        (
            lambda t: t.replace("<report ", "<notAReport ").replace("</report>", "</notAReport>"),
            "wrong_root",
            "notAReport",
        ),
    ],
)
def test_rejections_name_the_element(mutation: object, reason: str, element: str | None) -> None:
    text = mutation(BASE)  # type: ignore[operator]
    with pytest.raises(DocumentRejected) as caught:
        parse(text.encode(), 100000042)
    assert caught.value.reason == reason
    assert caught.value.element == element
    assert caught.value.source == "t.xml"
    if reason != "malformed_xml":
        assert caught.value.expected
    else:
        assert caught.value.line is not None


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE report [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<report><incidentSummary><incidentType>&xxe;</incidentType></incidentSummary></report>"""
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<report><additionalInfo>&lol3;</additionalInfo></report>"""
EXTERNAL_DTD = b"""<!DOCTYPE report SYSTEM "http://example.com/report.dtd">
<report><additionalInfo>&defined_elsewhere;</additionalInfo></report>"""


def late_doctype(body: bytes = (FIXTURES / "100000042.xml").read_bytes(), comment: int = 65 * 1024) -> bytes:
    """A DTD after 64 KiB of comment (past where the old check looked), its entity used in a real report."""
    declaration, rest = body.split(b"\n", 1)
    return (
        declaration
        + b"\n<!--"
        + b"x" * comment
        + b'-->\n<!DOCTYPE report [<!ENTITY e "EXPANDED">]>\n'
        + rest.replace(b"Time the upload", b"Time &e; the upload")
    )


UTF16_DTD = (
    '<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE report [<!ENTITY e "E">]>\n'
    "<report><additionalInfo>&e;</additionalInfo></report>"
).encode("utf-16")
# both parse paths: whole documents (below the stream threshold) and element-by-element streaming
PATHS = pytest.mark.parametrize(
    "limits", [XmlLimits(), XmlLimits(stream_above_bytes=0)], ids=["whole_document", "streamed"]
)


@PATHS
@pytest.mark.parametrize(
    "payload,line",
    [(XXE, 2), (BILLION_LAUGHS, 2), (EXTERNAL_DTD, 1), (late_doctype(), 3), (UTF16_DTD, 2)],
    ids=["xxe", "billion_laughs", "external_dtd", "doctype_after_64KiB_comment", "utf16_prolog"],
)
def test_dtds_are_refused(payload: bytes, line: int, limits: XmlLimits) -> None:
    with pytest.raises(DocumentRejected) as caught:
        esp_xml.parse_report(payload, source="t.xml", report_id=100000042, phone_region="IN", limits=limits)
    refused = caught.value
    assert (refused.reason, refused.line, refused.element) == ("dtd_forbidden", line, "<!DOCTYPE>")
    assert refused.expected == "no DOCTYPE declaration" and str(refused).startswith(f"t.xml:{line}: ")


def test_file_details_with_a_late_doctype_are_refused() -> None:
    data = late_doctype((FIXTURES / "file-0a1b2c3d.xml").read_bytes())
    with pytest.raises(DocumentRejected) as peeked:
        esp_xml.peek_file_details(data, source="f.xml", limits=LIMITS)
    with pytest.raises(DocumentRejected) as parsed:
        esp_xml.parse_file_details(data, source="f.xml", phone_region="IN", limits=LIMITS)
    for caught in (peeked, parsed):
        assert (caught.value.reason, caught.value.line, caught.value.element) == ("dtd_forbidden", 3, "<!DOCTYPE>")


@PATHS
def test_a_long_comment_or_doctype_text_in_content_is_not_a_dtd(limits: XmlLimits) -> None:
    """Only a declaration in the prolog is a DTD: a report quoting `<!DOCTYPE html>` in CDATA lands whole."""
    body = (FIXTURES / "100000042.xml").read_bytes()
    declaration, rest = body.split(b"\n", 1)
    quoted = rest.replace(b"Time the upload", b"Time <![CDATA[<!DOCTYPE html>]]> the upload")
    data = declaration + b"\n<!--" + b"x" * (65 * 1024) + b"-->\n" + quoted
    assert sniff_root(data) == "report"
    report = esp_xml.parse_report(data, source="t.xml", report_id=100000042, phone_region="IN", limits=limits)
    assert report.incident_at_description == "Time <!DOCTYPE html> the upload was detected by automated hash matching."


@PATHS
@pytest.mark.parametrize(
    "data,line",
    [
        (b"<report><additionalInfo>&lol9;</additionalInfo></report>", 1),
        (b'<report>\n<additionalInfo type="&lol9;">x</additionalInfo></report>', 2),
        ((FIXTURES / "100000042.xml").read_bytes().replace(b"Time the upload", b"Time &lol9; the upload"), 9),
    ],
    ids=["in_text", "in_attribute", "in_a_real_report"],
)
def test_undeclared_entity_is_malformed_not_expanded(data: bytes, line: int, limits: XmlLimits) -> None:
    """Without a DTD an entity reference names nothing: an error with its line, never text silently cut."""
    with pytest.raises(DocumentRejected) as caught:
        esp_xml.parse_report(data, source="t.xml", report_id=100000042, phone_region="IN", limits=limits)
    assert (caught.value.reason, caught.value.line) == ("malformed_xml", line)
    assert "Entity 'lol9' not defined" in caught.value.message


def test_size_limit_is_enforced_and_can_be_raised() -> None:
    data = (FIXTURES / "100000042.xml").read_bytes()
    with pytest.raises(DocumentRejected) as caught:
        esp_xml.parse_report(
            data, source="t.xml", report_id=1, phone_region="IN", limits=XmlLimits(max_document_bytes=100)
        )
    assert caught.value.reason == "too_large" and "TIPFUSION_MAX_DOCUMENT_BYTES" in (caught.value.expected or "")
    esp_xml.parse_report(
        data, source="t.xml", report_id=1, phone_region="IN", limits=XmlLimits(max_document_bytes=len(data))
    )


def test_streaming_path_gives_the_same_record() -> None:
    data = (FIXTURES / "full" / "300000001.xml").read_bytes()
    whole = parse(data)
    streamed = esp_xml.parse_report(
        data, source="t.xml", report_id=300000001, phone_region="IN", limits=XmlLimits(stream_above_bytes=0)
    )
    assert [(o.kind, o.value, o.path) for o in streamed.observations] == [
        (o.kind, o.value, o.path) for o in whole.observations
    ]
    assert streamed.incidents == whole.incidents and streamed.accounts == whole.accounts


FILE_DETAILS = (FIXTURES / "file-0a1b2c3d.xml").read_bytes()


@given(file_id=st.binary(max_size=40) | st.text(max_size=20).map(lambda t: t.encode("utf-8", "surrogatepass")))
@example(file_id=b"0a1b2c3\x00d4e5")  # the fuzzer's find: a NUL reached PostgreSQL in the waiting entry's key
@example(file_id=b"a&amp;b")
@example(file_id=b"caf\xc3\xa9")
@example(file_id=b"\xff\xfe")
@example(file_id=b"\x0cabc")  # a form feed: white space to a regular expression, not to XML
@example(file_id=b"a]]>b")
@example(file_id=b"caf\xc3\xa9</fileId><!-- <fileId>decoy")  # a refused id must not let a later one stand in
def test_the_quick_look_at_a_file_details_agrees_with_its_full_parse(file_id: bytes) -> None:
    """The keys a fileDetails waits under are the ones its full parse gives, or the full parse refuses it: never a
    key the parse would not give (a NUL, an entity left unexpanded, a byte read in the wrong encoding)."""
    data = FILE_DETAILS.replace(b"0a1b2c3d4e5f60718293a4b5c6d7e8f9", file_id)
    try:
        parsed = esp_xml.parse_file_details(data, source="f.xml", phone_region="IN", limits=LIMITS)
        full: tuple[int, str] | None = (parsed.report_id, parsed.file_id)
    except DocumentRejected:
        full = None
    try:
        peeked = esp_xml.peek_file_details(data, source="f.xml", limits=LIMITS)
    except DocumentRejected:
        assert full is None
        return
    assert peeked == full, f"quick look {peeked!r}, full parse {full!r}"


@pytest.mark.parametrize(
    "decoy",
    [b"<note><fileId>decoy</fileId></note>", b"<fileId>decoy</fileId>"],  # nested; a second at the root
    ids=["nested", "repeated"],
)
def test_the_quick_look_takes_no_file_id_the_parse_would_not(decoy: bytes) -> None:
    """Before the root's own fileId: the parse takes the root's children (the last of them), never the decoy."""
    after_root = FILE_DETAILS.index(b">", FILE_DETAILS.index(b"<fileDetails")) + 1
    data = FILE_DETAILS[:after_root] + decoy + FILE_DETAILS[after_root:]
    parsed = esp_xml.parse_file_details(data, source="f.xml", phone_region="IN", limits=LIMITS)
    assert parsed.file_id == "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
    assert esp_xml.peek_file_details(data, source="f.xml", limits=LIMITS) == (parsed.report_id, parsed.file_id)


def test_the_quick_look_reads_past_the_prolog_s_comments() -> None:
    """A comment in the prolog (`xmlsafe.prolog_end` walks it) is no decoy: the keys are the root's."""
    data = FILE_DETAILS.replace(b"?>", b"?>\n<!-- <fileId>decoy</fileId> -->", 1)
    assert esp_xml.peek_file_details(data, source="f.xml", limits=LIMITS) == (
        100000042,
        "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
    )


def test_file_details_without_report_id_is_refused() -> None:
    data = (FIXTURES / "file-0a1b2c3d.xml").read_bytes().replace(b"<reportId>100000042</reportId>", b"")
    with pytest.raises(DocumentRejected) as caught:
        esp_xml.peek_file_details(data, source="f.xml", limits=LIMITS)
    assert caught.value.reason == "missing_report_id" and caught.value.element == "fileDetails/reportId"


def test_file_hash_needs_its_type() -> None:
    data = (FIXTURES / "file-0a1b2c3d.xml").read_bytes().replace(b' hashType="MD5"', b"")
    with pytest.raises(DocumentRejected) as caught:
        esp_xml.parse_file_details(data, source="f.xml", phone_region="IN", limits=LIMITS)
    assert caught.value.element == "fileDetails/originalFileHash[1]/@hashType"


@pytest.mark.parametrize("stream_above", [4 * 1024 * 1024, 0], ids=["whole_document", "streamed"])
@pytest.mark.parametrize(
    ("reference", "expected"),
    [(b"&amp;", "Time & the upload"), (b"&#x41;", "Time A the upload"), (b"&#65;", "Time A the upload")],
)
def test_text_after_an_entity_is_never_cut(stream_above: int, reference: bytes, expected: str) -> None:
    """Issue 14 §10: predefined entities and character references keep the whole text on both parse paths."""
    data = (FIXTURES / "100000042.xml").read_bytes().replace(b"Time the upload", b"Time " + reference + b" the upload")
    report = esp_xml.parse_report(
        data, source="t.xml", report_id=1, phone_region="IN", limits=XmlLimits(stream_above_bytes=stream_above)
    )
    assert f"{expected} was detected by automated hash matching." in repr(report)


@pytest.mark.parametrize("stream_above", [4 * 1024 * 1024, 0], ids=["whole_document", "streamed"])
@pytest.mark.parametrize("where", ["prolog_after_64k", "utf16_after_64k", "inside_the_body"])
def test_a_doctype_anywhere_is_refused(stream_above: int, where: str) -> None:
    """Issue 14 §10: a DOCTYPE past the first 64 KiB, in a UTF-16 document, or inside the body never lands."""
    declaration, rest = (FIXTURES / "100000042.xml").read_bytes().split(b"\n", 1)
    dtd = b'<!DOCTYPE report [<!ENTITY e "EXPANDED">]>'
    body = rest.replace(b"Time the upload", b"Time &e; the upload")
    padding = b"<!--" + b"x" * (65 * 1024) + b"-->\n"
    data = {
        "prolog_after_64k": declaration + b"\n" + padding + dtd + b"\n" + body,
        "utf16_after_64k": (b'<?xml version="1.0" encoding="UTF-16"?>\n' + padding + dtd + b"\n" + body)
        .decode()
        .encode("utf-16"),
        "inside_the_body": declaration + b"\n" + body.replace(b"<incidentSummary>", dtd + b"<incidentSummary>", 1),
    }[where]
    with pytest.raises(DocumentRejected) as caught:
        esp_xml.parse_report(
            data, source="t.xml", report_id=1, phone_region="IN", limits=XmlLimits(stream_above_bytes=stream_above)
        )
    assert caught.value.reason == ("malformed_xml" if where == "inside_the_body" else "dtd_forbidden")
    assert caught.value.line is not None and "EXPANDED" not in str(caught.value)
