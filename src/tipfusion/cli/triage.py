"""`tipfusion triage`, `tipfusion queue …`, `tipfusion leads hits`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Column, Table

from tipfusion.cli.context import AppContext, console, progress, safe, show, whole, wrapping

queue_app = typer.Typer(no_args_is_help=True, help="The work queue: what comes first, and why.")
leads_app = typer.Typer(no_args_is_help=True, help="Lead lists from other agencies, cross-matched.")
LEAD_FIELDS = ["lead_ref", "agency", "kind", "value", "report_id", "found_at", "suspect_id", "network_id"]


def print_queue(rows: list[dict[str, object]], level: str, routing: dict[str, str] | None = None) -> None:
    columns: list[Column | str] = ["pinned", whole(level), "score", *(["routing"] if routing is not None else [])]
    table = Table(*columns, wrapping("why (largest contributions)"), title=f"Work queue: {level}s")
    for row in rows:
        factors = sorted((f for f in row["factors"] if f[1]), key=lambda f: -abs(f[1]))  # type: ignore[attr-defined]
        why = "; ".join(f"{name} {points:+g} ({detail})" for name, points, detail in factors[:4])
        place = [routing.get(str(row["id"]), "unrouted")] if routing is not None else []
        table.add_row("📌" if row["pinned"] else "", safe(row["id"]), f"{row['score']:g}", *map(safe, place), safe(why))
    show(table)


def triage(ctx: typer.Context) -> None:
    """Score every report, suspect and network from explicit factors; keep pins and lowerings."""
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


@queue_app.command("show")
def queue_show(
    ctx: typer.Context,
    level: Annotated[str, typer.Option(help="report, suspect or network")] = "suspect",
    limit: Annotated[int, typer.Option(help="How many")] = 25,
) -> None:
    """The queue, most urgent first (pinned items on top), each score with its factors."""
    from tipfusion.audit import AuditEvent, append
    from tipfusion.route.placement import placements
    from tipfusion.triage.service import queue

    app: AppContext = ctx.obj
    with app.ready_engine().begin() as conn:
        rows = queue(conn, level, limit)
        routing = placements(conn, level, [str(r["id"]) for r in rows])
        append(conn, app.actor, [AuditEvent("view.queue", "queue", level, {"limit": limit})])
    app.banner()
    print_queue(rows, level, routing)


@queue_app.command("pin")
def queue_pin(
    ctx: typer.Context,
    level: Annotated[str, typer.Argument(help="report, suspect or network")],
    object_id: Annotated[str, typer.Argument(help="e.g. S200000042")],
    reason: Annotated[str, typer.Option("--reason")],
) -> None:
    """Pin an item to the top of the queue (with a reason; audited)."""
    from tipfusion.triage.service import adjust

    app: AppContext = ctx.obj
    number = adjust(app.ready_engine(), app.actor, level, object_id, "pin", reason)
    console.print(
        f"adjustment {number}: {safe(level)} {safe(object_id)} pinned from the next `tipfusion triage`", soft_wrap=True
    )


@queue_app.command("lower")
def queue_lower(
    ctx: typer.Context,
    level: Annotated[str, typer.Argument(help="report, suspect or network")],
    object_id: Annotated[str, typer.Argument()],
    points: Annotated[float, typer.Option(help="Points to take off")],
    reason: Annotated[str, typer.Option("--reason")],
) -> None:
    """Lower an item's priority by some points (with a reason; audited)."""
    from tipfusion.triage.service import adjust

    app: AppContext = ctx.obj
    number = adjust(app.ready_engine(), app.actor, level, object_id, "lower", reason, points)
    console.print(
        f"adjustment {number}: {safe(level)} {safe(object_id)} lowered by {points:g} from the next `tipfusion triage`",
        soft_wrap=True,
    )


@leads_app.command("hits")
def leads_hits(
    ctx: typer.Context,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write CSV/JSON here")] = None,
    fmt: Annotated[str, typer.Option("--format")] = "csv",
) -> None:
    """Every lead identifier found in a report, with the suspect and network it belongs to."""
    from tipfusion.audit import AuditEvent, append
    from tipfusion.enrich.export import write_rows
    from tipfusion.triage.service import lead_hits

    app: AppContext = ctx.obj
    if output:
        app.output(output)
    with app.ready_engine().begin() as conn:
        rows = lead_hits(conn)
        append(conn, app.actor, [AuditEvent("view.lead_hits", "leads", "all", {"rows": len(rows)})])
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
    app.command("triage")(triage)
    app.add_typer(queue_app, name="queue")
    app.add_typer(leads_app, name="leads")
