"""Where routing placed a suspect, in one word — station, district or central — with one definition for every reader.

A suspect whose network spans districts stays with the central unit whatever its own routing says (its referral goes
there too, see `refer.service._destination`), so it counts as central here; its own decision is still shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, case, or_, select

from tipfusion.store.current import rows_in
from tipfusion.store.tables import report_links, routing_decisions

PLACEMENTS = ("station", "district", "central")
UNROUTED = "unrouted"

_rd = routing_decisions


def placement_of(station: str | None, district: str | None, network_central: bool) -> str:
    if network_central or not (station or district):
        return "central"
    return "station" if station else "district"


def placement_sql() -> ColumnElement[str]:
    """`placement_of` in SQL, over `routing_decisions`, for counting and filtering in the database."""
    return case(
        (or_(_rd.c.network_central.is_(True), and_(_rd.c.station.is_(None), _rd.c.district.is_(None))), "central"),
        (_rd.c.station.is_not(None), "station"),
        else_="district",
    )


def describe(row: Any) -> str:
    """A routing decision in words: `station PS-3 (District East)`, `district East`, `central: <why>`."""
    own = (
        f"station {row.station} ({row.district})"
        if row.station
        else (f"district {row.district}" if row.district else row.basis)
    )
    if row.network_central:
        return f"central: network spans districts (own routing: {own})"
    if not (row.station or row.district):
        return row.basis if str(row.basis).startswith("central") else f"central: {row.basis}"
    return own


def placements(conn: Connection, level: str, ids: Iterable[str]) -> dict[str, str]:
    """Routing in words for queue rows: a suspect's decision; a report's through its suspect; a network's placement
    when all its routed members agree (else `central`). Ids with no decision are `unrouted`."""
    wanted = sorted({str(i) for i in ids})
    if not wanted:
        return {}
    if level == "report":
        numbers = [int(i) for i in wanted if i.isdigit()]
        query = select(report_links.c.report_id.label("key"), _rd).join(
            _rd, _rd.c.suspect_id == report_links.c.suspect_id
        )
        rows = rows_in(conn, query, report_links.c.report_id, numbers)
    elif level == "network":
        rows = rows_in(conn, select(_rd.c.network_id.label("key"), _rd), _rd.c.network_id, wanted)
    else:
        rows = rows_in(conn, select(_rd.c.suspect_id.label("key"), _rd), _rd.c.suspect_id, wanted)
    found: dict[str, list[Any]] = {}
    for row in rows:
        found.setdefault(str(row.key), []).append(row)
    return {i: _group_place(found.get(i, [])) for i in wanted}


def _group_place(rows: list[Any]) -> str:
    """One decision in words; for a network's members, where a network referral would go (as `refer` decides)."""
    if len(rows) <= 1:
        return describe(rows[0]) if rows else UNROUTED
    if any(r.network_central for r in rows):
        return "central: network spans districts"
    stations = {(r.station, r.district) for r in rows}
    if len(stations) == 1 and rows[0].station:
        return f"station {rows[0].station} ({rows[0].district})"
    districts = {r.district for r in rows}
    if len(districts) == 1 and rows[0].district:
        return f"district {rows[0].district}"
    return "central: members without one district"
