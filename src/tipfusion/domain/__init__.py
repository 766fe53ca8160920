"""Plain typed records passed between pipeline stages (never ORM objects)."""

from tipfusion.domain.records import (
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
