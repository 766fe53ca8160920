"""A lead list (CSV of identifiers from another source): stored as leads, not reports; it lands whole or not at all."""

from __future__ import annotations

from typing import Any

from tipfusion.domain import LeadItem
from tipfusion.ingest import leads_csv
from tipfusion.ingest.registry import LIKELY, NO, Format, ParseContext

ORDER = 60


def sniff(_name: str, data: bytes) -> float:
    return LIKELY if leads_csv.looks_like_leads(data) else NO


def parse(payload: Any, context: ParseContext) -> list[LeadItem]:
    return leads_csv.parse_leads(payload, source=context.source, phone_region=context.phone_region)


FORMAT = Format("leads_csv", "leads", "a CSV lead list (lead_ref, kind, value)", sniff, parse=parse)
