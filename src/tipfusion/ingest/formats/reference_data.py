"""Reference files (an .mmdb, an ISP table, a warninglist, boundaries, a PIN list): not tips. Ingest names them as
skipped; they are loaded by `enrich` and `jurisdictions import`."""

from __future__ import annotations

from tipfusion.ingest.registry import CERTAIN, NO, Format, base_name

ORDER = 30
MAXMIND_MARKER = b"\xab\xcd\xefMaxMind.com"
REFERENCE_HEADERS = ({"name", "asn", "prefix"}, {"prefix", "category"}, {"pin", "latitude", "longitude"})
REFERENCE_SUFFIXES = (".mmdb", ".geojson", ".gpkg", ".shp", ".shx", ".dbf", ".prj", ".cpg")


def sniff(name: str, data: bytes) -> float:
    base = base_name(name).lower()
    if base.endswith(REFERENCE_SUFFIXES) or MAXMIND_MARKER in data[-131072:]:
        return CERTAIN
    if base.endswith(".csv"):
        header = data[:2048].decode("utf-8-sig", "replace").splitlines()[:1]
        columns = {c.strip().lower() for c in header[0].split(",")} if header else set()
        if any(needed <= columns for needed in REFERENCE_HEADERS):
            return CERTAIN
    return NO


FORMAT = Format(
    "reference_data", "reference", "reference data for enrich and jurisdictions (not tips)", sniff, surest=CERTAIN
)
