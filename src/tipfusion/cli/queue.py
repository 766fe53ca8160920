"""`tipfusion queue show | pin | lower`: the work queue."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Column, Table

from tipfusion.cli.context import AppContext, console, safe, show, whole, wrapping

queue_app = typer.Typer(no_args_is_help=True, help="The work queue: what comes first, and why.")


def print_queue(rows: list[dict[str, object]], level: str, routing: dict[str, str] | None = None) -> None:
    columns: list[Column | str] = ["pinned", whole(level), "score", *(["routing"] if routing is not None else [])]
    table = Table(*columns, wrapping("why (largest contributions)"), title=f"Work queue: {level}s")
    for row in rows:
        factors = sorted((f for f in row["factors"] if f[1]), key=lambda f: -abs(f[1]))  # type: ignore[attr-defined]
        why = "; ".join(f"{name} {points:+g} ({detail})" for name, points, detail in factors[:4])
        place = [routing.get(str(row["id"]), "unrouted")] if routing is not None else []
        table.add_row("📌" if row["pinned"] else "", safe(row["id"]), f"{row['score']:g}", *map(safe, place), safe(why))
    show(table)


@queue_app.command("show")
def queue_show(
    ctx: typer.Context,
    level: Annotated[str, typer.Option(help="report, suspect or network")] = "suspect",
    limit: Annotated[int, typer.Option(help="How many")] = 25,
) -> None:
    """The queue, most urgent first (pinned items on top), each score with its factors."""
    from tipfusion.audit import UnitOfWork
    from tipfusion.route.placement import placements
    from tipfusion.triage.service import queue

    app: AppContext = ctx.obj
    with UnitOfWork(app.ready_engine(), app.actor) as uow:
        rows = queue(uow.conn, level, limit)
        routing = placements(uow.conn, level, [str(r["id"]) for r in rows])
        uow.record("view.queue", "queue", level, {"limit": limit})
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


def register(app: typer.Typer) -> None:
    app.add_typer(queue_app, name="queue")
