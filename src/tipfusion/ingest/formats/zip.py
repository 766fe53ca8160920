"""A `.zip` batch: kept whole as the evidence it arrived as; its members are read next, each as its own document."""

from __future__ import annotations

from tipfusion.ingest.registry import CERTAIN, NO, Format

ORDER = 10  # a zip of XML is a container before anything else


def sniff(_name: str, data: bytes) -> float:
    return CERTAIN if data[:4] in (b"PK\x03\x04", b"PK\x05\x06") else NO


FORMAT = Format("zip", "container", "a zip batch (its members are ingested one by one)", sniff, surest=CERTAIN)
