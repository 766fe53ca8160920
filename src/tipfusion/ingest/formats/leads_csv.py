"""A lead list (CSV of identifiers from another source): stored as leads, not reports; it lands whole or not at all."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tipfusion.domain import LeadItem
from tipfusion.ingest import leads_csv
from tipfusion.ingest.registry import LIKELY, NO, Format, ParseContext

ORDER = 60


def sniff(_name: str, data: bytes) -> float:
    return LIKELY if leads_csv.looks_like_leads(data) else NO


def parse(payload: Any, context: ParseContext) -> Iterator[LeadItem]:
    """The items one at a time (a large list is never held whole); the list's problems raise once all are read."""
    return leads_csv.iter_leads(
        payload, source=context.source, phone_region=context.phone_region, limits=context.limits
    )


FORMAT = Format("leads_csv", "leads", "a CSV lead list (lead_ref, kind, value)", sniff, parse=parse)
