"""The JSON export police receive from NCMEC (field names per the reference, §9).

One file holds one report object or a list of them; each report is its own unit, so one bad report
is quarantined alone. The literal "N/A" means absent. Every object is read through a `_Node` that marks the
keys the parser takes; the keys it does not take, at any depth, are kept verbatim as extras with their path.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from tipfusion.config import XmlLimits
from tipfusion.domain import Account, EstimatedLocation, FileRecord, Incident, ParsedReport, SourcePart
from tipfusion.errors import DocumentRejected
from tipfusion.ingest import enums
from tipfusion.ingest.builder import Builder
from tipfusion.ingest.ids import EXPECTED as ID_EXPECTED
from tipfusion.ingest.ids import BadReportId, parse_report_id
from tipfusion.normalise import Context
from tipfusion.normalise.simple import esp_scope

ABSENT = {None, "", "N/A", "n/a"}
PRIORITY_KEYS = ("priority", "priorityLevel", "ncmecPriority")
PERSON_DETAIL_KEYS = (
    "middleName",
    "preferredName",
    "gender",
    "occupation",
    "languages",
    "additionalContactInformation",
)
IP_CAPTURES = {"ip address", "ip", "ipaddress"}
URL_CAPTURES = {"url", "profile url"}
DEVICE_CAPTURES = {"device id", "deviceid", "device"}
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


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
    except RecursionError as exc:
        raise DocumentRejected(
            source, "too_deep", "JSON nested too deeply to read", expected="JSON nested at most a few hundred levels"
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
    try:
        return [JsonUnit(i, item, canonical_sha(item)) for i, item in enumerate(items)]
    except RecursionError as exc:
        raise DocumentRejected(
            source, "too_deep", "JSON nested too deeply to read", expected="JSON nested at most a few hundred levels"
        ) from exc


def report_id_of(unit: JsonUnit, source: str) -> int:
    """The unit's reportId, checked (ASCII digits, 64-bit): a bad one rejects this report alone."""
    raw_id = unit.obj.get("reportId") if isinstance(unit.obj, dict) else None
    try:
        return parse_report_id(raw_id if _present(raw_id) else None)
    except BadReportId as exc:
        raise DocumentRejected(
            f"{source}#{unit.index}",
            exc.reason,
            f"reportId: {exc}",
            element="reportId",
            expected=ID_EXPECTED,
        ) from exc


def _present(value: Any) -> bool:
    return not (value is None or (isinstance(value, str) and value.strip() in ABSENT))


def _str(value: Any) -> str | None:
    if not _present(value):
        return None
    if isinstance(value, dict):
        value = value.get("value")
        return _str(value)
    return str(value).strip()


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


@functools.lru_cache(maxsize=4096)
def _plain(key: str) -> bool:
    return _PLAIN_KEY.fullmatch(key) is not None


def _key_path(base: str, key: str) -> str:
    """`base.key`, or `base["odd key"]` when the key is not a plain name, so that a path always reads back."""
    return f"{base}.{key}" if _plain(key) else f"{base}[{json.dumps(key, ensure_ascii=False)}]"


class _Node:
    """One JSON object being read: `get` marks a key as taken, `close` keeps every key not taken as an extra.

    Used as a context manager, so that each object the parser opens is also closed; a key nobody asked
    for — at any depth — is therefore kept with its path rather than dropped.
    """

    __slots__ = ("b", "obj", "path", "taken")

    def __init__(self, b: Builder, obj: dict[str, Any], path: str):
        self.b, self.obj, self.path = b, obj, path
        self.taken: set[str] = set()

    def __enter__(self) -> _Node:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if kind is None:
            self.close()

    def get(self, key: str) -> Any:
        self.taken.add(key)
        return self.obj.get(key)

    def verbatim(self) -> dict[str, Any]:
        """The whole object, for fields that store it as received: every key is kept there."""
        self.taken.update(self.obj)
        return self.obj

    def text(self, key: str) -> str | None:
        value = self.get(key)
        if isinstance(value, dict):
            return _text(self.b, value, _key_path(self.path, key))
        return _str(value)

    def child(self, key: str) -> _Node:
        return _node(self.b, self.get(key), _key_path(self.path, key))

    def items(self, key: str, inner: str | None = None) -> list[tuple[Any, str]]:
        return _items(self.b, self.get(key), _key_path(self.path, key), inner or key)

    def close(self) -> None:
        for key, value in self.obj.items():
            if key not in self.taken and _present(value):
                self.b.unknown(_key_path(self.path, str(key)), _dump(value), "unknown_key")


def _node(b: Builder, value: Any, path: str) -> _Node:
    """A nested object; a value of another shape where an object belongs is kept verbatim (and an empty node given)."""
    if isinstance(value, dict):
        return _Node(b, value, path)
    if _present(value):
        b.unknown(path, _dump(value), "invalid_structure")
    return _Node(b, {}, path)


def _items(b: Builder, value: Any, path: str, inner: str) -> list[tuple[Any, str]]:
    """A list's entries with their paths; the list may be bare or wrapped one level (`{"emails": {"emails": [...]}}`).

    Other keys of the wrapper, or a value that is no list, are kept verbatim rather than ignored.
    """
    if isinstance(value, dict):
        with _Node(b, value, path) as wrapper:
            value, path = wrapper.get(inner), _key_path(path, inner)
    if isinstance(value, list):
        return [(item, f"{path}[{i}]") for i, item in enumerate(value)]
    if _present(value):
        b.unknown(path, _dump(value), "invalid_structure")
    return []


def _text(b: Builder, value: Any, path: str) -> str | None:
    """A scalar, or the `value` of a `{"value": …}` object (whose other keys are kept)."""
    if isinstance(value, dict):
        with _Node(b, value, path) as node:
            return node.text("value")
    return _str(value)


def _entry(b: Builder, item: Any, path: str, *keys: str) -> tuple[str | None, dict[str, Any]]:
    """A list entry that is a scalar, or an object with `value` and some known keys (its other keys kept)."""
    if not isinstance(item, dict):
        return _str(item), {}
    with _Node(b, item, path) as node:
        return node.text("value"), {key: node.get(key) for key in keys}


class _JsonWalker:
    def __init__(self, b: Builder, report: ParsedReport):
        self.b = b
        self.report = report

    # -- source captures ------------------------------------------------------------------------------
    def captures(self, owner: _Node, account: int | None = None, file: int | None = None) -> None:
        with owner.child("sourceInformation") as source:
            for capture, cpath in source.items("sourceCaptures"):
                if not isinstance(capture, dict):
                    self.b.unknown(cpath, _dump(capture), "invalid_structure")
                    continue
                with _Node(self.b, capture, cpath) as node:
                    self.capture(node, account, file)

    def capture(self, c: _Node, account: int | None, file: int | None) -> None:
        kind = str(c.get("captureType") or "").strip().lower()
        if kind in IP_CAPTURES:
            self.b.ip_event(
                ip_raw=c.text("value"),
                path=c.path,
                event=self.event(c),
                time_raw=c.text("dateTime"),
                proxy=self.b.boolean(c.text("possibleProxy"), f"{c.path}.possibleProxy"),
                port_raw=c.text("port"),
                account=account,
                file=file,
            )
        elif kind in URL_CAPTURES:
            origin = "field" if kind == "profile url" else "incident"
            self.b.observe("url", c.text("value"), f"{c.path}.value", account=account, file=file, origin=origin)
        elif kind in DEVICE_CAPTURES:
            self.device(c, account, file)
        else:
            self.b.unknown(c.path, _dump(c.verbatim()), "unknown_enum")

    def event(self, c: _Node) -> str | None:
        return self.b.enum(c.text("eventName"), enums.EVENT_NAMES, f"{c.path}.eventName", note_case=False)

    def device(self, c: _Node, account: int | None, file: int | None) -> None:
        """`{"captureType": "Device ID", "valueType": "IDFA", "value": …}`: a device observation, like XML deviceId."""
        value = c.text("value")
        id_type = c.text("valueType") or c.text("idType")
        if value is None:
            return
        if id_type is None:
            self.b.issue("missing_element", f"{c.path}.valueType", None, "the device ID type (IMEI, IDFA, GAID, …)")
        self.b.device(
            id_type=id_type or "UNKNOWN",
            id_value=value,
            path=c.path,
            event=self.event(c),
            time_raw=c.text("dateTime"),
            account=account,
            file=file,
        )

    # -- people ---------------------------------------------------------------------------------------
    def person(self, obj: Any, role: str, path: str) -> None:
        if not isinstance(obj, dict):
            self.b.unknown(path, _dump(obj), "invalid_structure")
            return
        acc = self.b.new_account(role, path)
        with _Node(self.b, obj, path) as node:
            self.identity(node, acc)
            self.names(node, acc)
            self.contacts(node, acc.ordinal)
            self.location(node, acc.ordinal)
            self.captures(node, account=acc.ordinal)
            for text in self.informations(node, account=acc.ordinal):
                acc.details.setdefault("additionalInfo", []).append(text)

    def identity(self, node: _Node, acc: Account) -> None:
        n, path = acc.ordinal, node.path
        acc.first_name = node.text("firstName")
        acc.last_name = node.text("lastName")
        approximate, age = node.text("approximateAge"), node.text("age")
        acc.age = self.b.integer(approximate or age, f"{path}.approximateAge")
        if approximate and age and age != approximate:
            acc.details["age"] = age
        acc.date_of_birth = self.b.date(node.text("dateOfBirth"), f"{path}.dateOfBirth")
        acc.esp_identifier = node.text("espUserId")
        acc.esp_service = node.text("espService")
        for key in PERSON_DETAIL_KEYS:
            value = node.get(key)
            if _present(value):
                acc.details[key] = value
        self.b.observe("esp_user", acc.esp_identifier, f"{path}.espUserId", account=n)
        self.b.observe("url", node.text("profileUrl"), f"{path}.profileUrl", account=n)
        self.b.observe("group", node.text("groupIdentifier"), f"{path}.groupIdentifier", account=n)
        for prior, ppath in node.items("priorCTReports"):
            self.b.observe("prior_report", _text(self.b, prior, ppath), ppath, account=n)
        ip = node.text("ipAddress")
        if ip is not None:
            self.b.ip_event(
                ip_raw=ip, path=f"{path}.ipAddress", event=None, time_raw=None, proxy=None, port_raw=None, account=n
            )

    def names(self, node: _Node, acc: Account) -> None:
        """screenName, and display names: `displayName` and a `displayNames` list, each an observation."""
        n, path = acc.ordinal, node.path
        acc.screen_name = node.text("screenName")
        self.b.observe("screen_name", acc.screen_name, f"{path}.screenName", account=n)
        names = [(node.text("displayName"), f"{path}.displayName")]
        names += [(_text(self.b, item, ipath), ipath) for item, ipath in node.items("displayNames")]
        for value, npath in names:
            if value is None:
                continue
            acc.display_name = acc.display_name or value
            acc.details.setdefault("displayNames", []).append(value)
            self.b.observe("display_name", value, npath, account=n)

    def contacts(self, node: _Node, n: int) -> None:
        for item, epath in node.items("emails"):
            value, known = _entry(self.b, item, epath, "verified")
            verified = self.b.boolean(_str(known.get("verified")), f"{epath}.verified")
            self.b.observe("email", value, epath, account=n, verified=verified)
        for item, ppath in node.items("phones"):
            value, known = _entry(self.b, item, ppath, "verified", "countryCallingCode")
            self.b.observe(
                "phone",
                value,
                ppath,
                account=n,
                verified=self.b.boolean(_str(known.get("verified")), f"{ppath}.verified"),
                context=Context(
                    phone_region=self.b.phone_region, country_calling_code=_str(known.get("countryCallingCode"))
                ),
            )
        addresses = []
        for item, apath in node.items("addresses"):
            if isinstance(item, dict):
                addresses.append({k: v for k, v in item.items() if _present(v)})  # stored as received
            else:
                self.b.unknown(apath, _dump(item), "invalid_structure")
        if addresses:
            self.b.accounts[n].details["addresses"] = addresses

    def location(self, node: _Node, n: int) -> None:
        value = node.get("estimatedLocation")
        if not isinstance(value, dict):
            _node(self.b, value, f"{node.path}.estimatedLocation")  # a wrong shape is kept
            return
        with _Node(self.b, value, f"{node.path}.estimatedLocation") as loc:
            self.b.locations.append(
                EstimatedLocation(
                    account=n,
                    city=loc.text("city"),
                    region=loc.text("region"),
                    country_code=loc.text("countryCode"),
                    verified=self.b.boolean(loc.text("verified"), f"{loc.path}.verified"),
                    observed_at=self.b.timestamp(loc.text("timestamp"), f"{loc.path}.timestamp"),
                )
            )

    def informations(self, node: _Node, account: int | None = None, file: int | None = None) -> list[str | None]:
        """`additionalInformations`: a list of `{value}`; identifiers in the text are mined as weaker evidence."""
        texts = []
        for item, ipath in node.items("additionalInformations"):
            text = _text(self.b, item, ipath)
            texts.append(text)
            self.b.free_text(text, ipath, account=account, file=file)
        return texts

    # -- files ----------------------------------------------------------------------------------------
    def file(self, obj: Any, path: str) -> None:
        if not isinstance(obj, dict):
            self.b.unknown(path, _dump(obj), "invalid_structure")
            return
        record = FileRecord(ordinal=len(self.b.files), path=path)
        with _Node(self.b, obj, path) as node:
            self.file_fields(node, record)
            self.file_hashes(node, record)
            self.file_labels(node, record)
            for text in self.informations(node, file=record.ordinal):
                record.details.setdefault("additionalInfo", []).append(text)
            self.b.files.append(record)
            self.captures(node, file=record.ordinal)

    def file_fields(self, node: _Node, record: FileRecord) -> None:
        b, path = self.b, node.path
        submittal, file_id = node.text("submittalId"), node.text("fileId")
        record.file_id = submittal or file_id
        if submittal and file_id and file_id != submittal:
            record.details["fileId"] = file_id
        record.file_name = node.text("filename")
        record.original_file_name = node.text("originalFilename")
        record.uploaded_at_raw = node.text("uploadedToEspTimestamp")
        record.uploaded_at = b.timestamp(record.uploaded_at_raw, f"{path}.uploadedToEspTimestamp")
        record.location_of_file = node.text("locationOfFile")
        record.viewed_by_esp = b.boolean(node.text("viewedByEsp"), f"{path}.viewedByEsp")
        record.exif_viewed_by_esp = b.boolean(node.text("exifViewedByEsp"), f"{path}.exifViewedByEsp")
        record.publicly_available = b.boolean(node.text("publiclyAvailable"), f"{path}.publiclyAvailable")
        record.potential_meme = b.boolean(node.text("potentialMeme"), f"{path}.potentialMeme")
        record.relevance = b.enum(
            node.text("fileRelevance"), enums.FILE_RELEVANCE, f"{path}.fileRelevance", width=enums.FILE_RELEVANCE_WIDTH
        )
        record.industry_classification = b.enum(
            node.text("industryClassification"),
            enums.INDUSTRY_CLASSIFICATIONS,
            f"{path}.industryClassification",
            width=enums.INDUSTRY_CLASSIFICATION_WIDTH,
        )
        for flag, fpath in node.items("fileAnnotations"):
            name = _text(b, flag, fpath) or ""
            if name not in enums.FILE_ANNOTATIONS:
                b.issue("unknown_enum", f"{path}.fileAnnotations", name, "a fileAnnotations flag")
            record.annotations.append(name)

    def file_hashes(self, node: _Node, record: FileRecord) -> None:
        hashes: list[tuple[str | None, str | None, str]] = [
            (None, node.text("verificationHash"), f"{node.path}.verificationHash")
        ]
        with node.child("hashes") as by_type:
            for kind, value in by_type.verbatim().items():
                hpath = _key_path(by_type.path, str(kind))
                hashes.append((str(kind), _text(self.b, value, hpath), hpath))
        for hash_type, value, hpath in hashes:
            found = self.b.observe("file_hash", value, hpath, context=Context(hash_type=hash_type), file=record.ordinal)
            if found is not None:
                kind, _, digest = found.value.partition(":")
                record.hashes[kind.upper()] = digest

    def file_labels(self, node: _Node, record: FileRecord) -> None:
        """NCMEC's tags (`ncmecTags.groups[].tags[]`) and the ESP's metadata (`espMetadata.metadatas[]`)."""
        tags = []
        for group, gpath in node.items("ncmecTags", "groups"):
            with _node(self.b, group, gpath) as g:
                tags += [_text(self.b, tag, tpath) for tag, tpath in g.items("tags")]
        if tags:
            record.details["ncmecTags"] = [t for t in tags if t]
        metadata = [item for item, _ in node.items("espMetadata", "metadatas")]  # stored as received
        if metadata:
            record.details["espMetadata"] = metadata

    # -- incidents ------------------------------------------------------------------------------------
    def incident_details(self, node: _Node) -> None:
        """Each incident is stored as received (every key kept); identifiers in it become observations."""
        for kind, value in node.obj.items():
            if not isinstance(value, list | dict):
                continue  # not an incident list: left untaken, so kept as an unknown key when the node closes
            for item, ipath in node.items(kind):
                if not isinstance(item, dict):
                    self.b.unknown(ipath, _dump(item), "invalid_structure")
                    continue
                self.report.incidents.append(Incident(len(self.report.incidents), kind, item))
                self.incident(_Node(self.b, item, ipath))

    def incident(self, item: _Node) -> None:
        item.verbatim()
        if _present(item.obj.get("chatRoomName")):
            self.b.observe(
                "chat_room",
                _str(item.obj["chatRoomName"]),
                f"{item.path}.chatRoomName",
                origin="incident",
                context=Context(chat_client=_str(item.obj.get("chatClient")), esp_scope=self.b.esp_scope),
            )
        for key in ("emailAddress", "emailAddresses", "sender", "recipients"):
            values = item.obj.get(key)
            for j, value in enumerate(values if isinstance(values, list) else [values]):
                self.b.observe("email", _str(value), f"{item.path}.{key}[{j}]", origin="incident")
        self.captures(item)

    # -- the report -----------------------------------------------------------------------------------
    def summary(self, info: _Node) -> None:
        r, b = self.report, self.b
        with info.child("incidentSummary") as s:
            r.incident_type = b.enum(s.text("incidentType"), enums.INCIDENT_TYPES, f"{s.path}.incidentType")
            r.incident_type_known = r.incident_type in enums.INCIDENT_TYPES
            r.incident_at_raw = s.text("incidentDateTime")
            r.incident_at = b.timestamp(r.incident_at_raw, f"{s.path}.incidentDateTime")
            r.incident_at_description = s.text("incidentDateTimeDescription")
            r.platform = s.text("platform")
            escalation = s.get("escalateToHighPriority")
            where = _key_path(s.path, "escalateToHighPriority")
            r.escalation_text = "(escalated, no reason given)" if escalation is True else _text(b, escalation, where)
            for flag, fpath in s.items("reportAnnotations"):
                name = _text(b, flag, fpath) or ""
                r.annotations.append((name, name in enums.REPORT_ANNOTATIONS))

    def priority(self, *nodes: _Node) -> None:
        """NCMEC's priority level, under any of its names; the report object's own beats reportedInformation's."""
        for key in PRIORITY_KEYS:
            values = [node.text(key) for node in nodes]
            value = next((v for v in values if v is not None), None)
            if value is not None:
                self.report.ncmec_priority = value

    def people_and_files(self, info: _Node) -> None:
        for person, ppath in info.items("reportedPeople", "reportedPersons"):
            self.person(person, "reported", ppath)
        for person, ppath in info.items("intendedRecipients"):
            self.person(person, "recipient", ppath)
        for person, ppath in info.items("victims"):
            self.person(person, "victim", ppath)
        for item, fpath in info.items("uploadedFiles"):
            self.file(item, fpath)
        with info.child("incidentDetails") as details:
            self.incident_details(details)


def parse_report(unit: JsonUnit, *, source: str, source_sha256: str, phone_region: str) -> ParsedReport:
    """Parse one police-JSON report object."""
    obj = unit.obj
    where = f"{source}#{unit.index}"
    if not isinstance(obj, dict):
        raise DocumentRejected(
            where, "wrong_root", f"item {unit.index} is a JSON {type(obj).__name__}", expected="a report object"
        )
    report_id = report_id_of(unit, source)
    b = Builder(where, phone_region, report_id=report_id)
    top = _Node(b, obj, "$")
    top.get("reportId")
    info_obj = top.get("reportedInformation")
    if not isinstance(info_obj, dict):
        raise b.reject(
            "missing_element", "no reportedInformation object", element="reportedInformation", expected="an object"
        )
    info = _Node(b, info_obj, "reportedInformation")
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
    report.reporter = {"reportingEsp": esp}  # stored as received: every key of it is kept there
    report.date_received = b.timestamp(top.text("dateReceived"), "dateReceived")
    walker = _JsonWalker(b, report)
    walker.summary(info)
    walker.priority(top, info)
    if not report.incident_type:
        raise b.reject(
            "missing_element",
            "incidentSummary has no incidentType",
            element="reportedInformation.incidentSummary.incidentType",
            expected="an incident type",
        )
    walker.people_and_files(info)
    texts = walker.informations(info)
    report.additional_info = "\n".join(t for t in texts if t) or None
    info.close()
    top.close()
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
