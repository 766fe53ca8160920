"""`tipfusion requests build | list | sent`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tipfusion.cli.context import AppContext, console
from tipfusion.route.service import BuiltRequest, build_platform_requests, build_requests, list_requests, mark_sent

requests_app = typer.Typer(no_args_is_help=True, help="Requests to ISPs: letters, annexes, dates, overdue items.")


@requests_app.command("build")
def requests_build(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the letters and annexes")],
    isp_table: Annotated[
        Path | None, typer.Option(help="ISP table with nodal officers (default: TIPFUSION_ISP_TABLE)")
    ] = None,
    include_unidentifiable: Annotated[
        bool, typer.Option(help="Also ask CGNAT sightings that have no source port")
    ] = False,
    again: Annotated[bool, typer.Option(help="Ask again for sightings already in an earlier request")] = False,
    platforms: Annotated[
        bool, typer.Option(help="Also write one notice per platform for the reported accounts")
    ] = False,
) -> None:
    """One request per ISP: a BNSS s.94 notice (DOCX and PDF) and its annex (CSV and XLSX), with SHA-256s; with
    --platforms also one notice per reporting platform for the reported accounts."""
    app: AppContext = ctx.obj
    engine = app.ready_engine()
    built = build_requests(engine, app.settings, app.actor, output, isp_table, include_unidentifiable, again)
    notices = build_platform_requests(engine, app.settings, app.actor, output) if platforms else []
    app.banner()
    table = Table("id", "reference", "ISP", "items", "left out (CGNAT, no port)", "folder")
    for request in built:
        table.add_row(
            str(request.request_id),
            request.reference,
            request.isp,
            str(request.items),
            str(request.excluded),
            str(request.folder),
        )
    console.print(table)
    if not built:
        console.print("nothing new to ask (run tipfusion enrich first; sightings already asked are not repeated)")
    if platforms:
        _print_platform_notices(notices)


def _print_platform_notices(notices: list[BuiltRequest]) -> None:
    table = Table("id", "reference", "platform", "accounts", "folder", title="Notices to platforms")
    for notice in notices:
        table.add_row(str(notice.request_id), notice.reference, notice.isp, str(notice.items), str(notice.folder))
    console.print(table)
    if not notices:
        console.print("no platform notice: no reported account with an ESP user ID in the store")


@requests_app.command("list")
def requests_list(ctx: typer.Context) -> None:
    """Every request with its dates; overdue ones (72 hours after sending, no answer) flagged."""
    app: AppContext = ctx.obj
    rows = list_requests(app.ready_engine())
    app.banner()
    zone = app.settings.profile.zone
    table = Table("id", "reference", "ISP", "items", "status", "sent", "due", "")
    for row in rows:
        sent = row["sent_at"].astimezone(zone).isoformat(timespec="minutes") if row["sent_at"] else ""
        due = row["due_at"].astimezone(zone).isoformat(timespec="minutes") if row["due_at"] else ""
        table.add_row(
            str(row["id"]),
            row["reference"],
            row["recipient"],
            str(row["items"]),
            row["status"],
            sent,
            due,
            "[red]OVERDUE[/]" if row["overdue"] else "",
        )
    console.print(table)


@requests_app.command("sent")
def requests_sent(
    ctx: typer.Context,
    request_id: Annotated[int, typer.Argument(help="Request id (from requests list)")],
    at: Annotated[str | None, typer.Option(help="When it was sent (ISO 8601 with zone); default now")] = None,
) -> None:
    """Record that a request was sent; it is due 72 hours later (IT Rules 2021 r.3(1)(j))."""
    app: AppContext = ctx.obj
    when = datetime.fromisoformat(at) if at else None
    if when is not None and when.tzinfo is None:
        raise typer.BadParameter("--at needs a zone, e.g. 2026-11-29T10:00:00+05:30")
    due = mark_sent(app.ready_engine(), app.actor, request_id, when)
    console.print(f"request {request_id} sent; answer due by {due.astimezone(app.settings.profile.zone).isoformat()}")


@requests_app.command("answer")
def requests_answer(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="The ISP's answer, CSV or XLSX")],
    isp: Annotated[str, typer.Option(help="The ISP that answered (as in requests list)")],
    column: Annotated[
        list[str] | None, typer.Option("--map", help='Column mapping, e.g. "Subscriber Name=subscriber_name"')
    ] = None,
) -> None:
    """Ingest an ISP's answer: validated, matched to the items asked, stored; bad files go to quarantine whole."""
    from tipfusion.errors import DocumentRejected
    from tipfusion.route.answers import ingest_answers

    app: AppContext = ctx.obj
    mapping = {}
    for pair in column or []:
        source, _, target = pair.partition("=")
        if not target:
            raise typer.BadParameter(f"--map needs COLUMN=field, got {pair!r}")
        mapping[source.strip()] = target.strip()
    try:
        summary = ingest_answers(app.ready_engine(), app.actor, path, isp, app.settings.profile.phone_region, mapping)
    except DocumentRejected as exc:
        console.print(f"[red]quarantined[/] {exc}", soft_wrap=True)
        raise typer.Exit(1) from exc
    app.banner()
    console.print(
        f"{summary.rows} answer row(s) stored for {', '.join(summary.requests)}; run tipfusion link and "
        "tipfusion route to use them"
    )
    print_case_flags(app)


def print_case_flags(app: AppContext) -> None:
    """Open cases reached by what just arrived: the station needs a supplementary referral."""
    from tipfusion.track.service import refresh_flags

    for case_id, note in refresh_flags(app.ready_engine(), app.actor):
        console.print(f"[yellow]case {case_id}[/]: {note} — `tipfusion refer build` writes a supplementary referral")


def register(app: typer.Typer) -> None:
    app.add_typer(requests_app, name="requests")
