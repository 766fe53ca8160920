"""The JSON export police receive from NCMEC: one report object or a list of them, each landing alone."""

from __future__ import annotations

from typing import Any

from tipfusion.config import XmlLimits
from tipfusion.domain import ParsedReport
from tipfusion.errors import DocumentRejected
from tipfusion.ingest import police_json
from tipfusion.ingest.registry import LIKELY, NO, Format, ParseContext, Piece
from tipfusion.ingest.sources import LoadedDocument

ORDER = 50


def sniff(_name: str, data: bytes) -> float:
    return LIKELY if data[:64].lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"{", b"[")) else NO


def split(document: LoadedDocument, limits: XmlLimits) -> list[Piece | DocumentRejected]:
    """Each report object is a piece; one with a bad reportId is rejected in its place, the others still land."""
    pieces: list[Piece | DocumentRejected] = []
    for unit in police_json.split_units(document.data, document.name, limits):
        try:
            report_id = police_json.report_id_of(unit, document.name)
        except DocumentRejected as exc:
            pieces.append(exc)
            continue
        name = f"{document.name}#{unit.index}"
        pieces.append(Piece(report_id, name, str(unit.index), unit.part_sha256, unit))
    return pieces


def parse(payload: Any, context: ParseContext) -> ParsedReport:
    return police_json.parse_report(
        payload, source=context.source, source_sha256=context.source_sha256, phone_region=context.phone_region
    )


FORMAT = Format("ncmec_json", "report", "NCMEC's police JSON export", sniff, split, parse, part_role="json_report")
