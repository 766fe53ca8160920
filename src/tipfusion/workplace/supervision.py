"""What a supervisor (and a district or station officer, for their own jurisdiction) follows beyond single cases:
the map of referrals, FIRs and arrests per station, the overdue list, and the force dashboard as a PDF or workbook.

Every figure here comes from `dashboard.force_dashboard` (one grouped count of the case records), so the map, the
table, the chart and the exported files cannot disagree with each other or with the cases. Scope is the dashboard's
(a district officer sees their district, a station officer their station); exports are written to the audit log.
"""

from __future__ import annotations

import html
import tempfile
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from tipfusion.accounts.principal import Principal, Role
from tipfusion.audit import UnitOfWork
from tipfusion.config import Settings
from tipfusion.errors import InputRefused
from tipfusion.store import repository as repo
from tipfusion.store.tables import police_stations
from tipfusion.track.service import OverdueItem, overdue
from tipfusion.workplace.dashboard import CaseTotals, ForceDashboard, StationLine, force_dashboard
from tipfusion.workplace.scope import READING_ROLES, require_roles, scope_filter

MAP_FIGURES = ("referrals", "firs", "arrests")
"""What the map shades and labels per station (the table beside it shows every figure)."""

TOTAL_LABELS = {
    "referrals": "Referrals",
    "acknowledged": "Acknowledged",
    "firs": "FIRs",
    "arrests": "Arrests",
    "devices": "Devices seized",
    "chargesheets": "Chargesheets",
    "closed": "Closed",
    "overdue": "Overdue",
}
"""The dashboard's columns, in `CaseTotals` order, as every rendering heads them."""


@dataclass(frozen=True, slots=True)
class StationMap:
    """The stations in scope as a GeoJSON FeatureCollection (WGS 84) with their totals as properties, and the same
    figures as table lines for the page without JavaScript."""

    geojson: dict[str, Any]
    lines: tuple[StationLine, ...]  # every station in scope (zeros too), by district then station
    unmapped: tuple[StationLine, ...]  # figures with no polygon: cases placed with a district only, or central
    bounds: tuple[float, float, float, float] | None  # west, south, east, north; None without polygons
    at: datetime


def _bounds(geometries: list[dict[str, Any]]) -> tuple[float, float, float, float] | None:
    xs: list[float] = []
    ys: list[float] = []

    def walk(coordinates: Any) -> None:
        if coordinates and isinstance(coordinates[0], int | float):
            xs.append(float(coordinates[0]))
            ys.append(float(coordinates[1]))
            return
        for item in coordinates:
            walk(item)

    for geometry in geometries:
        walk(geometry.get("coordinates", []))
    return (min(xs), min(ys), max(xs), max(ys)) if xs else None


def station_map(
    engine: Engine, settings: Settings, principal: Principal, at: datetime | None = None, operation: str | None = None
) -> StationMap:
    """Referrals, FIRs and arrests (and the other totals) per station polygon in the principal's scope."""
    dashboard = force_dashboard(engine, settings, principal, at, operation)
    with engine.connect() as conn:
        polygons = {
            str(station): (str(district), geometry)
            for station, district, geometry in conn.execute(
                select(police_stations.c.station_id, police_stations.c.district, police_stations.c.geometry)
                .where(scope_filter(principal, police_stations, "station_id"))
                .order_by(police_stations.c.district, police_stations.c.station_id)
            )
        }
    features: list[dict[str, Any]] = []
    lines: list[StationLine] = []
    unmapped: list[StationLine] = []
    for block in dashboard.districts:
        for line in block.stations:
            lines.append(line)
            place = polygons.get(line.station or "")
            if place is None:
                unmapped.append(line)
                continue
            properties: dict[str, Any] = {"station": line.station, "district": line.district}
            properties.update(asdict(line.totals))
            features.append({"type": "Feature", "geometry": place[1], "properties": properties})
    collection = {"type": "FeatureCollection", "features": features}
    return StationMap(
        collection, tuple(lines), tuple(unmapped), _bounds([f["geometry"] for f in features]), dashboard.at
    )


def overdue_list(
    engine: Engine, settings: Settings, principal: Principal, at: datetime | None = None
) -> tuple[OverdueItem, ...]:
    """`tipfusion cases overdue` for one principal: acknowledgements, FIRs and ISP answers past due in their scope
    (the central unit's own lines, placed "central", only for central roles)."""
    with engine.connect() as conn:
        require_roles(conn, principal, READING_ROLES, "overdue list")
    items = overdue(engine, settings, at)
    if principal.is_central:
        return tuple(items)
    if principal.role is Role.DISTRICT:
        return tuple(i for i in items if i.district == principal.district)
    return tuple(i for i in items if i.station == principal.station)


def chart_svg(dashboard: ForceDashboard, width: int = 900, row: int = 30) -> str:
    """Referrals, FIRs and arrests per district (or per station when the scope is one district or station) as
    horizontal bars in one SVG: drawn by the server, so the page and the PDF need no chart library."""
    if len(dashboard.districts) > 1:
        items = [(b.district or "Central unit", b.subtotal) for b in dashboard.districts]
    else:
        items = [
            (line.station or f"{line.district or 'Central'} (no station)", line.totals)
            for b in dashboard.districts
            for line in b.stations
        ]
    series = [("referrals", "#4a6fa5"), ("firs", "#d08c2c"), ("arrests", "#b03030")]
    top = max([1] + [getattr(t, key) for _, t in items for key, _ in series])
    label_width, right = 190, 40
    plot = width - label_width - right
    bar = (row - 6) / len(series)
    height = 30 + row * max(1, len(items))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" font-size="13" font-family="sans-serif">',
        "<title>Referrals, FIRs and arrests</title>",
    ]
    for j, (key, colour) in enumerate(series):
        parts.append(
            f'<rect x="{label_width + j * 110}" y="4" width="10" height="10" fill="{colour}"/>'
            f'<text x="{label_width + 14 + j * 110}" y="13">{TOTAL_LABELS[key]}</text>'
        )
    for i, (name, totals) in enumerate(items):
        y0 = 24 + i * row
        parts.append(
            f'<text x="{label_width - 6}" y="{y0 + row / 2 + 2:.1f}" text-anchor="end">{html.escape(name)}</text>'
        )
        for j, (key, colour) in enumerate(series):
            value = getattr(totals, key)
            length = plot * value / top
            y = y0 + 3 + j * bar
            parts.append(
                f'<rect x="{label_width}" y="{y:.1f}" width="{length:.1f}" height="{bar - 1:.1f}" fill="{colour}">'
                f"<title>{html.escape(name)}: {value} {TOTAL_LABELS[key].lower()}</title></rect>"
            )
            parts.append(
                f'<text x="{label_width + length + 3:.1f}" y="{y + bar - 2:.1f}" font-size="10">{value}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True, slots=True)
class Export:
    """A file made for download: its suggested name, media type and bytes."""

    filename: str
    media_type: str
    content: bytes


EXPORT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def _table_rows(dashboard: ForceDashboard) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for block in dashboard.districts:
        district = block.district or "Central unit"
        for line in block.stations:
            station = line.station or ("(district, no station)" if line.district else "Central unit")
            rows.append([district, station, *_figures(line.totals)])
        rows.append([district, "Subtotal", *_figures(block.subtotal)])
    rows.append(["All", "Total", *_figures(dashboard.total)])
    return rows


def _figures(totals: CaseTotals) -> list[int]:
    return [getattr(totals, key) for key in TOTAL_LABELS]


def export_dashboard(
    engine: Engine,
    settings: Settings,
    principal: Principal,
    fmt: str,
    at: datetime | None = None,
    operation: str | None = None,
) -> Export:
    """The force dashboard (as the principal may see it) as an Excel workbook or a PDF with its chart; audited as
    `dashboard.exported`. Written with the project's document writers (`documents.sheets`, `documents.blocks`)."""
    if fmt not in EXPORT_TYPES:
        raise InputRefused(f"format {fmt!r}: expected one of {', '.join(EXPORT_TYPES)}", "format")
    dashboard = force_dashboard(engine, settings, principal, at, operation)
    with engine.connect() as conn:
        synthetic = repo.get_flag(conn, "synthetic") == "true"
    zone = settings.profile.zone
    stamp = dashboard.at.astimezone(zone)
    scope = _scope_words(principal) + (f", operation {operation}" if operation else "")
    title = f"Force dashboard — {scope}"
    when = f"{stamp:%Y-%m-%d %H:%M} {stamp.tzname()}"
    headers = ["District", "Station", *TOTAL_LABELS.values()]
    rows = _table_rows(dashboard)
    with tempfile.TemporaryDirectory(prefix="tipfusion-export-") as folder:
        path = Path(folder) / f"dashboard.{fmt}"
        if fmt == "xlsx":
            _write_xlsx(path, title, when, headers, rows, settings, synthetic)
        else:
            _write_pdf(path, title, when, headers, rows, dashboard, settings, synthetic)
        content = path.read_bytes()
    with UnitOfWork(engine, principal.username) as uow:
        details = {"format": fmt, "scope": scope, "bytes": len(content), "at": dashboard.at.isoformat()}
        uow.record("dashboard.exported", "dashboard", scope, details)
    name = f"dashboard-{stamp:%Y%m%d-%H%M}.{fmt}"
    return Export(name, EXPORT_TYPES[fmt], content)


def _scope_words(principal: Principal) -> str:
    if principal.role is Role.DISTRICT:
        return f"district {principal.district}"
    if principal.role is Role.STATION:
        return f"station {principal.station}"
    return "whole force"


def _write_xlsx(
    path: Path,
    title: str,
    when: str,
    headers: list[str],
    rows: list[list[Any]],
    settings: Settings,
    synthetic: bool,
) -> None:
    from openpyxl import Workbook

    from tipfusion.documents.blocks import SYNTHETIC_BANNER
    from tipfusion.documents.sheets import Column, about_sheet, banner, write_table

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Dashboard"
    write_table(sheet, [Column(f"c{i}", h) for i, h in enumerate(headers)], rows)
    warning = SYNTHETIC_BANNER if synthetic else ""
    if warning:
        banner(sheet, warning)
    about_sheet(
        book,
        title,
        [
            ("As of", when),
            ("From", settings.unit.name),
            ("Counted from", "the case records: one case per initial referral; arrests and devices are sums"),
            ("Rows", "every police station in scope (zeros included), a subtotal per district, the total"),
        ],
        warning,
    )
    book.save(path)


def _write_pdf(
    path: Path,
    title: str,
    when: str,
    headers: list[str],
    rows: list[list[Any]],
    dashboard: ForceDashboard,
    settings: Settings,
    synthetic: bool,
) -> None:
    from tipfusion.documents.blocks import DocumentSpec, Figure, Grid, Para, write_pdf

    spec = DocumentSpec(
        title,
        f"Dashboard {when}",
        [
            Para(
                f"As of {when}. {settings.unit.name}. Counted from the case records: every police station in scope "
                "is listed, zeros included, with a subtotal per district.",
                style="meta",
            ),
            Figure(chart_svg(dashboard), "Referrals, FIRs registered and arrests"),
            Grid(headers, [[str(v) for v in r] for r in rows]),
        ],
        synthetic,
        landscape=True,
    )
    templates = Path(settings.templates_dir) if settings.templates_dir else None
    write_pdf(spec, path, templates)


def scope_stations(engine: Engine, principal: Principal) -> tuple[tuple[str, str], ...]:
    """(district, station) of every station in the principal's scope: the choices of a transfer form, a filter."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(police_stations.c.district, police_stations.c.station_id)
            .where(scope_filter(principal, police_stations, "station_id"))
            .order_by(police_stations.c.district, police_stations.c.station_id)
        ).all()
    return tuple((str(d), str(s)) for d, s in rows)


def all_stations(engine: Engine) -> tuple[tuple[str, str], ...]:
    """(district, station) of every station in the layer: where a transfer may go (names, not case data)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(police_stations.c.district, police_stations.c.station_id).order_by(
                police_stations.c.district, police_stations.c.station_id
            )
        ).all()
    return tuple((str(d), str(s)) for d, s in rows)
