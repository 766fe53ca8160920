"""Property tests for the parsers: whatever arrives, the outcome is a record or a DocumentRejected — and values
that are valid survive exactly."""

from __future__ import annotations

import contextlib
import ipaddress
import json
from datetime import UTC, datetime, timedelta, timezone
from xml.sax.saxutils import escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tipfusion.config import XmlLimits
from tipfusion.errors import DocumentRejected
from tipfusion.ingest import esp_xml, police_json

LIMITS = XmlLimits()
# both parse paths: whole documents (below the stream threshold) and element-by-element streaming
PATHS = pytest.mark.parametrize(
    "limits", [XmlLimits(), XmlLimits(stream_above_bytes=0)], ids=["whole_document", "streamed"]
)

TEMPLATE = """<report><incidentSummary><incidentType>Child Sex Trafficking</incidentType>
<incidentDateTime>2025-01-01T00:00:00Z</incidentDateTime></incidentSummary>
<reporter><reportingPerson><email>t@esp.test</email></reportingPerson></reporter>
<personOrUserReported><screenName>{screen}</screenName>
<ipCaptureEvent><ipAddress>{ip}</ipAddress><eventName>Login</eventName><dateTime>{time}</dateTime><port>{port}</port>
</ipCaptureEvent></personOrUserReported></report>"""

screen_names = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40)
moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2025, 12, 31)).map(
    lambda d: d.replace(tzinfo=UTC)
)
offsets = st.integers(min_value=-12 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))


@settings(max_examples=150)
@given(screen_names, st.ip_addresses(), moments, offsets, st.integers(min_value=0, max_value=65535))
def test_valid_values_survive_exactly(screen: str, ip: object, moment: datetime, zone: timezone, port: int) -> None:
    written = moment.astimezone(zone).isoformat()
    data = TEMPLATE.format(screen=escape(screen), ip=ip, time=written, port=port).encode()
    report = esp_xml.parse_report(data, source="p.xml", report_id=1, phone_region="IN", limits=LIMITS)
    (event,) = [o for o in report.observations if o.kind == "ip"]
    address = ipaddress.ip_address(str(ip))
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # IPv4-mapped IPv6 is stored as the IPv4 address it carries
    assert event.value == str(address)
    assert event.observed_at == moment and event.observed_at_raw == written and event.port == port
    names = [o for o in report.observations if o.kind == "screen_name"]
    if screen.strip().lstrip("@").strip():
        assert names and names[0].raw.strip() == screen.strip()


@PATHS
@settings(max_examples=300)
@given(st.binary(max_size=600))
def test_arbitrary_bytes_are_parsed_or_rejected_never_crash(limits: XmlLimits, data: bytes) -> None:
    with contextlib.suppress(DocumentRejected):
        esp_xml.parse_report(data, source="f.xml", report_id=1, phone_region="IN", limits=limits)


@PATHS
@settings(max_examples=200)
@given(st.text(max_size=300))
def test_mutated_documents_are_parsed_or_rejected(limits: XmlLimits, noise: str) -> None:
    base = TEMPLATE.format(screen="x", ip="192.0.2.1", time="2025-01-01T00:00:00Z", port=1)
    cut = len(noise) % len(base)
    data = (base[:cut] + noise + base[cut:]).encode("utf-8", "surrogatepass")
    try:
        esp_xml.parse_report(data, source="f.xml", report_id=1, phone_region="IN", limits=limits)
    except DocumentRejected as exc:
        assert exc.reason and exc.message
        if exc.reason == "malformed_xml":  # e.g. an undefined entity reference: an error with its line
            assert exc.line and exc.line >= 1


prolog_items = st.one_of(
    st.integers(min_value=0, max_value=200_000).map(lambda n: "<!--" + "x" * n + "-->"),
    st.just("<?pi data?>"),
    st.sampled_from([" ", "\n", "\r\n", "\t"]),
)


@PATHS
@settings(max_examples=60, deadline=None)
@given(st.lists(prolog_items, max_size=4), st.sampled_from(["DOCTYPE", "doctype"]))
def test_a_doctype_anywhere_in_the_prolog_is_refused(limits: XmlLimits, before: list[str], keyword: str) -> None:
    """However much comment, instruction or space comes first, a DTD is refused with its line, on both paths."""
    prolog = '<?xml version="1.0"?>\n' + "".join(before)
    body = TEMPLATE.format(screen="&e;", ip="192.0.2.1", time="2025-01-01T00:00:00Z", port=1)
    data = f'{prolog}<!{keyword} report [<!ENTITY e "expanded">]>\n{body}'.encode()
    try:
        esp_xml.parse_report(data, source="f.xml", report_id=1, phone_region="IN", limits=limits)
    except DocumentRejected as exc:
        assert (exc.reason, exc.line, exc.element) == ("dtd_forbidden", prolog.count("\n") + 1, "<!DOCTYPE>")
    else:
        raise AssertionError("a document with a DTD was accepted")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200)
@given(st.dictionaries(st.sampled_from(["reportId", "reportedInformation", "dateReceived", "other"]), json_values))
def test_arbitrary_json_reports_are_parsed_or_rejected(obj: dict[str, object]) -> None:
    data = json.dumps(obj).encode()
    for result in police_json.iter_reports(
        data, source="p.json", source_sha256="0" * 64, phone_region="IN", limits=LIMITS
    ):
        if isinstance(result, DocumentRejected):  # a refusal names the file it is about
            assert result.source.startswith("p.json") and str(result).startswith("p.json")
        else:  # a record carries the report number it was given
            assert result.format == "ncmec_json" and result.report_id == int(str(obj["reportId"]).strip())


def _leaves(obj: object, path: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    if isinstance(obj, dict):
        return [p for k, v in obj.items() for p in _leaves(v, (*path, k))] + [path]
    if isinstance(obj, list):
        return [p for i, v in enumerate(obj) for p in _leaves(v, (*path, i))] + [path]
    return [path]


def _replace(obj: object, path: tuple[object, ...], value: object) -> object:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(obj, dict):
        return {k: (_replace(v, rest, value) if k == head else v) for k, v in obj.items()}
    assert isinstance(obj, list)
    return [(_replace(v, rest, value) if i == head else v) for i, v in enumerate(obj)]


def _example() -> dict[str, object]:
    from tests.conftest import FIXTURES

    return dict(json.loads((FIXTURES / "police-100000042.json").read_text()))


EXAMPLE = _example()
EXAMPLE_LEAVES = _leaves(EXAMPLE)


@settings(max_examples=400)
@given(st.lists(st.tuples(st.sampled_from(EXAMPLE_LEAVES), json_values), min_size=1, max_size=4))
def test_police_json_with_random_values_in_real_places(changes: list[tuple[tuple[object, ...], object]]) -> None:
    obj: object = EXAMPLE
    for path, value in changes:
        try:
            obj = _replace(obj, path, value)
        except (AssertionError, KeyError, IndexError):
            continue
    data = json.dumps(obj).encode()
    try:
        results = list(
            police_json.iter_reports(data, source="p.json", source_sha256="0" * 64, phone_region="IN", limits=LIMITS)
        )
    except DocumentRejected:
        return
    assert results
