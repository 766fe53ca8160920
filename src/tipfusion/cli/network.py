"""`tipfusion network show`: a network and why it hangs together."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from tipfusion.cli.context import AppContext, console, safe, show, whole, wrapping

network_app = typer.Typer(no_args_is_help=True, help="Networks found by linking.")


@network_app.command("show")
def network_show(ctx: typer.Context, network_id: Annotated[str, typer.Argument(help="e.g. N200000123")]) -> None:
    """What a network is and why it hangs together (old names are followed to the current one)."""
    from tipfusion.audit import UnitOfWork
    from tipfusion.workplace.views import network_page

    app: AppContext = ctx.obj
    engine = app.ready_engine()
    page = network_page(engine, app.principal, network_id)
    with UnitOfWork(engine, app.actor) as uow:
        uow.record("view.network", "network", page.network_id, {})
    app.banner()
    if page.network_id != network_id:
        console.print(f"{safe(network_id)} is now part of {safe(page.network_id)}", soft_wrap=True)
    print_network(page.network_id, page.summary, page.suspects, page.reports)
    print_members(list(page.members))
    table = Table(whole("suspect"), whole("suspect"), "score", wrapping("evidence"), title="Strongest links")
    for link in page.strongest_links:
        table.add_row(
            safe(link["a"]),
            safe(link["b"]),
            f"{link['score']:g}",
            safe("; ".join(f"{k} {v}" for k, v, _ in link["evidence"][:4])),
        )
    show(table)


def print_members(members: list[dict[str, Any]]) -> None:
    table = Table("suspect", "reports", "score", "routing", title="Members")
    for m in members:
        score = "-" if m["score"] is None else f"{m['score']:g}"
        table.add_row(safe(m["suspect_id"]), str(m["reports"]), score, safe(m["routing"]))
    console.print(table)


def print_network(network_id: str, summary: dict[str, Any], suspect_count: int, report_count: int) -> None:
    console.print(
        f"[bold]{safe(network_id)}[/]: {suspect_count} suspects, {report_count} reports, "
        f"{safe(summary.get('first_incident', '')[:10])} … {safe(summary.get('last_incident', '')[:10])}",
        soft_wrap=True,
    )
    console.print(f"  held together by: {_fmt(summary.get('links_by_kind'))}", soft_wrap=True)
    console.print(
        "  key shared values: "
        + safe("; ".join(f"{v['kind']} {v['value']}" for v in summary.get("key_shared_values", [])[:5])),
        soft_wrap=True,
    )
    console.print(f"  ESPs: {_fmt(summary.get('esps'))}   ISPs: {_fmt(summary.get('isps'))}", soft_wrap=True)
    console.print(f"  places (IP estimates, not evidence): {_fmt(summary.get('places_estimated'))}", soft_wrap=True)


def _fmt(mapping: dict[str, Any] | None) -> str:
    return safe(", ".join(f"{k} ({v})" for k, v in (mapping or {}).items()) or "-")


def register(app: typer.Typer) -> None:
    app.add_typer(network_app, name="network")
