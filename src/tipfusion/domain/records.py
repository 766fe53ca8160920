"""Records produced by ingest and consumed by later stages.

Ordinals (`account`, `file`) refer to positions within one report version, so a parser can build a
whole report without a database and the store can write it in bulk without fetching generated keys.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

# Issue codes that mean "something the reference does not name was received and kept": the ingest summary and
# each report version count them as unknown fields.
UNKNOWN_ISSUES = frozenset({"unknown_element", "unknown_attribute", "unknown_text", "unknown_key", "unknown_enum"})


@dataclass(slots=True)
class Issue:
    """Something noticed while parsing that did not stop the report landing (unknown enum, missing zone…)."""

    code: str
    path: str
    value: str | None = None
    expected: str | None = None


@dataclass(slots=True)
class SourcePart:
    """One piece of source that a report version was built from.

    part_sha256 identifies the content of the part (the document for XML; the report object for JSON),
    source_sha256 the stored file it is read from, pointer where inside it (JSON index, fileId).
    """

    role: str  # report | file_details | json_report
    part_sha256: str
    source_sha256: str
    source_name: str
    pointer: str | None = None


@dataclass(slots=True)
class Observation:
    kind: str
    value: str
    canonical: str
    raw: str
    path: str
    valid: bool = True
    detail: str | None = None
    flags: tuple[str, ...] = ()
    account: int | None = None
    file: int | None = None
    event_name: str | None = None
    observed_at: datetime | None = None
    observed_at_raw: str | None = None
    port: int | None = None
    possible_proxy: bool | None = None
    verified: bool | None = None
    origin: str = "field"  # field | free_text | incident
    attrs: dict[str, str] | None = None
    role: str = "incident"  # whose identifier this is: one of PARTY_ROLES


# Whose an identifier is, carried from ingest to every output. Only the reported side (the reported person and
# the accounts the ESP associated with them, and the files they uploaded) describes a suspect; the others are
# other people (recipients, victims) or the incident itself, shown apart and never as the suspect's.
PARTY_ROLES = ("reported", "associated", "recipient", "victim", "reporter", "esp", "incident")
SUSPECT_ROLES = frozenset({"reported", "associated"})
# The same rule for raw SQL reads over identifier_observations aliased `o`.
SUSPECT_SIDE_SQL = "o.role IN ('reported', 'associated')"
PARTY_LABELS = {
    "reported": "reported person",
    "associated": "associated account (of the reported person)",
    "recipient": "intended recipient",
    "victim": "victim",
    "reporter": "reporter",
    "esp": "reporting ESP",
    "incident": "incident (not attributed to a person)",
}


def party_role(role: str, parent_role: str | None) -> str:
    """The party an account speaks for: an associated account belongs to whoever it is associated with."""
    if role != "associated":
        return role
    return "associated" if parent_role in (None, "reported") else parent_role


@dataclass(slots=True)
class Account:
    ordinal: int
    role: str  # reported | recipient | victim | associated
    path: str
    parent: int | None = None
    esp_identifier: str | None = None
    esp_service: str | None = None
    screen_name: str | None = None
    display_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    age: int | None = None
    date_of_birth: date | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class EstimatedLocation:
    account: int
    city: str | None = None
    region: str | None = None
    country_code: str | None = None
    verified: bool | None = None
    observed_at: datetime | None = None


@dataclass(slots=True)
class FileRecord:
    ordinal: int
    path: str
    source_sha256: str | None = None
    file_id: str | None = None
    file_name: str | None = None
    original_file_name: str | None = None
    uploaded_at: datetime | None = None
    uploaded_at_raw: str | None = None
    location_of_file: str | None = None
    viewed_by_esp: bool | None = None
    exif_viewed_by_esp: bool | None = None
    publicly_available: bool | None = None
    relevance: str | None = None
    potential_meme: bool | None = None
    annotations: list[str] = field(default_factory=list)
    industry_classification: str | None = None
    hashes: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Incident:
    ordinal: int
    kind: str
    data: dict[str, Any]


@dataclass(slots=True)
class ParsedReport:
    report_id: int
    format: str  # esp_xml | ncmec_json
    parts: list[SourcePart] = field(default_factory=list)
    esp_name: str | None = None
    esp_scope: str = "unknown-esp"
    incident_type: str | None = None
    incident_type_known: bool = True
    platform: str | None = None
    escalation_text: str | None = None
    annotations: list[tuple[str, bool]] = field(default_factory=list)
    incident_at: datetime | None = None
    incident_at_raw: str | None = None
    incident_at_description: str | None = None
    date_received: datetime | None = None
    batched_reason: str | None = None
    ncmec_priority: str | None = None
    additional_info: str | None = None
    law_enforcement: dict[str, Any] | None = None
    reporter: dict[str, Any] | None = None
    incidents: list[Incident] = field(default_factory=list)
    accounts: list[Account] = field(default_factory=list)
    locations: list[EstimatedLocation] = field(default_factory=list)
    files: list[FileRecord] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    extras: list[dict[str, str]] = field(default_factory=list)  # {"path", "raw"}: what no field holds, verbatim
    issues: list[Issue] = field(default_factory=list)

    @property
    def content_hash(self) -> str:
        return composition_hash(self.parts)


def composition_hash(parts: list[SourcePart]) -> str:
    """The identity of a report version: the set of its parts' content hashes (order-free)."""
    digest = hashlib.sha256()
    for role, sha in sorted((p.role, p.part_sha256) for p in parts):
        digest.update(f"{role}:{sha}\n".encode())
    return digest.hexdigest()


@dataclass(slots=True)
class LeadItem:
    lead_ref: str
    kind: str
    value: str
    canonical: str
    raw: str
    line: int
    valid: bool = True
    detail: str | None = None
    agency: str | None = None
    country: str | None = None
    received_at: datetime | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Sighting:
    """One current, valid IP sighting of the reported person's side, with the ISP its address belongs to (what a
    notice to an ISP asks about: IP, source port and the exact second, in UTC)."""

    report_id: int
    suspect_id: str | None
    ip: str
    port: int | None
    observed_at: datetime | None
    event_name: str | None
    isp: str | None
    network_type: str | None
    log_timezone: str | None
    identifiable: bool | None
    note: str | None
