"""An ESP's `<fileDetails>` document: details of one file of a report, sent apart from it and in any order."""

from __future__ import annotations

from typing import Any

from tipfusion.config import XmlLimits
from tipfusion.errors import DocumentRejected
from tipfusion.ingest import esp_xml
from tipfusion.ingest.registry import LIKELY, NO, Format, ParseContext, Piece, xml_root
from tipfusion.ingest.sources import LoadedDocument

ORDER = 41


def sniff(_name: str, data: bytes) -> float:
    return LIKELY if xml_root(data) == "fileDetails" else NO


def split(document: LoadedDocument, limits: XmlLimits) -> list[Piece | DocumentRejected]:
    """One piece, keyed by the report it belongs to and the file it describes (a quick look; the full parse is
    when its report lands)."""
    report_id, file_id = esp_xml.peek_file_details(document.data, source=document.name, limits=limits)
    return [Piece(report_id, document.name, key=file_id)]


def parse(payload: Any, context: ParseContext) -> esp_xml.ParsedFileDetails:
    return esp_xml.parse_file_details(
        payload,
        source=context.source,
        phone_region=context.phone_region,
        limits=context.limits,
        sha256=context.source_sha256,
    )


FORMAT = Format(
    "esp_file_details", "file_details", "an ESP XML <fileDetails>", sniff, split, parse, part_role="file_details"
)
