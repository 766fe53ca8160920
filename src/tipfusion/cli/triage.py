"""`tipfusion triage`: score every report, suspect and network."""

from __future__ import annotations

import typer

from tipfusion.cli.context import AppContext, console, progress


def triage(ctx: typer.Context) -> None:
    """Score every report, suspect and network from explicit factors; keep pins and lowerings."""
    from tipfusion.cli.queue import print_queue
    from tipfusion.triage.service import TriageService

    app: AppContext = ctx.obj
    engine = app.ready_engine()
    with progress("triage") as update:
        update("scoring reports, suspects and networks", 0, None)
        summary = TriageService(engine, app.actor, app.settings.tuning().triage).run()
    app.banner()
    console.print(
        f"scored {summary.reports:,} reports, {summary.suspects:,} suspects, {summary.networks:,} networks; "
        f"{summary.adjustments} analyst adjustment(s); {summary.lead_hits} suspect(s) named in leads"
    )
    print_queue(summary.top, "suspect")


def register(app: typer.Typer) -> None:
    app.command("triage")(triage)
