"""`tipfusion search VALUE`: every place a value is held (an audited view; queries in `search/`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from tipfusion.cli.context import AppContext, OutputFormat, console, few, present, safe

if TYPE_CHECKING:  # search and the audit log load sqlalchemy, numpy, the referral writers: only when a command runs
    from tipfusion.search import Reading, SearchResult


def search_command(
    ctx: typer.Context,
    value: Annotated[str, typer.Argument(help="Any identifier as written: +91 98…, an email, an IP, @name, a hash…")],
    kind: Annotated[
        str | None,
        typer.Option("--kind", help="Read the value only as this kind (email, phone, ip, username, hash, device, …)"),
    ] = None,
    fmt: Annotated[
        OutputFormat, typer.Option("--format", help="text for people, json for machines")
    ] = OutputFormat.text,
    limit: Annotated[int, typer.Option(min=1, help="Most rows of sightings to list")] = 2000,
) -> None:
    """Every report, suspect, network, lead and ISP answer holding a value, each with whose value it is there."""
    from tipfusion.audit import UnitOfWork
    from tipfusion.search import search

    app: AppContext = ctx.obj
    with UnitOfWork(app.ready_engine(), app.actor) as uow:
        result = search(uow.conn, value, kind, app.settings.profile.phone_region, limit)
        details = {"kind": kind, "readings": len(result.readings), "reports": len(result.reports)}
        uow.record("view.search", "identifier", value.strip()[:200], details)
    present(app, fmt, result.as_dict(), lambda _: _print_search(result))


def _print_search(result: SearchResult) -> None:
    console.print(f"[bold]{safe(result.query)}[/] read as: {_readings_text(result.readings)}", soft_wrap=True)
    if not result.found:
        console.print("not found in any current report, lead or ISP answer")
        return
    if result.reports:
        table = Table(
            "report", "whose value there", "kind", "value", "sightings", "suspect", "network", title="Reports"
        )
        by_report: dict[int, list[dict[str, Any]]] = {}
        for s in result.sightings:
            by_report.setdefault(s["report_id"], []).append(s)
        for report in result.reports:
            if report["itself"]:
                table.add_row(str(report["report_id"]), "the report itself", "report", "", "", *_ids(report))
            for s in by_report.get(report["report_id"], []):
                whose = s["whose"] if s["suspects_own"] else f"[yellow]{s['whose']}[/] (not the suspect's)"
                table.add_row(
                    str(s["report_id"]), whose, s["kind"], safe(str(s["value"])), str(s["sightings"]), *_ids(s)
                )
        console.print(table)
    _print_holders(result)
    if result.truncated:
        console.print("[yellow]more sightings than --limit: the list is cut; --format json or a larger --limit[/]")


def _readings_text(readings: list[Reading]) -> str:
    """The readings tried, one phrase per kind (an ESP user ID is tried under every ESP: one phrase, not ten)."""
    by_kind: dict[str, list[Reading]] = {}
    for reading in readings:
        by_kind.setdefault(reading.kind, []).append(reading)
    phrases = []
    for kind, items in by_kind.items():
        if len(items) == 1:
            r = items[0]
            phrases.append(
                f"{kind} {r.shown}" + ("" if r.valid else " (not valid)") + (f" ({r.note})" if r.note else "")
            )
        else:
            shown = ", ".join(r.shown for r in items[:3]) + (", …" if len(items) > 3 else "")
            phrases.append(f"{kind} in {len(items)} forms ({shown})")
    return safe("; ".join(phrases))


def _ids(row: dict[str, Any]) -> tuple[str, str]:
    return str(row.get("suspect_id") or "-"), str(row.get("network_id") or "-")


def _print_holders(result: SearchResult) -> None:
    if result.suspects:
        table = Table("suspect", "network", "whose value in its reports", "reports", title="Suspects")
        for s in result.suspects:
            whose = s["whose"] if s["suspects_own"] else f"[yellow]{s['whose']}[/] only: not the suspect's own"
            table.add_row(s["suspect_id"], str(s["network_id"] or "-"), whose, few(s["reports"]))
        console.print(table)
    if result.networks:
        console.print(
            "networks: " + safe("; ".join(f"{n['network_id']} ({', '.join(n['suspects'])})" for n in result.networks)),
            soft_wrap=True,
        )
    if result.leads:
        table = Table("lead", "agency", "kind", "value", "note", title="Leads from other agencies")
        for lead in result.leads:
            table.add_row(
                safe(str(lead["lead_ref"])),
                safe(str(lead["agency"] or "")),
                lead["kind"],
                safe(str(lead["value"])),
                safe(str(lead["note"] or "")),
            )
        console.print(table)
    if result.answers:
        table = Table("answer", "request", "ISP", "report", "matched", "subscriber", "suspect", title="ISP answers")
        for a in result.answers:
            table.add_row(
                str(a["id"]),
                safe(a["reference"]),
                safe(str(a["recipient"] or "")),
                str(a["report_id"]),
                safe(", ".join(a["matched"])),
                safe(str(a["subscriber_name"] or "")),
                str(a["suspect_id"] or "-"),
            )
        console.print(table)


def register(app: typer.Typer) -> None:
    app.command("search")(search_command)
