"""Real documents written by other clients (../shared/real-samples): every value lands, in a field or as an extra.

The checker is generic: it walks each document's tree and asks, for every attribute and every leaf element's
text, that the parsed record holds it — as a field or observation value, or in an extra kept at its path (or
inside an unknown element kept whole). Nothing is listed by hand, so a value the parser forgets fails here.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from lxml import etree
from sqlalchemy import Engine, select

from tests.conftest import FIXTURES
from tipfusion.config import Settings, XmlLimits
from tipfusion.ingest import IngestService, esp_xml
from tipfusion.ingest.xmlsafe import sniff_root
from tipfusion.normalise import parse_timestamp
from tipfusion.normalise.timestamps import ImpossibleTime
from tipfusion.store.tables import report_versions

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "real-samples"
XML = REAL / "xml"
LIMITS = XmlLimits()
# The envelope every NCMEC document carries (reference §1), not report data.
SCHEMA_LOCATION = (
    "{http://www.w3.org/2001/XMLSchema-instance}noNamespaceSchemaLocation",
    "https://report.cybertip.org/ispws/xsd",
)
# Fields that describe the parse rather than hold a value of the document (and would inflate true/false counts).
NOT_VALUES = {"valid", "flags", "origin", "kind", "path", "ordinal", "parent", "role", "format", "parts"}
NOT_VALUES |= {"extras", "issues", "incident_type_known", "detail", "source_sha256", "canonical"}


def _samples() -> list[Path]:
    """The valid documents (`invalid/` holds ones broken on purpose)."""
    if not XML.is_dir():
        return []
    return sorted(p for p in XML.rglob("*.xml") if "invalid" not in p.parts)


def _need_samples() -> None:
    if not XML.is_dir():
        pytest.skip(f"the shared real samples are not here: {XML} (they live beside the repository, read-only)")


def _parse(path: Path, limits: XmlLimits = LIMITS) -> tuple[Any, list[dict[str, str]]]:
    """The parsed record (report or fileDetails) and its extras."""
    data = path.read_bytes()
    if sniff_root(data) == "fileDetails":
        details = esp_xml.parse_file_details(data, source=path.name, phone_region="IN", limits=limits)
        return details, details.extras
    report_id = int(path.stem) if path.stem.isdigit() else 1
    report = esp_xml.parse_report(data, source=path.name, report_id=report_id, phone_region="IN", limits=limits)
    return report, report.extras


# -- the generic checker -------------------------------------------------------------------------------------
def _attr_name(element: etree._Element, key: str) -> str:
    qname = etree.QName(key)
    if qname.namespace is None:
        return key
    prefix = next((p for p, uri in element.nsmap.items() if uri == qname.namespace and p), None)
    return f"{prefix}:{qname.localname}" if prefix else key


def document_values(root: etree._Element) -> list[tuple[str, str]]:
    """(path, value) of every attribute and every non-empty leaf text, with the parser's `name[n]` paths."""
    out: list[tuple[str, str]] = []

    def walk(element: etree._Element, path: str) -> None:
        for key, value in element.attrib.items():
            if (key, value.strip()) != SCHEMA_LOCATION:
                out.append((f"{path}/@{_attr_name(element, str(key))}", value.strip()))
        kids = [c for c in element if isinstance(c.tag, str)]
        if not kids and element.text and element.text.strip():
            out.append((path, element.text.strip()))
        counts: Counter[str] = Counter()
        for child in kids:
            name = etree.QName(child).localname
            counts[name] += 1
            walk(child, f"{path}/{name}[{counts[name]}]")

    walk(root, etree.QName(root).localname)
    return out


def parsed_values(record: Any) -> Counter[str]:
    """Every scalar the parsed record holds, as text (booleans as true/false, times in UTC ISO form)."""
    out: Counter[str] = Counter()

    def add(value: Any) -> None:
        if value is None:
            return
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            for f in dataclasses.fields(value):
                if f.name not in NOT_VALUES:
                    add(getattr(value, f.name))
        elif isinstance(value, dict):
            for item in value.values():
                add(item)
        elif isinstance(value, list | tuple):
            for item in value:
                add(item)
        elif isinstance(value, bool):
            out["true" if value else "false"] += 1
        elif isinstance(value, datetime | date):
            out[value.isoformat()] += 1
        else:
            out[str(value).strip()] += 1

    add(record)
    return out


def _forms(value: str) -> list[str]:
    forms = [value, value.lower()]
    with contextlib.suppress(ImpossibleTime):  # not a time: compared as text only
        forms.append(parse_timestamp(value).utc.isoformat())
    return forms


def _in_extras(path: str, value: str, extras: list[dict[str, str]]) -> bool:
    """Kept at its own path, or inside an element kept whole (an ancestor path)."""
    for extra in extras:
        own = extra["path"] == path or path.startswith(f"{extra['path']}/")
        if own and (value in extra["raw"] or escape(value, {'"': "&quot;"}) in extra["raw"]):
            return True
    return False


def missing(record: Any, extras: list[dict[str, str]], root: etree._Element) -> list[tuple[str, str]]:
    """The (path, value) pairs of the document that neither the record's values nor its extras hold."""
    available = parsed_values(record)
    out = []
    for where, value in document_values(root):
        if _in_extras(where, value, extras):
            continue
        form = next((f for f in _forms(value) if available[f] > 0), None)
        if form is None:
            out.append((where, value))
        else:
            available[form] -= 1  # one value of the record accounts for one value of the document
    return out


def missing_values(path: Path, limits: XmlLimits = LIMITS) -> list[tuple[str, str]]:
    record, extras = _parse(path, limits)
    return missing(record, extras, etree.fromstring(path.read_bytes()))


@pytest.mark.parametrize("path", _samples(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_value_of_a_real_document_is_parsed_or_kept(path: Path) -> None:
    assert missing_values(path) == []


@pytest.mark.parametrize("path", [p for p in _samples() if sniff_root(p.read_bytes()) == "report"], ids=str)
def test_streamed_reports_keep_the_same(path: Path) -> None:
    assert missing_values(path, XmlLimits(stream_above_bytes=0)) == []


def test_the_checker_reports_a_value_nobody_kept() -> None:
    """The checker itself (no real sample needed): a value found in no field and no extra is reported by path."""
    data = (FIXTURES / "100000042.xml").read_bytes().replace(b"<screenName>", b'<screenName lang="xx-test">', 1)
    report = esp_xml.parse_report(data, source="t.xml", report_id=100000042, phone_region="IN", limits=LIMITS)
    root = etree.fromstring(data)
    assert missing(report, report.extras, root) == []
    assert missing(report, [], root) == [("report/personOrUserReported[1]/screenName[1]/@lang", "xx-test")]
    report.accounts[0].screen_name = None
    report.observations = [o for o in report.observations if o.kind != "screen_name"]
    assert ("report/personOrUserReported[1]/screenName[1]", "quietfox87") in missing(report, report.extras, root)


def test_newer_client_attributes_are_kept_with_their_paths() -> None:
    """ncmec-cybertip writes attributes the XSD does not name: read where they mean something, and kept."""
    _need_samples()
    report, extras = _parse(XML / "nachtalb" / "4242001.xml")
    kept = {e["path"]: e["raw"] for e in extras}
    assert kept["report/lawEnforcement[1]/@fleaCountry"] == "IN"
    assert kept["report/personOrUserReported[1]/associatedAccount[1]/@accountType"] == "Linked"
    assert kept["report/personOrUserReported[1]/associatedAccount[1]/@thirdPartyUser"] == "false"
    assert report.law_enforcement["fleaCountry"] == "IN"
    linked = next(a for a in report.accounts if a.role == "associated")
    assert linked.details["type"] == "Linked" and linked.details["thirdPartyUser"] is False
    codes = [(i.code, i.path) for i in report.issues]
    assert ("unknown_attribute", "report/lawEnforcement[1]/@fleaCountry") in codes
    _, file_extras = _parse(XML / "nachtalb" / "4242001-fileinfo.xml")
    assert file_extras == [{"path": "fileDetails/details[1]/nameValuePair[1]/@type", "raw": "EXIF"}]


# -- through the ingest service, on SQLite and PostgreSQL --------------------------------------------------------
def test_real_samples_land_without_quarantine_and_keep_their_extras(engine: Engine, settings: Settings) -> None:
    _need_samples()
    summary = IngestService(engine, settings, "tester").ingest_paths(_samples())
    assert summary.quarantined == 0 and summary.rejected == []
    with engine.connect() as conn:
        row = conn.execute(
            select(report_versions.c.extras, report_versions.c.unknown_count).where(
                report_versions.c.report_id == 4242001
            )
        ).one()
    kept = {e["path"]: e["raw"] for e in row.extras}
    assert kept["report/lawEnforcement[1]/@fleaCountry"] == "IN"
    assert kept["report/personOrUserReported[1]/associatedAccount[1]/@accountType"] == "Linked"
    # a report may have several fileDetails: their extras name the document, as their observations do
    (file_path,) = [p for p in kept if p.endswith("4242001-fileinfo.xml:fileDetails/details[1]/nameValuePair[1]/@type")]
    assert kept[file_path] == "EXIF"
    # 4 attributes + ageAssertionDiscrepancy + the 'informational' annotation
    assert row.unknown_count == 6
    assert summary.unknown_fields >= row.unknown_count
