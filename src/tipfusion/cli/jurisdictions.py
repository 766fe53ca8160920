"""`tipfusion jurisdictions import | demo | list`: police-station boundaries (`export routing` is in cli/exports)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from tipfusion.cli.context import AppContext, console, safe, show

if TYPE_CHECKING:
    pass

jurisdictions_app = typer.Typer(no_args_is_help=True, help="Police-station boundaries and their districts.")


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
    folder = app.output(out, "--out")
    engine = app.ready_engine()  # the account is checked before the demo layer is written
    layer, pins = demo_jurisdiction(folder)
    count, _ = import_jurisdiction(engine, app.actor, layer, synthetic=True)
    console.print(
        f"[bold yellow]SYNTHETIC[/] demo jurisdiction: {count} stations from {safe(layer)}; PIN list {safe(pins)} "
        f"(use it with tipfusion route --pins {safe(pins)})",
        soft_wrap=True,
    )


@jurisdictions_app.command("list")
def jurisdictions_list(ctx: typer.Context) -> None:
    """Stations per district."""
    from tipfusion.route.service import stations_per_district

    app: AppContext = ctx.obj
    districts, synthetic = stations_per_district(app.ready_engine())
    table = Table("district", "stations", title="Jurisdiction" + (" (SYNTHETIC)" if synthetic else ""))
    for district, count in districts.items():
        table.add_row(safe(district), str(count))
    show(table)


def register(app: typer.Typer) -> None:
    app.add_typer(jurisdictions_app, name="jurisdictions")
