"""The ESP reporting XML: `<reportId>.xml` holding `<report>`, and `<fileDetails>` documents.

Order-tolerant and enum-tolerant on input (the reference's advice): unknown elements and values are
kept verbatim and counted. Nothing received is dropped: handlers mark what they take, and a sweep after each
part keeps every element, attribute and stray text that no handler took as an extra with its path
(`report/lawEnforcement[1]/@fleaCountry`). What would make the record untrue — a missing required element,
an IP that is not an IP, an impossible date — rejects the document with the element's path and line.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from lxml import etree

from tipfusion.config import XmlLimits
from tipfusion.domain import EstimatedLocation, FileRecord, Incident, Issue, Observation, ParsedReport, SourcePart
from tipfusion.ingest import enums
from tipfusion.ingest.builder import Builder
from tipfusion.ingest.ids import EXPECTED as ID_EXPECTED
from tipfusion.ingest.ids import BadReportId, parse_report_id
from tipfusion.ingest.xmlsafe import iter_top_level, local_name, parse_tree, prolog_end
from tipfusion.normalise import Context
from tipfusion.normalise.hashes import normalise_hash_type
from tipfusion.normalise.simple import esp_scope

Element = etree._Element

ACCOUNT_ROLES = {"personOrUserReported": "reported", "intendedRecipient": "recipient", "victim": "victim"}
PERSON_ELEMENTS = {"personOrUserReportedPerson", "intendedRecipientPerson", "victimPerson"}
ACCOUNT_BOOLEANS = {"compromisedAccount", "thirdPartyUserReported", "allEmailsReported"}
ACCOUNT_TEXTS = {"vehicleDescription", "schoolName", "profileBio", "espService"}
FILE_BOOLEANS = {
    "fileViewedByEsp": "viewed_by_esp",
    "exifViewedByEsp": "exif_viewed_by_esp",
    "publiclyAvailable": "publicly_available",
    "potentialMeme": "potential_meme",
}
# The envelope every NCMEC document carries (reference §1): the same on every document, so not stored per report.
# Any other root attribute, or another schema location, is kept.
SCHEMA_LOCATION = (
    "{http://www.w3.org/2001/XMLSchema-instance}noNamespaceSchemaLocation",
    "https://report.cybertip.org/ispws/xsd",
)


def _text(element: Element) -> str | None:
    text = element.text
    if text is None:
        return None
    text = text.strip()
    return text or None


def _raw(element: Element) -> str:
    return etree.tostring(element, encoding="unicode", with_tail=False)


def _attr_name(element: Element, key: str) -> str:
    """`xsi:noNamespaceSchemaLocation` rather than `{http://…}noNamespaceSchemaLocation` where a prefix is declared."""
    if not key.startswith("{"):
        return key
    uri, local = key[1:].split("}", 1)
    prefix = next((p for p, u in element.nsmap.items() if u == uri and p), None)
    return f"{prefix}:{local}" if prefix else key


def _path_of(element: Element, top: Element, top_path: str) -> str:
    """The `name[n]` path of `element` below `top`, counted as `_children` counts (built only for what is kept)."""
    parts = []
    while element is not top:
        name = local_name(element.tag)
        same = sum(
            1 for s in element.itersiblings(preceding=True) if isinstance(s.tag, str) and local_name(s.tag) == name
        )
        parts.append(f"{name}[{same + 1}]")
        parent = element.getparent()
        if parent is None:
            break
        element = parent
    return "/".join([top_path, *reversed(parts)])


class _Paths:
    """Builds `parent/child[n]` paths with per-parent counters."""

    def __init__(self, base: str):
        self.base = base
        self.counts: dict[str, int] = {}

    def __call__(self, name: str) -> str:
        n = self.counts.get(name, 0) + 1
        self.counts[name] = n
        return f"{self.base}/{name}[{n}]"


def _children(element: Element, base: str, taken: set[Element] | None = None) -> list[tuple[str, Element, str]]:
    """(name, child, `base/name[n]`) for the element children; each is added to `taken` when given.

    The hottest loop of ingest (every element of every document passes here once): elements only, filtered by
    lxml itself, and the counter starts at 1 so a first child costs one lookup."""
    counts: dict[str, int] = {}
    out: list[tuple[str, Element, str]] = []
    for child in element.iterchildren(etree.Element):
        tag: str = child.tag  # type: ignore[assignment]  # an element's tag (never a comment's or an entity's)
        name = tag if tag[0] != "{" else tag.rsplit("}", 1)[-1]
        n = counts.get(name, 1)
        counts[name] = n + 1
        out.append((name, child, f"{base}/{name}[{n}]"))
    if taken is not None:
        taken.update([entry[1] for entry in out])
    return out


class _Walker:
    """Handlers for the element kinds shared by reports and fileDetails.

    Handlers take children through `kids`, attributes through `attr`/`attrs`, and keep what they do not know
    through `unknown`; all three remember what was taken. `sweep` then keeps the rest, so an attribute or
    element a handler forgets is never lost. Elements are remembered by identity (lxml hands back the same
    proxy while it is alive) and paths are built only for what is kept, which keeps the sweep cheap.
    """

    def __init__(self, b: Builder):
        self.b = b
        self.taken: set[Element] = set()  # elements some handler took
        self.containers: set[Element] = set()  # elements whose children were walked: their own text is not read
        self.kept: set[Element] = set()  # elements kept whole as unknown
        self.read: set[tuple[Element, str]] = set()  # attributes some handler read

    # -- what was taken, and keeping the rest ----------------------------------------------------------
    def kids(self, element: Element, path: str) -> list[tuple[str, Element, str]]:
        """The children, each marked as taken: every handler loop reads a child or keeps it as unknown."""
        self.containers.add(element)
        return _children(element, path, self.taken)

    def attr(self, element: Element, name: str) -> str | None:
        """An attribute the reference defines for this element."""
        self.read.add((element, name))
        return element.get(name)

    def attrs(self, element: Element) -> dict[str, str]:
        """Every attribute, for handlers that store them all verbatim."""
        out = {str(k): str(v) for k, v in element.attrib.items()}
        self.read.update((element, k) for k in out)
        return out

    def unknown(self, element: Element, path: str) -> None:
        """An element the reference does not name here: kept whole, verbatim, with its path."""
        self.kept.add(element)
        self.b.unknown(path, _raw(element))

    def root(self, element: Element) -> None:
        """The document element: taken, and its standard schema location is envelope, not data."""
        self.taken.add(element)
        if (element.get(SCHEMA_LOCATION[0]) or "").strip() == SCHEMA_LOCATION[1]:
            self.read.add((element, SCHEMA_LOCATION[0]))

    def sweep(self, top: Element, path: str) -> None:
        """Keep what no handler took in `top`'s subtree: elements, attributes, and text beside elements.

        One pass in document order; the common element (taken, no attributes, blank tail) costs a few lookups.
        """
        taken, kept, containers = self.taken, self.kept, self.containers
        skip: set[Element] = set()
        stray: dict[Element, list[str]] = {}
        for element in top.iter(etree.Element):
            if skip and element in skip:
                continue
            tail = element.tail
            if tail and not tail.isspace() and element is not top:
                stray.setdefault(element.getparent(), []).append(tail)  # type: ignore[arg-type]
            if element not in taken or element in kept:
                if element not in kept:
                    self.b.unknown(_path_of(element, top, path), _raw(element))
                skip.update(element.iterdescendants())
                continue
            if element.keys():
                self.sweep_attributes(element, top, path)
            if element in containers:
                text = element.text
                if text and not text.isspace():
                    stray.setdefault(element, []).insert(0, text)
        for owner, pieces in stray.items():
            self.stray_text(_path_of(owner, top, path), pieces)

    def sweep_attributes(self, element: Element, top: Element, top_path: str) -> None:
        for key, value in element.items():
            if (element, key) not in self.read:
                path = f"{_path_of(element, top, top_path)}/@{_attr_name(element, str(key))}"
                self.b.unknown(path, str(value), "unknown_attribute")

    def stray_text(self, path: str, pieces: Sequence[str | None]) -> None:
        """Text beside child elements (mixed content) or inside an element read only for its children."""
        text = " ".join(p.strip() for p in pieces if p and p.strip())
        if text:
            self.b.unknown(f"{path}/text()", text, "unknown_text")

    def forget(self) -> None:
        """Drop what was remembered (a streamed document frees each top-level element after its sweep)."""
        self.taken.clear()
        self.containers.clear()
        self.kept.clear()
        self.read.clear()

    # -- common types ---------------------------------------------------------------------------------
    def ip_event(
        self, element: Element, path: str, account: int | None = None, file: int | None = None, origin: str = "field"
    ) -> None:
        fields: dict[str, Element] = {}
        for name, child, cpath in self.kids(element, path):
            if name in {"ipAddress", "eventName", "dateTime", "possibleProxy", "port"} and name not in fields:
                fields[name] = child
            else:
                self.unknown(child, cpath)

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
        for name, child, cpath in self.kids(element, path):
            if name in {"idType", "idValue", "eventName", "dateTime"} and name not in fields:
                fields[name] = _text(child)
            else:
                self.unknown(child, cpath)
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
        kind = self.attr(element, "type")
        if kind is not None:
            out["type"] = self.b.enum(kind, enums.ADDRESS_TYPES, f"{path}/@type")
        for name, child, cpath in self.kids(element, path):
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
                self.unknown(child, cpath)
        return out

    def contact(self, element: Element, path: str) -> dict[str, Any]:
        """A person or contactPerson held as a plain record (reporter and law-enforcement contacts)."""
        out: dict[str, Any] = {}
        for name, child, cpath in self.kids(element, path):
            if name in {"phone", "email"}:
                out.setdefault(f"{name}s", []).append({"value": _text(child), **self.attrs(child)})
            elif name == "address":
                out.setdefault("addresses", []).append(self.address(child, cpath))
            elif len(child):
                self.unknown(child, cpath)
            else:
                out[name] = _text(child)
        return out

    def person_field(self, name: str, child: Element, cpath: str, account: int, details: dict[str, Any]) -> bool:
        """Handle a person-type child on an account; False if `name` is not one."""
        acc = self.b.accounts[account]
        if name == "phone":
            attrs = self.attrs(child)
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
            attrs = self.attrs(child)
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

    def top_root(self, root: Element) -> None:
        """The `<report>` element itself, seen from its first child (the document may be streamed)."""
        self.root(root)
        self.sweep_attributes(root, root, "report")
        self.stray_text("report", [root.text])

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
            self.containers.add(element)  # an empty element: any text in it is kept by the sweep
            reason = self.attr(element, "reason")
            r.batched_reason = self.b.enum(reason, enums.BATCHED_REASONS, f"{path}/@reason")
        elif name == "additionalInfo":
            r.additional_info = _text(element)
            self.b.free_text(r.additional_info, path)
        else:
            self.unknown(element, path)

    def incident_summary(self, element: Element, path: str) -> None:
        r = self.report
        present: set[str] = set()
        for name, child, cpath in self.kids(element, path):
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
                for flag, flag_el, fpath in self.kids(child, cpath):
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
                self.unknown(child, cpath)
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
        kids = self.kids(element, path)
        if len(kids) != 1:
            self.b.issue("schema_cardinality", path, str(len(kids)), "exactly one incident element")
        for name, child, cpath in kids:
            if name not in enums.INCIDENT_KINDS:
                self.unknown(child, cpath)
                continue
            self.incident(name, child, cpath)

    def incident(self, kind: str, element: Element, path: str) -> None:
        data: dict[str, Any] = dict(self.attrs(element))
        chat_client: str | None = None
        for name, child, cpath in self.kids(element, path):
            value = _text(child)
            if name == "url":
                data.setdefault("urls", []).append(value)
                self.b.observe("url", value, cpath, origin="incident")
            elif name == "emailAddress":
                data.setdefault("emailAddresses", []).append({"value": value, **self.attrs(child)})
                self.b.observe("email", value, cpath, origin="incident")
            elif name == "phoneNumber":
                attrs = self.attrs(child)
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
                self.unknown(child, cpath)
        self.report.incidents.append(Incident(len(self.report.incidents), kind, data))

    def reporter(self, element: Element, path: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, child, cpath in self.kids(element, path):
            if name in {"reportingPerson", "contactPerson"}:
                out[name] = self.contact(child, cpath)
            elif name in {"companyTemplate", "termsOfService", "legalURL"}:
                out[name] = _text(child)
            else:
                self.unknown(child, cpath)
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
        """The XSD puts @fleaCountry on servedLegalProcessInternational; clients also put it on lawEnforcement
        (ncmec-cybertip) or a sibling. Those are read too, as a fallback, and also kept as unknown attributes."""
        out: dict[str, Any] = {}
        if element.get("fleaCountry"):
            out["fleaCountry"] = element.get("fleaCountry")
        for name, child, cpath in self.kids(element, path):
            if name == "officerContact":
                out[name] = self.contact(child, cpath)
            elif name in {"reportedToLe", "servedLegalProcessDomestic", "servedLegalProcessInternational"}:
                out[name] = self.b.boolean(_text(child), cpath)
                if name == "servedLegalProcessInternational":
                    flea = self.attr(child, "fleaCountry")
                else:
                    flea = child.get("fleaCountry")
                if flea:
                    out["fleaCountry"] = flea
            elif name in {"agencyName", "caseNumber"}:
                out[name] = _text(child)
            else:
                self.unknown(child, cpath)
        return out

    def account(self, element: Element, role: str, path: str, parent: int | None = None) -> None:
        acc = self.b.new_account(role, path, parent)
        ordinal = acc.ordinal
        details = acc.details
        if role == "associated":
            self.associated_attributes(element, path, details)
        scope_override: str | None = None
        for name, child, cpath in self.kids(element, path):
            value = _text(child)
            if name in PERSON_ELEMENTS:
                for pname, pchild, ppath in self.kids(child, cpath):
                    if not self.person_field(pname, pchild, ppath, ordinal, details):
                        self.unknown(pchild, ppath)
            elif self.person_field(name, child, cpath, ordinal, details):
                pass
            elif name == "platform":
                details["platform"] = value
                third_party = self.attr(child, "thirdPartyUser")
                if third_party is not None:
                    details["thirdPartyUser"] = self.b.boolean(third_party, f"{cpath}/@thirdPartyUser")
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
                details[name] = {"value": self.b.boolean(value, cpath), **self.attrs(child)}
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
                self.unknown(child, cpath)

    def associated_attributes(self, element: Element, path: str, details: dict[str, Any]) -> None:
        """@type (XSD). ncmec-cybertip writes @accountType and @thirdPartyUser here instead (reference §8):
        read as a fallback, and kept as unknown attributes too since the XSD does not name them."""
        kind = self.attr(element, "type")
        kind_path = f"{path}/@type"
        if kind is None and element.get("accountType") is not None:
            kind, kind_path = element.get("accountType"), f"{path}/@accountType"
        details["type"] = self.b.enum(kind, enums.ASSOCIATED_ACCOUNT_TYPES, kind_path)
        if element.get("thirdPartyUser") is not None:  # <platform thirdPartyUser> overrides it, if present
            details["thirdPartyUser"] = self.b.boolean(element.get("thirdPartyUser"), f"{path}/@thirdPartyUser")

    def estimated_location(self, element: Element, path: str, account: int) -> None:
        location = EstimatedLocation(
            account=account,
            verified=self.b.boolean(self.attr(element, "verified"), f"{path}/@verified"),
            observed_at=self.b.timestamp(self.attr(element, "timestamp"), f"{path}/@timestamp", element.sourceline),
        )
        for name, child, cpath in self.kids(element, path):
            if name == "city":
                location.city = _text(child)
            elif name == "region":
                location.region = _text(child)
            elif name == "countryCode":
                location.country_code = _text(child)
            else:
                self.unknown(child, cpath)
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
    first = True
    for element in iter_top_level(data, source, limits, "report"):
        if not isinstance(element.tag, str):
            continue
        parent = element.getparent()
        if first and parent is not None:
            walker.top_root(parent)
        first = False
        name = local_name(element.tag)
        path = paths(name)
        walker.taken.add(element)
        walker.top(name, element, path)
        # swept now: a streamed document frees each top-level element once the loop moves on
        walker.sweep(element, path)
        walker.stray_text("report", [element.tail])
        walker.forget()
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


# The quick look reads the one <reportId> and <fileId> of a small, plain document (no DOCTYPE, and no comment, CDATA
# section or processing instruction after the prolog, where a decoy could stand) and takes them only where their
# bytes are the text the full parse gives: digits; printable ASCII with no markup (`<`, `&`, `>`), between XML's own
# white space. A NUL, a control character, an entity or a byte of another encoding sends the document to the full
# parse, which refuses what XML refuses; read as it stood, a NUL reached PostgreSQL in the quarantine's key.
_FIRST_REPORT_ID = re.compile(rb"<reportId>([^<]*)</reportId>")
_FIRST_FILE_ID = re.compile(rb"<fileId>([^<]*)</fileId>")
_REPORT_ID_TEXT = re.compile(rb"[ \t\r\n]*(\d{1,19})[ \t\r\n]*")
_FILE_ID_TEXT = re.compile(rb"[ \t\r\n]*([\x21-\x25\x27-\x3b\x3d\x3f-\x7e]{1,512})[ \t\r\n]*")


def _quick_keys(data: bytes) -> tuple[bytes, bytes] | None:
    """The reportId's and fileId's bytes where a plain look can be trusted to give what the parse gives, or None: a
    document of at most 64 KiB with one of each (the parse takes the root's children; a second one, nested or not,
    could be the one it takes)."""
    if len(data) > 65536:
        return None
    root_at, doctype = prolog_end(data)  # past the byte-order mark, declaration, comments and instructions before it
    head = data[root_at:]
    if doctype is not None or b"<!" in head or b"<?" in head:
        return None
    if head.count(b"<reportId") != 1 or head.count(b"<fileId") != 1:
        return None
    report, file = _FIRST_REPORT_ID.search(head), _FIRST_FILE_ID.search(head)
    report_text = _REPORT_ID_TEXT.fullmatch(report.group(1)) if report else None
    file_text = _FILE_ID_TEXT.fullmatch(file.group(1)) if file else None
    if report_text is None or file_text is None:
        return None
    return report_text.group(1), file_text.group(1)


def peek_file_details(data: bytes, *, source: str, limits: XmlLimits) -> tuple[int, str]:
    """The (reportId, fileId) of a fileDetails document, enough to group it with its report.

    A quick look first; the full, hardened parse happens when the report lands (and rejects the document
    alone if it is bad). Anything the quick look cannot read gets the full parse now, for a precise error.
    """
    keys = _quick_keys(data) if len(data) <= limits.max_document_bytes else None
    if keys is not None:
        try:
            return parse_report_id(keys[0].decode("ascii")), keys[1].decode("ascii")
        except BadReportId:
            pass  # the full parse names the element and the line
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
    try:
        report_id = parse_report_id(report_raw)
    except BadReportId as exc:
        raise _reject(
            source, exc.reason, f"reportId: {exc}", "fileDetails/reportId", root.sourceline, ID_EXPECTED
        ) from exc
    if not file_id:
        raise _reject(
            source,
            "missing_element",
            "fileDetails has no fileId",
            "fileDetails/fileId",
            root.sourceline,
            "one <fileId>",
        )
    return report_id, file_id


def _reject(source: str, reason: str, message: str, element: str, line: int | None, expected: str) -> Exception:
    from tipfusion.errors import DocumentRejected

    return DocumentRejected(source, reason, message, element=element, line=line, expected=expected)


class _FileWalker(_Walker):
    """The children of one `<fileDetails>`, into one FileRecord."""

    def __init__(self, b: Builder, record: FileRecord):
        super().__init__(b)
        self.record = record

    def child(self, name: str, child: Element, cpath: str) -> None:
        record, b, value = self.record, self.b, _text(child)
        if name in {"reportId", "fileId"}:
            return  # read by _file_keys
        if name == "fileName":
            record.file_name = value
        elif name == "originalFileName":
            record.original_file_name = value
        elif name == "uploadedToEspTimestamp":
            record.uploaded_at_raw = value
            record.uploaded_at = b.timestamp(value, cpath, child.sourceline)
        elif name == "locationOfFile":
            record.location_of_file = value
        elif name in FILE_BOOLEANS:
            setattr(record, FILE_BOOLEANS[name], b.boolean(value, cpath))
        elif name == "fileRelevance":
            record.relevance = b.enum(value, enums.FILE_RELEVANCE, cpath, width=enums.FILE_RELEVANCE_WIDTH)
        elif name == "fileAnnotations":
            self.annotations(child, cpath)
        elif name == "industryClassification":
            record.industry_classification = b.enum(
                value, enums.INDUSTRY_CLASSIFICATIONS, cpath, width=enums.INDUSTRY_CLASSIFICATION_WIDTH
            )
        elif name == "originalFileHash":
            self.original_hash(child, cpath, value)
        elif name == "ipCaptureEvent":
            self.ip_event(child, cpath, file=0)
        elif name == "deviceId":
            self.device(child, cpath, file=0)
        elif name == "details":
            self.details(child, cpath)
        elif name == "additionalInfo":
            record.details.setdefault("additionalInfo", []).append(value)
            b.free_text(value, cpath, file=0)
        else:
            self.unknown(child, cpath)

    def annotations(self, element: Element, path: str) -> None:
        for flag, flag_el, fpath in self.kids(element, path):
            if flag not in enums.FILE_ANNOTATIONS:
                self.b.issue("unknown_enum", fpath, flag, "a fileAnnotations flag")
            if _text(flag_el) not in (None, "true", "1"):
                self.b.issue("unknown_enum", fpath, _text(flag_el), "an empty flag element or 'true'")
            self.record.annotations.append(flag)

    def original_hash(self, element: Element, path: str, value: str | None) -> None:
        hash_type = self.attr(element, "hashType")
        if not hash_type:
            raise self.b.reject(
                "missing_element",
                "originalFileHash without hashType",
                element=f"{path}/@hashType",
                expected="a hashType attribute (MD5, SHA1, …)",
                line=element.sourceline,
            )
        obs = self.b.observe(
            "file_hash", value, path, context=Context(hash_type=hash_type), file=0, attrs={"hashType": hash_type}
        )
        if obs is not None:
            self.record.hashes[normalise_hash_type(hash_type) or hash_type] = obs.value.split(":", 1)[1]

    def details(self, element: Element, path: str) -> None:
        raw_type = self.attr(element, "type")
        detail_type = self.b.enum(raw_type, enums.DETAILS_TYPES, f"{path}/@type") if raw_type else None
        pairs = []
        for pname, pair, ppath in self.kids(element, path):
            if pname != "nameValuePair":
                self.unknown(pair, ppath)
                continue
            fields: dict[str, str | None] = {}
            for fname, field_el, fpath in self.kids(pair, ppath):
                if fname in {"name", "value"} and fname not in fields:
                    fields[fname] = _text(field_el)
                else:
                    self.unknown(field_el, fpath)
            pairs.append(fields)
            if detail_type == "HASH" and fields.get("name") and fields.get("value"):
                self.pair_hash(fields["name"] or "", fields["value"], f"{ppath}/value")
        self.record.details.setdefault("details", []).append({"type": detail_type, "pairs": pairs})

    def pair_hash(self, hash_type: str, value: str | None, path: str) -> None:
        obs = self.b.observe(
            "file_hash", value, path, context=Context(hash_type=hash_type), file=0, attrs={"hashType": hash_type}
        )
        if obs is not None:
            self.record.hashes[normalise_hash_type(hash_type) or ""] = obs.value.split(":", 1)[1]


def parse_file_details(
    data: bytes, *, source: str, phone_region: str, limits: XmlLimits, sha256: str | None = None
) -> ParsedFileDetails:
    root = parse_tree(data, source, limits)
    report_id, file_id = _file_keys(root, source)
    sha = sha256 or hashlib.sha256(data).hexdigest()
    b = Builder(source, phone_region, report_id=report_id, xs_datetime=True)
    record = FileRecord(ordinal=0, path="fileDetails", source_sha256=sha, file_id=file_id)
    walker = _FileWalker(b, record)
    walker.root(root)
    for name, child, cpath in walker.kids(root, "fileDetails"):
        walker.child(name, child, cpath)
    walker.sweep(root, "fileDetails")
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
        # prefixed like the observations: a report may have several fileDetails, and a path must say which one
        report.issues.extend(replace(issue, path=f"{item.source_name}:{issue.path}") for issue in item.issues)
        report.extras.extend({**extra, "path": f"{item.source_name}:{extra['path']}"} for extra in item.extras)
        report.parts.append(
            SourcePart("file_details", item.source_sha256, item.source_sha256, item.source_name, item.file_id)
        )
