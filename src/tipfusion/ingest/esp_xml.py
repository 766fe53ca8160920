"""The ESP reporting XML: `<reportId>.xml` holding `<report>`, and `<fileDetails>` documents.

Order-tolerant and enum-tolerant on input (the reference's advice): unknown elements and values are
kept verbatim and counted. What would make the record untrue — a missing required element, an IP that
is not an IP, an impossible date — rejects the document with the element's path and line.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from lxml import etree

from tipfusion.config import XmlLimits
from tipfusion.domain import EstimatedLocation, FileRecord, Incident, Issue, Observation, ParsedReport, SourcePart
from tipfusion.ingest import enums
from tipfusion.ingest.builder import Builder
from tipfusion.ingest.xmlsafe import iter_top_level, local_name, parse_tree
from tipfusion.normalise import Context
from tipfusion.normalise.hashes import normalise_hash_type
from tipfusion.normalise.simple import esp_scope

Element = etree._Element

ACCOUNT_ROLES = {"personOrUserReported": "reported", "intendedRecipient": "recipient", "victim": "victim"}
PERSON_ELEMENTS = {"personOrUserReportedPerson", "intendedRecipientPerson", "victimPerson"}
ACCOUNT_BOOLEANS = {"compromisedAccount", "thirdPartyUserReported", "allEmailsReported"}
ACCOUNT_TEXTS = {"vehicleDescription", "schoolName", "profileBio", "espService"}


def _text(element: Element) -> str | None:
    text = element.text
    if text is None:
        return None
    text = text.strip()
    return text or None


def _raw(element: Element) -> str:
    return etree.tostring(element, encoding="unicode", with_tail=False)


class _Paths:
    """Builds `parent/child[n]` paths with per-parent counters."""

    def __init__(self, base: str):
        self.base = base
        self.counts: dict[str, int] = {}

    def __call__(self, name: str) -> str:
        n = self.counts.get(name, 0) + 1
        self.counts[name] = n
        return f"{self.base}/{name}[{n}]"


def _children(element: Element, base: str) -> list[tuple[str, Element, str]]:
    counts: dict[str, int] = {}
    out = []
    for child in element:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        name = tag.rsplit("}", 1)[-1] if tag[0] == "{" else tag
        n = counts.get(name, 0) + 1
        counts[name] = n
        out.append((name, child, f"{base}/{name}[{n}]"))
    return out


class _Walker:
    """Handlers for the element kinds shared by reports and fileDetails."""

    def __init__(self, b: Builder):
        self.b = b

    # -- common types ---------------------------------------------------------------------------------
    def ip_event(
        self, element: Element, path: str, account: int | None = None, file: int | None = None, origin: str = "field"
    ) -> None:
        fields: dict[str, Element] = {}
        for name, child, cpath in _children(element, path):
            if name in {"ipAddress", "eventName", "dateTime", "possibleProxy", "port"}:
                fields[name] = child
            else:
                self.b.unknown(cpath, _raw(child))

        def text(name: str) -> str | None:
            return _text(fields[name]) if name in fields else None

        self.b.ip_event(
            ip_raw=text("ipAddress"),
            path=path,
            event=self.b.enum(text("eventName"), enums.EVENT_NAMES, f"{path}/eventName"),
            time_raw=text("dateTime"),
            proxy=self.b.boolean(text("possibleProxy"), f"{path}/possibleProxy"),
            port_raw=text("port"),
            account=account,
            file=file,
            line=element.sourceline,
            origin=origin,
        )

    def device(self, element: Element, path: str, account: int | None = None, file: int | None = None) -> None:
        fields: dict[str, str | None] = {}
        for name, child, cpath in _children(element, path):
            if name in {"idType", "idValue", "eventName", "dateTime"}:
                fields[name] = _text(child)
            else:
                self.b.unknown(cpath, _raw(child))
        self.b.device(
            id_type=fields.get("idType"),
            id_value=fields.get("idValue"),
            path=path,
            event=self.b.enum(fields.get("eventName"), enums.EVENT_NAMES, f"{path}/eventName"),
            time_raw=fields.get("dateTime"),
            account=account,
            file=file,
            line=element.sourceline,
        )

    def address(self, element: Element, path: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if "type" in element.attrib:
            out["type"] = self.b.enum(element.get("type"), enums.ADDRESS_TYPES, f"{path}/@type")
        for name, child, cpath in _children(element, path):
            value = _text(child)
            if name in {"address", "city", "zipCode", "state", "nonUsaState"}:
                out[name] = value
            elif name == "country":
                if (
                    value
                    and not (len(value) == 2 and value.isalpha() and value.isupper())
                    and value not in enums.LEGACY_COUNTRY_CODES
                ):
                    self.b.issue("unknown_enum", cpath, value, "ISO 3166-1 alpha-2 country code")
                out[name] = value
            else:
                self.b.unknown(cpath, _raw(child))
        return out

    def contact(self, element: Element, path: str) -> dict[str, Any]:
        """A person or contactPerson held as a plain record (reporter and law-enforcement contacts)."""
        out: dict[str, Any] = {}
        for name, child, cpath in _children(element, path):
            if name in {"phone", "email"}:
                out.setdefault(f"{name}s", []).append({"value": _text(child), **dict(child.attrib)})
            elif name == "address":
                out.setdefault("addresses", []).append(self.address(child, cpath))
            elif len(child):
                self.b.unknown(cpath, _raw(child))
            else:
                out[name] = _text(child)
        return out

    def person_field(self, name: str, child: Element, cpath: str, account: int, details: dict[str, Any]) -> bool:
        """Handle a person-type child on an account; False if `name` is not one."""
        acc = self.b.accounts[account]
        if name == "phone":
            attrs = dict(child.attrib)
            if "type" in attrs:
                self.b.enum(attrs["type"], enums.PHONE_TYPES, f"{cpath}/@type")
            context = Context(phone_region=self.b.phone_region, country_calling_code=attrs.get("countryCallingCode"))
            self.b.observe(
                "phone",
                _text(child),
                cpath,
                context=context,
                account=account,
                verified=self.b.boolean(attrs.get("verified"), f"{cpath}/@verified"),
                attrs=attrs or None,
            )
        elif name == "email":
            attrs = dict(child.attrib)
            if "type" in attrs:
                self.b.enum(attrs["type"], enums.EMAIL_TYPES, f"{cpath}/@type")
            self.b.observe(
                "email",
                _text(child),
                cpath,
                account=account,
                verified=self.b.boolean(attrs.get("verified"), f"{cpath}/@verified"),
                attrs=attrs or None,
            )
        elif name == "address":
            details.setdefault("addresses", []).append(self.address(child, cpath))
        elif name == "firstName":
            acc.first_name = _text(child)
        elif name == "lastName":
            acc.last_name = _text(child)
        elif name == "middleName":
            details["middleName"] = _text(child)
        elif name in {"age", "approximateAge"}:
            acc.age = self.b.integer(_text(child), cpath)
        elif name == "dateOfBirth":
            acc.date_of_birth = self.b.date(_text(child), cpath, child.sourceline)
        else:
            return False
        return True


class _ReportWalker(_Walker):
    def __init__(self, b: Builder, report: ParsedReport):
        super().__init__(b)
        self.report = report
        self.seen: set[str] = set()

    def top(self, name: str, element: Element, path: str) -> None:
        self.seen.add(name)
        r = self.report
        if name == "incidentSummary":
            self.incident_summary(element, path)
        elif name == "internetDetails":
            self.internet_details(element, path)
        elif name in ACCOUNT_ROLES:
            self.account(element, ACCOUNT_ROLES[name], path)
        elif name == "reporter":
            r.reporter = self.reporter(element, path)
        elif name == "lawEnforcement":
            r.law_enforcement = self.law_enforcement(element, path)
        elif name == "batchedReport":
            r.batched_reason = self.b.enum(element.get("reason"), enums.BATCHED_REASONS, f"{path}/@reason")
        elif name == "additionalInfo":
            r.additional_info = _text(element)
            self.b.free_text(r.additional_info, path)
        else:
            self.b.unknown(path, _raw(element))

    def incident_summary(self, element: Element, path: str) -> None:
        r = self.report
        present: set[str] = set()
        for name, child, cpath in _children(element, path):
            present.add(name)
            if name == "incidentType":
                value = _text(child)
                r.incident_type = self.b.enum(value, enums.INCIDENT_TYPES, cpath)
                r.incident_type_known = r.incident_type in enums.INCIDENT_TYPES
            elif name == "platform":
                r.platform = _text(child)
            elif name == "escalateToHighPriority":
                r.escalation_text = _text(child) or "(escalated, no reason given)"
            elif name == "reportAnnotations":
                for flag, flag_el, fpath in _children(child, cpath):
                    known = flag in enums.REPORT_ANNOTATIONS
                    if not known:
                        self.b.issue("unknown_enum", fpath, flag, "a reportAnnotations flag")
                    if _text(flag_el) not in (None, "true", "1"):
                        self.b.issue("unknown_enum", fpath, _text(flag_el), "an empty flag element or 'true'")
                    r.annotations.append((flag, known))
            elif name == "incidentDateTime":
                r.incident_at_raw = _text(child)
                r.incident_at = self.b.timestamp(r.incident_at_raw, cpath, child.sourceline)
            elif name == "incidentDateTimeDescription":
                r.incident_at_description = _text(child)
            else:
                self.b.unknown(cpath, _raw(child))
        for required in ("incidentType", "incidentDateTime"):
            if (
                required not in present
                or (required == "incidentType" and not r.incident_type)
                or (required == "incidentDateTime" and r.incident_at is None)
            ):
                raise self.b.reject(
                    "missing_element",
                    f"incidentSummary has no {required}",
                    element=f"{path}/{required}",
                    expected=f"one <{required}>",
                    line=element.sourceline,
                )

    def internet_details(self, element: Element, path: str) -> None:
        kids = _children(element, path)
        if len(kids) != 1:
            self.b.issue("schema_cardinality", path, str(len(kids)), "exactly one incident element")
        for name, child, cpath in kids:
            if name not in enums.INCIDENT_KINDS:
                self.b.unknown(cpath, _raw(child))
                continue
            self.incident(name, child, cpath)

    def incident(self, kind: str, element: Element, path: str) -> None:
        data: dict[str, Any] = {k: v for k, v in element.attrib.items()}
        chat_client: str | None = None
        for name, child, cpath in _children(element, path):
            value = _text(child)
            if name == "url":
                data.setdefault("urls", []).append(value)
                self.b.observe("url", value, cpath, origin="incident")
            elif name == "emailAddress":
                data.setdefault("emailAddresses", []).append({"value": value, **dict(child.attrib)})
                self.b.observe("email", value, cpath, origin="incident")
            elif name == "phoneNumber":
                attrs = dict(child.attrib)
                data["phoneNumber"] = {"value": value, **attrs}
                context = Context(
                    phone_region=self.b.phone_region, country_calling_code=attrs.get("countryCallingCode")
                )
                self.b.observe("phone", value, cpath, context=context, origin="incident")
            elif name == "chatClient":
                chat_client = value
                data[name] = value
            elif name == "chatRoomName":
                data[name] = value
                self.b.observe(
                    "chat_room",
                    value,
                    cpath,
                    origin="incident",
                    context=Context(chat_client=chat_client or self.report.platform, esp_scope=self.b.esp_scope),
                )
            elif name == "ipCaptureEvent":
                self.ip_event(child, cpath, origin="incident")
                data.setdefault("ipCaptureEvents", []).append(cpath)
            elif name == "incidentAddress":
                data.setdefault("incidentAddresses", []).append(self.address(child, cpath))
            elif name in {"latitude", "longitude"}:
                try:
                    data[name] = float(value) if value is not None else None
                except ValueError:
                    self.b.issue("invalid_number", cpath, value, "a decimal degree")
                    data[name] = value
            elif name in {
                "content",
                "additionalInfo",
                "name",
                "gameName",
                "console",
                "locationName",
                "client",
                "fileNames",
            }:
                data[name] = value
                if name == "additionalInfo":
                    self.b.free_text(value, cpath)
            else:
                self.b.unknown(cpath, _raw(child))
        self.report.incidents.append(Incident(len(self.report.incidents), kind, data))

    def reporter(self, element: Element, path: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, child, cpath in _children(element, path):
            if name in {"reportingPerson", "contactPerson"}:
                out[name] = self.contact(child, cpath)
            elif name in {"companyTemplate", "termsOfService", "legalURL"}:
                out[name] = _text(child)
            else:
                self.b.unknown(cpath, _raw(child))
        if "reportingPerson" not in out:
            raise self.b.reject(
                "missing_element",
                "reporter has no reportingPerson",
                element=f"{path}/reportingPerson",
                expected="one <reportingPerson>",
                line=element.sourceline,
            )
        return out

    def law_enforcement(self, element: Element, path: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, child, cpath in _children(element, path):
            if name == "officerContact":
                out[name] = self.contact(child, cpath)
            elif name in {"reportedToLe", "servedLegalProcessDomestic", "servedLegalProcessInternational"}:
                out[name] = self.b.boolean(_text(child), cpath)
                if child.get("fleaCountry"):
                    out["fleaCountry"] = child.get("fleaCountry")
            elif name in {"agencyName", "caseNumber"}:
                out[name] = _text(child)
            else:
                self.b.unknown(cpath, _raw(child))
        return out

    def account(self, element: Element, role: str, path: str, parent: int | None = None) -> None:
        acc = self.b.new_account(role, path, parent)
        ordinal = acc.ordinal
        details = acc.details
        if role == "associated":
            details["type"] = self.b.enum(element.get("type"), enums.ASSOCIATED_ACCOUNT_TYPES, f"{path}/@type")
        scope_override: str | None = None
        for name, child, cpath in _children(element, path):
            value = _text(child)
            if name in PERSON_ELEMENTS:
                for pname, pchild, ppath in _children(child, cpath):
                    if not self.person_field(pname, pchild, ppath, ordinal, details):
                        self.b.unknown(ppath, _raw(pchild))
            elif self.person_field(name, child, cpath, ordinal, details):
                pass
            elif name == "platform":
                details["platform"] = value
                if child.get("thirdPartyUser") is not None:
                    details["thirdPartyUser"] = self.b.boolean(child.get("thirdPartyUser"), f"{cpath}/@thirdPartyUser")
                if value:
                    scope_override = esp_scope(value)
            elif name == "espIdentifier":
                acc.esp_identifier = value
                attrs = {"scope": scope_override} if scope_override else None
                self.b.observe(
                    "esp_user",
                    value,
                    cpath,
                    account=ordinal,
                    attrs=attrs,
                    context=Context(esp_scope=scope_override or self.b.esp_scope),
                )
            elif name == "screenName":
                acc.screen_name = value
                self.b.observe("screen_name", value, cpath, account=ordinal)
            elif name == "displayName":
                acc.display_name = acc.display_name or value
                details.setdefault("displayNames", []).append(value)
                self.b.observe("display_name", value, cpath, account=ordinal)
            elif name == "profileUrl":
                details.setdefault("profileUrls", []).append(value)
                self.b.observe("url", value, cpath, account=ordinal)
            elif name == "ipCaptureEvent":
                self.ip_event(child, cpath, account=ordinal)
            elif name == "deviceId":
                self.device(child, cpath, account=ordinal)
            elif name in {"priorCTReports", "priorCTReport"}:
                self.b.observe("prior_report", value, cpath, account=ordinal)
            elif name == "groupIdentifier":
                attrs = {"scope": scope_override} if scope_override else None
                self.b.observe(
                    "group",
                    value,
                    cpath,
                    account=ordinal,
                    attrs=attrs,
                    context=Context(esp_scope=scope_override or self.b.esp_scope),
                )
            elif name in {"accountTemporarilyDisabled", "accountPermanentlyDisabled"}:
                details[name] = {"value": self.b.boolean(value, cpath), **dict(child.attrib)}
                for attr in ("disabledDate", "userNotifiedDate", "reenabledDate"):
                    self.b.timestamp(child.get(attr), f"{cpath}/@{attr}", child.sourceline)
            elif name == "estimatedLocation":
                self.estimated_location(child, cpath, ordinal)
            elif name in ACCOUNT_BOOLEANS:
                details[name] = self.b.boolean(value, cpath)
            elif name == "espService":
                acc.esp_service = value
            elif name in ACCOUNT_TEXTS:
                details[name] = value
            elif name == "additionalInfo":
                details.setdefault("additionalInfo", []).append(value)
                self.b.free_text(value, cpath, account=ordinal)
            elif name == "associatedAccount" and role != "associated":
                self.account(child, "associated", cpath, parent=ordinal)
            else:
                self.b.unknown(cpath, _raw(child))

    def estimated_location(self, element: Element, path: str, account: int) -> None:
        location = EstimatedLocation(
            account=account,
            verified=self.b.boolean(element.get("verified"), f"{path}/@verified"),
            observed_at=self.b.timestamp(element.get("timestamp"), f"{path}/@timestamp", element.sourceline),
        )
        for name, child, cpath in _children(element, path):
            if name == "city":
                location.city = _text(child)
            elif name == "region":
                location.region = _text(child)
            elif name == "countryCode":
                location.country_code = _text(child)
            else:
                self.b.unknown(cpath, _raw(child))
        self.b.locations.append(location)


def parse_report(
    data: bytes, *, source: str, report_id: int, phone_region: str, limits: XmlLimits, sha256: str | None = None
) -> ParsedReport:
    """Parse one `<report>` document (streamed, one top-level element at a time)."""
    sha = sha256 or hashlib.sha256(data).hexdigest()
    b = Builder(source, phone_region, report_id=report_id, xs_datetime=True)
    report = ParsedReport(report_id=report_id, format="esp_xml", parts=[SourcePart("report", sha, sha, source)])
    walker = _ReportWalker(b, report)
    paths = _Paths("report")
    for element in iter_top_level(data, source, limits, "report"):
        if not isinstance(element.tag, str):
            continue
        name = local_name(element.tag)
        walker.top(name, element, paths(name))
    for required in ("incidentSummary", "reporter"):
        if required not in walker.seen:
            raise b.reject(
                "missing_element",
                f"report has no <{required}>",
                element=f"report/{required}",
                expected=f"one <{required}>",
            )
    reporting = (report.reporter or {}).get("reportingPerson", {})
    emails = reporting.get("emails") or [{}]
    scope = esp_scope(None, emails[0].get("value"))
    if scope == "unknown-esp":
        b.issue("esp_unknown", "report/reporter/reportingPerson/email", None, "the ESP's reporting email")
    report.esp_scope = scope
    report.esp_name = scope
    b.apply_scope(scope)
    _finish(report, b)
    return report


def _finish(report: ParsedReport, b: Builder) -> None:
    report.accounts = b.accounts
    report.locations = b.locations
    report.observations = b.observations
    report.files = b.files
    report.issues = b.issues
    report.extras = b.extras


@dataclass(slots=True)
class ParsedFileDetails:
    """One `<fileDetails>` document, waiting to be attached to its report."""

    report_id: int
    file_id: str
    source_sha256: str
    source_name: str
    file: FileRecord
    observations: list[Observation]
    issues: list[Issue]
    extras: list[dict[str, str]]


_REPORT_ID = re.compile(rb"<reportId>\s*(\d{1,19})\s*</reportId>")
_FILE_ID = re.compile(rb"<fileId>\s*([^<\s]{1,512})\s*</fileId>")


def peek_file_details(data: bytes, *, source: str, limits: XmlLimits) -> tuple[int, str]:
    """The (reportId, fileId) of a fileDetails document, enough to group it with its report.

    A quick look first; the full, hardened parse happens when the report lands (and rejects the document
    alone if it is bad). Anything the quick look cannot read gets the full parse now, for a precise error.
    """
    head = data[:65536]
    report_match, file_match = _REPORT_ID.search(head), _FILE_ID.search(head)
    if report_match and file_match and b"<!DOCTYPE" not in head and len(data) <= limits.max_document_bytes:
        return int(report_match.group(1)), file_match.group(1).decode("utf-8", "replace")
    root = parse_tree(data, source, limits)
    return _file_keys(root, source)


def _file_keys(root: Element, source: str) -> tuple[int, str]:
    name = local_name(root.tag)
    if name != "fileDetails":
        raise _reject(source, "wrong_root", f"root element is <{name}>", name, root.sourceline, "<fileDetails>")
    report_raw = file_id = None
    for child in root:
        if isinstance(child.tag, str):
            tag = local_name(child.tag)
            if tag == "reportId":
                report_raw = _text(child)
            elif tag == "fileId":
                file_id = _text(child)
    if not report_raw:
        raise _reject(
            source,
            "missing_report_id",
            "fileDetails has no reportId",
            "fileDetails/reportId",
            root.sourceline,
            "one <reportId> holding the report number",
        )
    if not report_raw.isdigit():
        raise _reject(
            source,
            "missing_report_id",
            f"reportId is not a number: {report_raw!r}",
            "fileDetails/reportId",
            root.sourceline,
            "digits",
        )
    if not file_id:
        raise _reject(
            source,
            "missing_element",
            "fileDetails has no fileId",
            "fileDetails/fileId",
            root.sourceline,
            "one <fileId>",
        )
    return int(report_raw), file_id


def _reject(source: str, reason: str, message: str, element: str, line: int | None, expected: str) -> Exception:
    from tipfusion.errors import DocumentRejected

    return DocumentRejected(source, reason, message, element=element, line=line, expected=expected)


def parse_file_details(
    data: bytes, *, source: str, phone_region: str, limits: XmlLimits, sha256: str | None = None
) -> ParsedFileDetails:
    root = parse_tree(data, source, limits)
    report_id, file_id = _file_keys(root, source)
    sha = sha256 or hashlib.sha256(data).hexdigest()
    b = Builder(source, phone_region, report_id=report_id, xs_datetime=True)
    walker = _Walker(b)
    record = FileRecord(ordinal=0, path="fileDetails", source_sha256=sha, file_id=file_id)
    for name, child, cpath in _children(root, "fileDetails"):
        value = _text(child)
        if name in {"reportId", "fileId"}:
            continue
        if name == "fileName":
            record.file_name = value
        elif name == "originalFileName":
            record.original_file_name = value
        elif name == "uploadedToEspTimestamp":
            record.uploaded_at_raw = value
            record.uploaded_at = b.timestamp(value, cpath, child.sourceline)
        elif name == "locationOfFile":
            record.location_of_file = value
        elif name == "fileViewedByEsp":
            record.viewed_by_esp = b.boolean(value, cpath)
        elif name == "exifViewedByEsp":
            record.exif_viewed_by_esp = b.boolean(value, cpath)
        elif name == "publiclyAvailable":
            record.publicly_available = b.boolean(value, cpath)
        elif name == "fileRelevance":
            record.relevance = b.enum(value, enums.FILE_RELEVANCE, cpath)
        elif name == "potentialMeme":
            record.potential_meme = b.boolean(value, cpath)
        elif name == "fileAnnotations":
            for flag, _flag_el, fpath in _children(child, cpath):
                if flag not in enums.FILE_ANNOTATIONS:
                    b.issue("unknown_enum", fpath, flag, "a fileAnnotations flag")
                record.annotations.append(flag)
        elif name == "industryClassification":
            record.industry_classification = b.enum(value, enums.INDUSTRY_CLASSIFICATIONS, cpath)
        elif name == "originalFileHash":
            hash_type = child.get("hashType")
            if not hash_type:
                raise b.reject(
                    "missing_element",
                    "originalFileHash without hashType",
                    element=f"{cpath}/@hashType",
                    expected="a hashType attribute (MD5, SHA1, …)",
                    line=child.sourceline,
                )
            obs = b.observe(
                "file_hash", value, cpath, context=Context(hash_type=hash_type), file=0, attrs={"hashType": hash_type}
            )
            if obs is not None:
                record.hashes[normalise_hash_type(hash_type) or hash_type] = obs.value.split(":", 1)[1]
        elif name == "ipCaptureEvent":
            walker.ip_event(child, cpath, file=0)
        elif name == "deviceId":
            walker.device(child, cpath, file=0)
        elif name == "details":
            detail_type = (
                b.enum(child.get("type"), enums.DETAILS_TYPES, f"{cpath}/@type") if child.get("type") else None
            )
            pairs = []
            for pname, pair, ppath in _children(child, cpath):
                if pname != "nameValuePair":
                    b.unknown(ppath, _raw(pair))
                    continue
                fields = {local_name(c.tag): _text(c) for c in pair if isinstance(c.tag, str)}
                pairs.append(fields)
                if detail_type == "HASH" and fields.get("name") and fields.get("value"):
                    obs = b.observe(
                        "file_hash",
                        fields["value"],
                        f"{ppath}/value",
                        context=Context(hash_type=fields["name"]),
                        file=0,
                        attrs={"hashType": fields["name"] or ""},
                    )
                    if obs is not None:
                        record.hashes[normalise_hash_type(fields["name"]) or ""] = obs.value.split(":", 1)[1]
            record.details.setdefault("details", []).append({"type": detail_type, "pairs": pairs})
        elif name == "additionalInfo":
            record.details.setdefault("additionalInfo", []).append(value)
            b.free_text(value, cpath, file=0)
        else:
            b.unknown(cpath, _raw(child))
    return ParsedFileDetails(report_id, file_id, sha, source, record, b.observations, b.issues, b.extras)


def attach_files(report: ParsedReport, files: list[ParsedFileDetails]) -> None:
    """Add fileDetails to a report, renumbering file ordinals; one file row and one part per document.

    An ESP may send several fileDetails for one fileId, each adding details to that file: every one is kept
    as its own row (same file_id, its own source document), never merged over another.
    """
    for item in sorted(files, key=lambda f: (f.file_id, f.source_name, f.source_sha256)):
        ordinal = len(report.files)
        item.file.ordinal = ordinal
        item.file.path = f"fileDetails[{item.file_id}]"
        report.files.append(item.file)
        for obs in item.observations:
            obs.file = ordinal
            obs.path = f"{item.source_name}:{obs.path}"
            report.observations.append(obs)
        report.issues.extend(item.issues)
        report.extras.extend(item.extras)
        report.parts.append(
            SourcePart("file_details", item.source_sha256, item.source_sha256, item.source_name, item.file_id)
        )
