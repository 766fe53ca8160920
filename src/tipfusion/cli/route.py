"""`tipfusion route [override]`: which station (or district) owns each suspect."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from tipfusion.cli.context import AppContext, console, progress, safe, show

if TYPE_CHECKING:
    from tipfusion.route.service import RoutingSummary


route_app = typer.Typer(invoke_without_command=True, help="Decide which station (or district) owns each suspect.")


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
    app.add_typer(route_app, name="route")
