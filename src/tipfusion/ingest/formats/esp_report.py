"""An ESP's CyberTipline XML report (`<report>`), named `<reportId>.xml`: one document, one report."""

from __future__ import annotations

from typing import Any

from tipfusion.config import XmlLimits
from tipfusion.domain import ParsedReport
from tipfusion.errors import DocumentRejected
from tipfusion.ingest import esp_xml
from tipfusion.ingest.ids import EXPECTED as ID_EXPECTED
from tipfusion.ingest.ids import BadReportId, parse_report_id
from tipfusion.ingest.registry import LIKELY, NO, Format, ParseContext, Piece, base_name, xml_root
from tipfusion.ingest.sources import LoadedDocument

ORDER = 40


def sniff(_name: str, data: bytes) -> float:
    return LIKELY if xml_root(data) == "report" else NO


def report_id_from_name(name: str) -> int:
    """ESP XML reports are named `<reportId>.xml`; BadReportId when the name does not hold a usable number."""
    base = base_name(name)
    return parse_report_id(base.rsplit(".", 1)[0] if "." in base else base)


def split(document: LoadedDocument, _limits: XmlLimits) -> list[Piece | DocumentRejected]:
    """The whole document is the report; its bytes are read again when it lands (not held between passes)."""
    try:
        report_id = report_id_from_name(document.name)
    except BadReportId as exc:
        raise DocumentRejected(
            document.name,
            exc.reason,
            f"cannot tell the report number from the file name: {exc}",
            element="report",
            expected=f"a file named <reportId>.xml, e.g. 100000042.xml ({ID_EXPECTED})",
        ) from exc
    return [Piece(report_id, document.name)]


def parse(payload: Any, context: ParseContext) -> ParsedReport:
    assert context.report_id is not None
    return esp_xml.parse_report(
        payload,
        source=context.source,
        report_id=context.report_id,
        phone_region=context.phone_region,
        limits=context.limits,
        sha256=context.source_sha256,
    )


FORMAT = Format("esp_report", "report", "an ESP XML <report>", sniff, split, parse, part_role="report")
