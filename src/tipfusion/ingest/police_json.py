"""The JSON export police receive from NCMEC (field names per the reference, §9).

One file holds one report object or a list of them; each report is its own unit, so one bad report
is quarantined alone. The literal "N/A" means absent. Unknown keys are kept verbatim as extras.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tipfusion.config import XmlLimits
from tipfusion.domain import EstimatedLocation, FileRecord, Incident, ParsedReport, SourcePart
from tipfusion.errors import DocumentRejected
from tipfusion.ingest import enums
from tipfusion.ingest.builder import Builder
from tipfusion.normalise import Context
from tipfusion.normalise.simple import esp_scope

ABSENT = {None, "", "N/A", "n/a"}

PERSON_KEYS = {
    "firstName",
    "middleName",
    "lastName",
    "preferredName",
    "gender",
    "occupation",
    "languages",
    "additionalContactInformation",
    "approximateAge",
    "dateOfBirth",
    "espUserId",
    "espService",
    "screenName",
    "displayName",
    "emails",
    "phones",
    "addresses",
    "sourceInformation",
    "ipAddress",
    "profileUrl",
    "groupIdentifier",
    "priorCTReports",
    "estimatedLocation",
    "additionalInformations",
    "age",
}
FILE_KEYS = {
    "filename",
    "originalFilename",
    "submittalId",
    "fileId",
    "verificationHash",
    "viewedByEsp",
    "exifViewedByEsp",
    "publiclyAvailable",
    "fileRelevance",
    "industryClassification",
    "ncmecTags",
    "espMetadata",
    "sourceInformation",
    "additionalInformations",
    "uploadedToEspTimestamp",
    "locationOfFile",
    "fileAnnotations",
    "hashes",
    "potentialMeme",
}


@dataclass(slots=True)
class JsonUnit:
    """One report object inside a JSON file, with where it sits."""

    index: int
    obj: Any
    part_sha256: str


def canonical_sha(obj: Any) -> str:
    return hashlib.sha256(
        json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ).hexdigest()


def split_units(data: bytes, source: str, limits: XmlLimits) -> list[JsonUnit]:
    """Decode a police JSON file into its report objects (no validation of their contents yet)."""
    if len(data) > limits.max_document_bytes:
        raise DocumentRejected(
            source,
            "too_large",
            f"document is {len(data):,} bytes",
            expected="a smaller document, or raise TIPFUSION_MAX_DOCUMENT_BYTES",
        )
    try:
        decoded = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise DocumentRejected(
            source, "malformed_json", f"not UTF-8 text: {exc.reason}", expected="UTF-8 JSON"
        ) from exc
    except json.JSONDecodeError as exc:
        raise DocumentRejected(
            source, "malformed_json", f"malformed JSON: {exc.msg}", line=exc.lineno, expected="well-formed JSON"
        ) from exc
    if isinstance(decoded, dict) and isinstance(decoded.get("reports"), list):
        decoded = decoded["reports"]
    items = decoded if isinstance(decoded, list) else [decoded]
    if not isinstance(decoded, list | dict):
        raise DocumentRejected(
            source,
            "wrong_root",
            f"top level is a JSON {type(decoded).__name__}",
            expected="a report object or a list of report objects",
        )
    if not items:
        raise DocumentRejected(source, "empty", "the file holds no report objects", expected="at least one report")
    return [JsonUnit(i, item, canonical_sha(item)) for i, item in enumerate(items)]


def _present(value: Any) -> bool:
    return not (value is None or (isinstance(value, str) and value.strip() in ABSENT))


def _str(value: Any) -> str | None:
    if not _present(value):
        return None
    if isinstance(value, dict):
        value = value.get("value")
        return _str(value)
    return str(value).strip()


def _list(value: Any) -> list[Any]:
    """A JSON list, or nothing: a wrong type where a list belongs is ignored, never iterated."""
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _wrapped(container: Any, key: str) -> list[Any]:
    """`{"emails": {"emails": [...]}}` → the inner list; tolerate a bare list too."""
    if not isinstance(container, dict):
        return []
    value = container.get(key)
    if isinstance(value, dict):
        value = value.get(key, [])
    return value if isinstance(value, list) else []


class _JsonWalker:
    def __init__(self, b: Builder, report: ParsedReport):
        self.b = b
        self.report = report

    def extras(self, obj: dict[str, Any], known: set[str], path: str) -> None:
        for key, value in obj.items():
            if key not in known and _present(value):
                self.b.unknown(f"{path}.{key}", json.dumps(value, sort_keys=True, ensure_ascii=False))

    def captures(self, owner: Any, path: str, account: int | None = None, file: int | None = None) -> None:
        for i, capture in enumerate(
            _wrapped(owner.get("sourceInformation", {}) if isinstance(owner, dict) else {}, "sourceCaptures")
        ):
            cpath = f"{path}.sourceInformation.sourceCaptures[{i}]"
            if not isinstance(capture, dict):
                self.b.issue("invalid_structure", cpath, str(capture), "an object")
                continue
            kind = str(capture.get("captureType", "")).strip().lower()
            if kind in {"ip address", "ip", "ipaddress"}:
                self.b.ip_event(
                    ip_raw=_str(capture.get("value")),
                    path=cpath,
                    event=self.b.enum(
                        _str(capture.get("eventName")), enums.EVENT_NAMES, f"{cpath}.eventName", note_case=False
                    ),
                    time_raw=_str(capture.get("dateTime")),
                    proxy=self.b.boolean(_str(capture.get("possibleProxy")), f"{cpath}.possibleProxy"),
                    port_raw=_str(capture.get("port")),
                    account=account,
                    file=file,
                )
            elif kind in {"url", "profile url"}:
                self.b.observe(
                    "url",
                    _str(capture.get("value")),
                    f"{cpath}.value",
                    account=account,
                    file=file,
                    origin="field" if kind == "profile url" else "incident",
                )
            else:
                self.b.unknown(cpath, json.dumps(capture, sort_keys=True, ensure_ascii=False))

    def person(self, obj: Any, role: str, path: str) -> None:
        if not isinstance(obj, dict):
            self.b.issue("invalid_structure", path, str(obj), "an object")
            return
        acc = self.b.new_account(role, path)
        n = acc.ordinal
        acc.first_name = _str(obj.get("firstName"))
        acc.last_name = _str(obj.get("lastName"))
        acc.age = self.b.integer(_str(obj.get("approximateAge")) or _str(obj.get("age")), f"{path}.approximateAge")
        acc.date_of_birth = self.b.date(_str(obj.get("dateOfBirth")), f"{path}.dateOfBirth")
        acc.esp_identifier = _str(obj.get("espUserId"))
        acc.esp_service = _str(obj.get("espService"))
        acc.screen_name = _str(obj.get("screenName"))
        acc.display_name = _str(obj.get("displayName"))
        for key in ("middleName", "preferredName", "gender", "occupation", "languages", "additionalContactInformation"):
            if _present(obj.get(key)):
                acc.details[key] = obj[key]
        self.b.observe("esp_user", acc.esp_identifier, f"{path}.espUserId", account=n)
        self.b.observe("screen_name", acc.screen_name, f"{path}.screenName", account=n)
        self.b.observe("display_name", acc.display_name, f"{path}.displayName", account=n)
        self.b.observe("url", _str(obj.get("profileUrl")), f"{path}.profileUrl", account=n)
        self.b.observe("group", _str(obj.get("groupIdentifier")), f"{path}.groupIdentifier", account=n)
        for i, prior in enumerate(_list(obj.get("priorCTReports"))):
            self.b.observe("prior_report", _str(prior), f"{path}.priorCTReports[{i}]", account=n)
        for i, email in enumerate(_wrapped(obj, "emails")):
            epath = f"{path}.emails.emails[{i}]"
            verified = (
                self.b.boolean(_str(email.get("verified")), f"{epath}.verified") if isinstance(email, dict) else None
            )
            self.b.observe("email", _str(email), epath, account=n, verified=verified)
        for i, phone in enumerate(_wrapped(obj, "phones")):
            ppath = f"{path}.phones.phones[{i}]"
            cc = _str(phone.get("countryCallingCode")) if isinstance(phone, dict) else None
            verified = (
                self.b.boolean(_str(phone.get("verified")), f"{ppath}.verified") if isinstance(phone, dict) else None
            )
            self.b.observe(
                "phone",
                _str(phone),
                ppath,
                account=n,
                verified=verified,
                context=Context(phone_region=self.b.phone_region, country_calling_code=cc),
            )
        addresses = [a for a in _wrapped(obj, "addresses") if isinstance(a, dict)]
        if addresses:
            acc.details["addresses"] = [{k: v for k, v in a.items() if _present(v)} for a in addresses]
        if _present(obj.get("ipAddress")):
            self.b.ip_event(
                ip_raw=_str(obj.get("ipAddress")),
                path=f"{path}.ipAddress",
                event=None,
                time_raw=None,
                proxy=None,
                port_raw=None,
                account=n,
            )
        location = obj.get("estimatedLocation")
        if isinstance(location, dict):
            self.b.locations.append(
                EstimatedLocation(
                    account=n,
                    city=_str(location.get("city")),
                    region=_str(location.get("region")),
                    country_code=_str(location.get("countryCode")),
                    verified=self.b.boolean(_str(location.get("verified")), f"{path}.estimatedLocation.verified"),
                    observed_at=self.b.timestamp(
                        _str(location.get("timestamp")), f"{path}.estimatedLocation.timestamp"
                    ),
                )
            )
        self.captures(obj, path, account=n)
        for i, info in enumerate(_list(obj.get("additionalInformations"))):
            text = _str(info)
            acc.details.setdefault("additionalInfo", []).append(text)
            self.b.free_text(text, f"{path}.additionalInformations[{i}]", account=n)
        self.extras(obj, PERSON_KEYS, path)

    def file(self, obj: Any, path: str) -> None:
        if not isinstance(obj, dict):
            self.b.issue("invalid_structure", path, str(obj), "an object")
            return
        ordinal = len(self.b.files)
        record = FileRecord(ordinal=ordinal, path=path)
        record.file_id = _str(obj.get("submittalId")) or _str(obj.get("fileId"))
        record.file_name = _str(obj.get("filename"))
        record.original_file_name = _str(obj.get("originalFilename"))
        record.uploaded_at_raw = _str(obj.get("uploadedToEspTimestamp"))
        record.uploaded_at = self.b.timestamp(record.uploaded_at_raw, f"{path}.uploadedToEspTimestamp")
        record.location_of_file = _str(obj.get("locationOfFile"))
        record.viewed_by_esp = self.b.boolean(_str(obj.get("viewedByEsp")), f"{path}.viewedByEsp")
        record.exif_viewed_by_esp = self.b.boolean(_str(obj.get("exifViewedByEsp")), f"{path}.exifViewedByEsp")
        record.publicly_available = self.b.boolean(_str(obj.get("publiclyAvailable")), f"{path}.publiclyAvailable")
        record.potential_meme = self.b.boolean(_str(obj.get("potentialMeme")), f"{path}.potentialMeme")
        record.relevance = self.b.enum(_str(obj.get("fileRelevance")), enums.FILE_RELEVANCE, f"{path}.fileRelevance")
        record.industry_classification = self.b.enum(
            _str(obj.get("industryClassification")), enums.INDUSTRY_CLASSIFICATIONS, f"{path}.industryClassification"
        )
        for flag in _list(obj.get("fileAnnotations")):
            if flag not in enums.FILE_ANNOTATIONS:
                self.b.issue("unknown_enum", f"{path}.fileAnnotations", str(flag), "a fileAnnotations flag")
            record.annotations.append(str(flag))
        hashes: list[tuple[str | None, str | None, str]] = [
            (None, _str(obj.get("verificationHash")), f"{path}.verificationHash")
        ]
        for kind, value in _dict(obj.get("hashes")).items():
            hashes.append((kind, _str(value), f"{path}.hashes.{kind}"))
        for hash_type, value, hpath in hashes:
            found = self.b.observe("file_hash", value, hpath, context=Context(hash_type=hash_type), file=ordinal)
            if found is not None:
                kind, _, digest = found.value.partition(":")
                record.hashes[kind.upper()] = digest
        tags = [
            _str(tag)
            for group in _wrapped(obj.get("ncmecTags"), "groups")
            if isinstance(group, dict)
            for tag in (_list(group.get("tags")))
        ]
        if tags:
            record.details["ncmecTags"] = [t for t in tags if t]
        metadata = _wrapped(obj.get("espMetadata"), "metadatas")
        if metadata:
            record.details["espMetadata"] = metadata
        for i, info in enumerate(_list(obj.get("additionalInformations"))):
            text = _str(info)
            record.details.setdefault("additionalInfo", []).append(text)
            self.b.free_text(text, f"{path}.additionalInformations[{i}]", file=ordinal)
        self.b.files.append(record)
        self.captures(obj, path, file=ordinal)
        self.extras(obj, FILE_KEYS, path)

    def incident_details(self, obj: Any, path: str) -> None:
        if not isinstance(obj, dict):
            return
        for kind, items in obj.items():
            if not isinstance(items, list):
                self.b.unknown(f"{path}.{kind}", json.dumps(items, sort_keys=True, ensure_ascii=False))
                continue
            for i, item in enumerate(items):
                ipath = f"{path}.{kind}[{i}]"
                if not isinstance(item, dict):
                    continue
                self.report.incidents.append(Incident(len(self.report.incidents), kind, item))
                if _present(item.get("chatRoomName")):
                    self.b.observe(
                        "chat_room",
                        _str(item["chatRoomName"]),
                        f"{ipath}.chatRoomName",
                        origin="incident",
                        context=Context(chat_client=_str(item.get("chatClient")), esp_scope=self.b.esp_scope),
                    )
                for key in ("emailAddress", "emailAddresses", "sender", "recipients"):
                    values = item.get(key)
                    for j, value in enumerate(values if isinstance(values, list) else [values]):
                        self.b.observe("email", _str(value), f"{ipath}.{key}[{j}]", origin="incident")
                self.captures(item, ipath)


def parse_report(unit: JsonUnit, *, source: str, source_sha256: str, phone_region: str) -> ParsedReport:
    """Parse one police-JSON report object."""
    obj = unit.obj
    where = f"{source}#{unit.index}"
    if not isinstance(obj, dict):
        raise DocumentRejected(
            where, "wrong_root", f"item {unit.index} is a JSON {type(obj).__name__}", expected="a report object"
        )
    raw_id = obj.get("reportId")
    if not _present(raw_id) or not str(raw_id).strip().isdigit():
        raise DocumentRejected(
            where,
            "missing_report_id",
            f"reportId missing or not a number: {raw_id!r}",
            element="reportId",
            expected="reportId holding the report number",
        )
    report_id = int(str(raw_id).strip())
    b = Builder(where, phone_region, report_id=report_id)
    info = obj.get("reportedInformation")
    if not isinstance(info, dict):
        raise b.reject(
            "missing_element", "no reportedInformation object", element="reportedInformation", expected="an object"
        )
    esp = info.get("reportingEsp")
    if not isinstance(esp, dict):
        raise b.reject(
            "missing_element",
            "no reportingEsp object",
            element="reportedInformation.reportingEsp",
            expected="an object with espName",
        )
    report = ParsedReport(
        report_id=report_id,
        format="ncmec_json",
        parts=[SourcePart("json_report", unit.part_sha256, source_sha256, source, str(unit.index))],
    )
    report.esp_name = _str(esp.get("espName"))
    report.esp_scope = esp_scope(report.esp_name, _str(esp.get("email")))
    b.esp_scope = report.esp_scope
    report.reporter = {"reportingEsp": esp}
    report.date_received = b.timestamp(_str(obj.get("dateReceived")), "dateReceived")
    walker = _JsonWalker(b, report)
    summary = _dict(info.get("incidentSummary"))
    if not isinstance(summary, dict):
        summary = {}
    report.incident_type = b.enum(
        _str(summary.get("incidentType")), enums.INCIDENT_TYPES, "reportedInformation.incidentSummary.incidentType"
    )
    report.incident_type_known = report.incident_type in enums.INCIDENT_TYPES
    report.incident_at_raw = _str(summary.get("incidentDateTime"))
    report.incident_at = b.timestamp(report.incident_at_raw, "reportedInformation.incidentSummary.incidentDateTime")
    report.incident_at_description = _str(summary.get("incidentDateTimeDescription"))
    report.platform = _str(summary.get("platform"))
    escalation = summary.get("escalateToHighPriority")
    report.escalation_text = _str(escalation) if escalation is not True else "(escalated, no reason given)"
    for flag in _list(summary.get("reportAnnotations")):
        report.annotations.append((str(flag), str(flag) in enums.REPORT_ANNOTATIONS))
    for key in ("priority", "priorityLevel", "ncmecPriority"):
        if _present(obj.get(key)) or _present(info.get(key)):
            report.ncmec_priority = _str(obj.get(key)) or _str(info.get(key))
    if not report.incident_type:
        raise b.reject(
            "missing_element",
            "incidentSummary has no incidentType",
            element="reportedInformation.incidentSummary.incidentType",
            expected="an incident type",
        )
    base = "reportedInformation"
    for i, person in enumerate(_wrapped(info.get("reportedPeople", {}), "reportedPersons")):
        walker.person(person, "reported", f"{base}.reportedPeople.reportedPersons[{i}]")
    for i, person in enumerate(_wrapped(info, "intendedRecipients")):
        walker.person(person, "recipient", f"{base}.intendedRecipients.intendedRecipients[{i}]")
    for i, person in enumerate(_wrapped(info, "victims")):
        walker.person(person, "victim", f"{base}.victims.victims[{i}]")
    for i, item in enumerate(_wrapped(info, "uploadedFiles")):
        walker.file(item, f"{base}.uploadedFiles.uploadedFiles[{i}]")
    walker.incident_details(info.get("incidentDetails"), f"{base}.incidentDetails")
    texts = [_str(v) for v in _list(info.get("additionalInformations"))]
    report.additional_info = "\n".join(t for t in texts if t) or None
    b.free_text(report.additional_info, f"{base}.additionalInformations")
    walker.extras(
        obj, {"reportId", "dateReceived", "reportedInformation", "priority", "priorityLevel", "ncmecPriority"}, "$"
    )
    walker.extras(
        info,
        {
            "reportingEsp",
            "incidentSummary",
            "reportedPeople",
            "intendedRecipients",
            "victims",
            "uploadedFiles",
            "incidentDetails",
            "additionalInformations",
            "priority",
            "priorityLevel",
            "ncmecPriority",
        },
        base,
    )
    report.accounts, report.locations, report.files = b.accounts, b.locations, b.files
    report.observations, report.issues, report.extras = b.observations, b.issues, b.extras
    return report


def iter_reports(
    data: bytes, *, source: str, source_sha256: str, phone_region: str, limits: XmlLimits
) -> Iterator[ParsedReport | DocumentRejected]:
    for unit in split_units(data, source, limits):
        try:
            yield parse_report(unit, source=source, source_sha256=source_sha256, phone_region=phone_region)
        except DocumentRejected as exc:
            yield exc
