"""Plain typed records passed between pipeline stages (never ORM objects)."""

from tipfusion.domain.records import (
    UNKNOWN_ISSUES,
    Account,
    EstimatedLocation,
    FileRecord,
    Incident,
    Issue,
    LeadItem,
    Observation,
    ParsedReport,
    SourcePart,
)

__all__ = [
    "UNKNOWN_ISSUES",
    "Account",
    "EstimatedLocation",
    "FileRecord",
    "Incident",
    "Issue",
    "LeadItem",
    "Observation",
    "ParsedReport",
    "SourcePart",
]
