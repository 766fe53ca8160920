"""The marker `tipfusion.synth` writes beside a synthetic batch (and its ground-truth table): the store is flagged
synthetic, so everything shown from it says so."""

from __future__ import annotations

from tipfusion.ingest.registry import CERTAIN, NO, Format, base_name

ORDER = 20
SYNTHETIC_MARKER = "SYNTHETIC-DATA.json"
TRUTH_HEADER = b"report_id,person_id"


def sniff(name: str, data: bytes) -> float:
    return CERTAIN if base_name(name) == SYNTHETIC_MARKER or data.startswith(TRUTH_HEADER) else NO


FORMAT = Format(
    "synthetic_marker",
    "marker",
    "the synthetic-data marker or ground truth of a generated batch",
    sniff,
    surest=CERTAIN,
)
