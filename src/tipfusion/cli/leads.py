"""`tipfusion leads hits`: lead lists from other agencies, cross-matched."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tipfusion.cli.context import AppContext, console, safe, show, whole

leads_app = typer.Typer(no_args_is_help=True, help="Lead lists from other agencies, cross-matched.")


LEAD_FIELDS = ["lead_ref", "agency", "kind", "value", "report_id", "found_at", "suspect_id", "network_id"]


@leads_app.command("hits")
def leads_hits(
    ctx: typer.Context,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write CSV/JSON here")] = None,
    fmt: Annotated[str, typer.Option("--format")] = "csv",
) -> None:
    """Every lead identifier found in a report, with the suspect and network it belongs to."""
    from tipfusion.audit import UnitOfWork
    from tipfusion.enrich.export import write_rows
    from tipfusion.triage.service import lead_hits

    app: AppContext = ctx.obj
    if output:
        app.output(output)
    with UnitOfWork(app.ready_engine(), app.actor) as uow:
        rows = lead_hits(uow.conn)
        uow.record("view.lead_hits", "leads", "all", {"rows": len(rows)})
    app.banner()
    if output:
        write_rows(rows, LEAD_FIELDS, fmt, output)
        console.print(f"{len(rows):,} lead hits → {safe(output)}", soft_wrap=True)
        return
    table = Table(whole("lead"), "kind", whole("value"), whole("report"), whole("suspect"), whole("network"))
    for row in rows[:50]:
        table.add_row(
            safe(row["lead_ref"]),
            safe(row["kind"]),
            safe(row["value"]),
            safe(row["report_id"]),
            safe(row["suspect_id"]),
            safe(row["network_id"]),
        )
    show(table)
    console.print(f"{len(rows):,} hit(s)")


def register(app: typer.Typer) -> None:
    app.add_typer(leads_app, name="leads")
