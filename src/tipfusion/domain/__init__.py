"""Plain typed records passed between pipeline stages (never ORM objects)."""

from tipfusion.domain.quarantine import QuarantineEntry
from tipfusion.domain.records import (
    PARTY_LABELS,
    PARTY_ROLES,
    SUSPECT_ROLES,
    SUSPECT_SIDE_SQL,
    UNKNOWN_ISSUES,
    Account,
    EstimatedLocation,
    FileRecord,
    Incident,
    Issue,
    LeadItem,
    Observation,
    ParsedReport,
    Sighting,
    SourcePart,
    party_role,
)

__all__ = [
    "PARTY_LABELS",
    "PARTY_ROLES",
    "SUSPECT_ROLES",
    "SUSPECT_SIDE_SQL",
    "UNKNOWN_ISSUES",
    "Account",
    "EstimatedLocation",
    "FileRecord",
    "Incident",
    "Issue",
    "LeadItem",
    "Observation",
    "ParsedReport",
    "QuarantineEntry",
    "Sighting",
    "SourcePart",
    "party_role",
]
