"""`tipfusion jurisdictions import | demo | list`, `tipfusion route [override]` (`export routing` is in cli/exports)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from tipfusion.cli.context import AppContext, console, progress, safe, show

if TYPE_CHECKING:
    from tipfusion.route.service import RoutingSummary

jurisdictions_app = typer.Typer(no_args_is_help=True, help="Police-station boundaries and their districts.")
route_app = typer.Typer(invoke_without_command=True, help="Decide which station (or district) owns each suspect.")


@jurisdictions_app.command("import")
def jurisdictions_import(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="GeoJSON, GeoPackage (.gpkg) or shapefile (.shp), any CRS", exists=True)],
    districts_table: Annotated[
        Path | None, typer.Option(help="CSV station,district (overrides the layer)", exists=True, dir_okay=False)
    ] = None,
    station_field: Annotated[str, typer.Option(help="Attribute holding the station name")] = "station",
    district_field: Annotated[str, typer.Option(help="Attribute holding the district")] = "district",
) -> None:
    """Replace the station layer (problems are listed; bad features are left out)."""
    from tipfusion.route.service import import_jurisdiction

    app: AppContext = ctx.obj
    count, problems = import_jurisdiction(
        app.ready_engine(), app.actor, path, districts_table, station_field, district_field
    )
    console.print(f"{count} stations imported from {safe(path)}", soft_wrap=True)
    for problem in problems:
        console.print(f"[red]skipped[/] {safe(problem)}", soft_wrap=True)


@jurisdictions_app.command("demo")
def jurisdictions_demo(
    ctx: typer.Context, out: Annotated[Path, typer.Option("--out")] = Path("demo-jurisdiction")
) -> None:
    """Install the SYNTHETIC demo jurisdiction (a fictional city: 6 districts, 30 stations) and its PIN list."""
    from tipfusion.route.jurisdictions import demo_jurisdiction
    from tipfusion.route.service import import_jurisdiction

    app: AppContext = ctx.obj
    layer, pins = demo_jurisdiction(app.output(out, "--out"))
    count, _ = import_jurisdiction(app.ready_engine(), app.actor, layer, synthetic=True)
    console.print(
        f"[bold yellow]SYNTHETIC[/] demo jurisdiction: {count} stations from {safe(layer)}; PIN list {safe(pins)} "
        f"(use it with tipfusion route --pins {safe(pins)})",
        soft_wrap=True,
    )


@jurisdictions_app.command("list")
def jurisdictions_list(ctx: typer.Context) -> None:
    """Stations per district."""
    from sqlalchemy import select

    from tipfusion.store.tables import police_stations

    app: AppContext = ctx.obj
    with app.ready_engine().connect() as conn:
        rows = conn.execute(
            select(police_stations.c.district, police_stations.c.station_id, police_stations.c.synthetic)
        ).all()
    districts = Counter(r.district for r in rows)
    table = Table(
        "district", "stations", title="Jurisdiction" + (" (SYNTHETIC)" if any(r.synthetic for r in rows) else "")
    )
    for district, count in sorted(districts.items()):
        table.add_row(safe(district), str(count))
    show(table)


def print_routing(summary: RoutingSummary) -> None:
    console.print(
        f"{summary.suspects:,} suspects: {summary.to_station:,} to a station, {summary.to_district:,} to a "
        f"district only, {summary.central:,} in the central queue (needs subscriber details); "
        f"{summary.networks_central} network(s) span districts and stay with the central unit; "
        f"{summary.overridden} override(s)"
    )
    if summary.by_station:
        table = Table("station", "suspects", title="Routed to stations")
        for station, count in sorted(summary.by_station.items(), key=lambda kv: (-kv[1], kv[0]))[:15]:
            table.add_row(safe(station), str(count))
        show(table)


@route_app.callback()
def route(
    ctx: typer.Context,
    pins: Annotated[
        Path | None,
        typer.Option(
            help="PIN gazetteer CSV (pin,locality,latitude,longitude)",
            envvar="TIPFUSION_PIN_GAZETTEER",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    landlines: Annotated[
        Path | None,
        typer.Option(
            help="Landline areas CSV (prefix,district), e.g. +9111234,North",
            envvar="TIPFUSION_LANDLINE_AREAS",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Route every suspect from its evidence (subcommand `override` to set one by hand)."""
    if ctx.invoked_subcommand is not None:
        return
    from tipfusion.route.service import route_all

    app: AppContext = ctx.obj
    engine = app.ready_engine()
    with progress("routing") as update:
        update("every suspect from its evidence", 0, None)
        summary = route_all(engine, app.actor, pins, landlines, app.settings.tuning().routing)
    app.banner()
    print_routing(summary)


@route_app.command("override")
def route_override(
    ctx: typer.Context,
    suspect_id: Annotated[str, typer.Argument()],
    reason: Annotated[str, typer.Option("--reason")],
    station: Annotated[str | None, typer.Option()] = None,
    district: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Send a suspect to a station or district by hand (with a reason; audited; kept on re-runs)."""
    from tipfusion.route.service import override_routing

    app: AppContext = ctx.obj
    number = override_routing(app.ready_engine(), app.actor, suspect_id, reason, district, station)
    console.print(
        f"override {number}: {safe(suspect_id)} → {safe(station or district)} from the next `tipfusion route`",
        soft_wrap=True,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(jurisdictions_app, name="jurisdictions")
    app.add_typer(route_app, name="route")
