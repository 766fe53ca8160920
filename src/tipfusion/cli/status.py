"""`tipfusion status`: what the store holds at every stage."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.table import Table

from tipfusion.cli.context import AppContext, console, safe, show

if TYPE_CHECKING:
    pass


def status(ctx: typer.Context) -> None:
    """What the store holds at every stage: reports to cases, routing by placement, ISP requests by state."""
    from tipfusion.storage import stage_counts, where

    app: AppContext = ctx.obj
    rows = stage_counts(app.ready_engine())
    app.record_view("status", {}, read_only_store_ok=True)  # counts only: a read-only copy may still be counted
    app.banner()
    console.print(f"store: {safe(where(app.settings.database_url))}", soft_wrap=True)
    table = Table("stage", "what", "count")
    for stage, what, value in rows:
        table.add_row(safe(stage), safe(what), f"{value:,}")
    show(table)


def register(app: typer.Typer) -> None:
    app.command("status")(status)
