"""`tipfusion jurisdictions import | demo | list`: police-station boundaries and their districts."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from tipfusion.cli.context import AppContext, console, show

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
    console.print(f"{count} stations imported from {path}")
    for problem in problems:
        console.print(f"[red]skipped[/] {problem}", soft_wrap=True)


@jurisdictions_app.command("demo")
def jurisdictions_demo(
    ctx: typer.Context, out: Annotated[Path, typer.Option("--out")] = Path("demo-jurisdiction")
) -> None:
    """Install the SYNTHETIC demo jurisdiction (a fictional city: 6 districts, 30 stations) and its PIN list."""
    from tipfusion.route.jurisdictions import demo_jurisdiction
    from tipfusion.route.service import import_jurisdiction

    app: AppContext = ctx.obj
    layer, pins = demo_jurisdiction(out)
    count, _ = import_jurisdiction(app.ready_engine(), app.actor, layer, synthetic=True)
    console.print(
        f"[bold yellow]SYNTHETIC[/] demo jurisdiction: {count} stations from {layer}; PIN list {pins} "
        f"(use it with tipfusion route --pins {pins})"
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
        table.add_row(district, str(count))
    show(table)


def register(app: typer.Typer) -> None:
    app.add_typer(jurisdictions_app, name="jurisdictions")
