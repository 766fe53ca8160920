"""The supervisor's pages: the force dashboard (every district and station, zeros included, district subtotals, a
chart drawn on the server), its export to PDF and Excel, and the map of referrals, FIRs and arrests per station.

The map's base layer is the unit's own station polygons, served here as GeoJSON (no tile server: the app works
offline); Leaflet draws it when JavaScript runs, and the same figures are a table beside it when it does not. District
and station officers see the same pages for their own jurisdiction (the services scope every figure).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from markupsafe import Markup

from tipfusion.accounts.principal import Role
from tipfusion.track.operations import list_operations
from tipfusion.web.deps import CurrentPrincipal, Engine
from tipfusion.web.render import NavItem, audit_view, page
from tipfusion.workplace import force_dashboard
from tipfusion.workplace.supervision import TOTAL_LABELS, chart_svg, export_dashboard, station_map

router = APIRouter(include_in_schema=False)
WATCHERS = frozenset({Role.SUPERVISOR, Role.DISTRICT, Role.ANALYST, Role.ADMIN})
NAV = [
    # the supervisor's own pages come first (the start page is the first entry); the others find them after theirs
    NavItem("Dashboard", "/dashboard", frozenset({Role.SUPERVISOR}), order=8),
    NavItem("Map", "/map", frozenset({Role.SUPERVISOR}), order=9),
    NavItem("Dashboard", "/dashboard", WATCHERS - {Role.SUPERVISOR}, order=30),
    NavItem("Map", "/map", WATCHERS - {Role.SUPERVISOR}, order=31),
]
Operation = Annotated[str, Query(max_length=120)]


def _operations(engine: Any, wanted: str) -> tuple[list[str], str | None]:
    names = [str(o["name"]) for o in list_operations(engine)]
    return names, (wanted if wanted in names else None)


@router.get("/dashboard")
def dashboard(request: Request, principal: CurrentPrincipal, engine: Engine, operation: Operation = "") -> Response:
    operations, chosen = _operations(engine, operation)
    shown = force_dashboard(engine, request.app.state.settings, principal, operation=chosen)
    audit_view(engine, principal, "list", "dashboard", {"operation": chosen})
    return page(
        request,
        "supervisor/dashboard.html",
        principal,
        dashboard=shown,
        labels=TOTAL_LABELS,
        chart=Markup(chart_svg(shown)),  # drawn by the service, every name escaped there
        operations=operations,
        operation=chosen or "",
    )


@router.get("/dashboard/export.{fmt}")
def dashboard_export(
    request: Request, fmt: str, principal: CurrentPrincipal, engine: Engine, operation: Operation = ""
) -> Response:
    if fmt not in ("pdf", "xlsx"):
        return page(request, "error.html", principal, status_code=404, title="Not found", message="no such export")
    _, chosen = _operations(engine, operation)
    made = export_dashboard(engine, request.app.state.settings, principal, fmt, operation=chosen)
    return Response(
        made.content,
        media_type=made.media_type,
        headers={"Content-Disposition": f'attachment; filename="{made.filename}"'},
    )


@router.get("/map")
def station_map_page(
    request: Request, principal: CurrentPrincipal, engine: Engine, operation: Operation = ""
) -> Response:
    operations, chosen = _operations(engine, operation)
    shown = station_map(engine, request.app.state.settings, principal, operation=chosen)
    audit_view(engine, principal, "list", "station map", {"operation": chosen})
    query = f"?operation={chosen}" if chosen else ""
    return page(
        request,
        "supervisor/map.html",
        principal,
        shown=shown,
        labels=TOTAL_LABELS,
        geojson_url=f"/map/stations.geojson{query}",
        operations=operations,
        operation=chosen or "",
    )


@router.get("/map/stations.geojson")
def station_geojson(
    request: Request, principal: CurrentPrincipal, engine: Engine, operation: Operation = ""
) -> Response:
    """The stations in scope as GeoJSON with their figures: the map's only layer."""
    _, chosen = _operations(engine, operation)
    shown = station_map(engine, request.app.state.settings, principal, operation=chosen)
    audit_view(engine, principal, "list", "station map", {"operation": chosen, "format": "geojson"})
    return JSONResponse(shown.geojson, media_type="application/geo+json")
