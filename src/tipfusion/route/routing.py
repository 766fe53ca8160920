"""Which station owns a suspect — decided from evidence, strongest first, and never guessed from weak evidence.

Ranks: an ISP/telecom subscriber address (geocoded) > an address in the report (given to the ESP, unverified) >
a landline's area > the ESP's estimated location > an IP city estimate. Only a located address routes to a
station; weaker evidence routes at most to a district, and no evidence leaves the suspect in the central queue
("needs subscriber details"). Disagreeing addresses never pick a station silently.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from tipfusion.route.jurisdictions import Jurisdiction

POINT_KINDS = {"isp_answer": ("high", 1), "report_address": ("medium", 2)}
PLACE_KINDS = ["landline_area", "esp_location", "ip_city"]
CENTRAL = "central: needs subscriber details"


@dataclass(frozen=True)
class Evidence:
    kind: str  # isp_answer | report_address | landline_area | esp_location | ip_city
    detail: str
    point: tuple[float, float] | None = None  # (lon, lat)
    place: str | None = None
    hint_only: bool = False  # a PIN centroid: it may name the district, never the station


@dataclass
class Decision:
    district: str | None
    station: str | None
    basis: str
    confidence: str
    notes: list[str] = field(default_factory=list)
    evidence: list[dict[str, object]] = field(default_factory=list)
    decided_by: list[str] = field(default_factory=list)  # the evidence it went by (e.g. the address), as shown


def decide(evidence: list[Evidence], jurisdiction: Jurisdiction) -> Decision:
    shown: list[dict[str, object]] = [
        {"kind": e.kind, "detail": e.detail, "point": e.point, "place": e.place} for e in evidence
    ]
    notes: list[str] = []
    for kind in sorted(POINT_KINDS, key=lambda k: POINT_KINDS[k][1]):
        located = []
        used: list[str] = []
        for item in (e for e in evidence if e.kind == kind and e.point is not None and not e.hint_only):
            assert item.point is not None
            found = jurisdiction.locate(*item.point)
            if found is None:
                notes.append(f"{kind} outside the jurisdiction: {item.detail}")
            else:
                located.append(found)
                if item.detail not in used:
                    used.append(item.detail)
                if found.on_border:
                    notes.append(f"{kind} on the border of {found.station.station_id} and {', '.join(found.others)}")
        if not located:
            continue
        stations = {loc.station.station_id for loc in located}
        districts = {loc.station.district for loc in located}
        confidence = POINT_KINDS[kind][0]
        if len(stations) == 1:
            if any(loc.on_border for loc in located):
                confidence = "medium" if confidence == "high" else "low"
            station = located[0].station
            return Decision(station.district, station.station_id, kind, confidence, notes, shown, used)
        if len(districts) == 1:
            notes.append(f"{kind}: addresses in several stations ({', '.join(sorted(stations))})")
            return Decision(districts.pop(), None, kind, "low", notes, shown, used)
        notes.append(f"{kind}: addresses in several districts ({', '.join(sorted(districts))})")
        return Decision(None, None, "central: conflicting addresses", "none", notes, shown)
    outside = any(e.point is not None and not e.hint_only for e in evidence)  # addresses given, none inside
    hinted = Counter(
        found.station.district
        for e in evidence
        if e.hint_only and e.point is not None
        for found in [jurisdiction.locate(*e.point)]
        if found is not None
    )
    if len(hinted) == 1:
        district = next(iter(hinted))
        notes.append("PIN centroid only: the district is a hint, the station needs the full address")
        used = list(dict.fromkeys(e.detail for e in evidence if e.hint_only and e.point is not None))
        return Decision(district, None, "pin_hint", "low", notes, shown, used)
    for kind in PLACE_KINDS:
        voters = [(e, d) for e in evidence if e.kind == kind for d in [jurisdiction.district_named(e.place)] if d]
        votes_for = Counter(d for _, d in voters)
        if votes_for:
            (district, votes), *rest = votes_for.most_common()
            if rest and rest[0][1] == votes:
                notes.append(f"{kind}: points equally at {district} and {rest[0][0]}")
                continue
            used = list(dict.fromkeys(e.detail for e, d in voters if d == district))  # one line per report
            return Decision(district, None, kind, "low", notes, shown, used)
    return Decision(None, None, "central: outside the jurisdiction" if outside else CENTRAL, "none", notes, shown)
