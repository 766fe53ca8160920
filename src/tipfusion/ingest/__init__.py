"""Ingest: the front door every tip comes through (ESP XML, police JSON, leads CSV; files, dirs, zips)."""

from tipfusion.ingest.service import IngestService, IngestSummary

__all__ = ["IngestService", "IngestSummary"]
