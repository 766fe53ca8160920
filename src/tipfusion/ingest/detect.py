"""Which format is this document? Decided from its bytes, never trusted from its file name alone."""

from __future__ import annotations

from tipfusion.ingest.ids import parse_report_id
from tipfusion.ingest.leads_csv import looks_like_leads
from tipfusion.ingest.xmlsafe import sniff_root

SYNTHETIC_MARKER = "SYNTHETIC-DATA.json"
MAXMIND_MARKER = b"\xab\xcd\xefMaxMind.com"
REFERENCE_HEADERS = ({"name", "asn", "prefix"}, {"prefix", "category"}, {"pin", "latitude", "longitude"})
REFERENCE_SUFFIXES = (".mmdb", ".geojson", ".gpkg", ".shp", ".shx", ".dbf", ".prj", ".cpg")
TRUTH_HEADER = b"report_id,person_id"


def detect_format(name: str, data: bytes) -> str:
    """One of: zip, reference_data, esp_report, esp_file_details, xml_unknown, ncmec_json, leads_csv,
    synthetic_marker, unknown."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].rsplit("!", 1)[-1]
    if data[:4] == b"PK\x03\x04" or data[:4] == b"PK\x05\x06":
        return "zip"
    if base == SYNTHETIC_MARKER or data.startswith(TRUTH_HEADER):
        return "synthetic_marker"
    if _is_reference(base, data):
        return "reference_data"
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        root = sniff_root(data)
        if root == "report":
            return "esp_report"
        if root == "fileDetails":
            return "esp_file_details"
        return "xml_unknown"
    if head.startswith((b"{", b"[")):
        return "ncmec_json"
    if looks_like_leads(data):
        return "leads_csv"
    return "unknown"


def _is_reference(base: str, data: bytes) -> bool:
    """Reference files (an .mmdb, an ISP table, a warninglist, boundaries, a PIN list): not tips; they are loaded
    by `enrich` and `jurisdictions import`."""
    if base.lower().endswith(REFERENCE_SUFFIXES) or MAXMIND_MARKER in data[-131072:]:
        return True
    if base.lower().endswith(".csv"):
        header = data[:2048].decode("utf-8-sig", "replace").splitlines()[:1]
        columns = {c.strip().lower() for c in header[0].split(",")} if header else set()
        return any(needed <= columns for needed in REFERENCE_HEADERS)
    return False


def report_id_from_name(name: str) -> int:
    """ESP XML reports are named `<reportId>.xml`; BadReportId when the name does not hold a usable number."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].rsplit("!", 1)[-1]
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return parse_report_id(stem)
