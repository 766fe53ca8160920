"""`tipfusion requests build | list | sent | answer`: requests to ISPs and notices to platforms."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from tipfusion.cli.context import AppContext, console, progress, safe, setting_path, show, whole

if TYPE_CHECKING:
    from tipfusion.requests.service import BuiltRequest

requests_app = typer.Typer(no_args_is_help=True, help="Requests to ISPs: letters, annexes, dates, overdue items.")


@requests_app.command("build")
def requests_build(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the letters and annexes")],
    isp_table: Annotated[
        Path | None,
        typer.Option(help="ISP table with nodal officers (default: TIPFUSION_ISP_TABLE)", exists=True, dir_okay=False),
    ] = None,
    include_unidentifiable: Annotated[
        bool, typer.Option(help="Also ask CGNAT sightings that have no source port")
    ] = False,
    again: Annotated[bool, typer.Option(help="Ask again for sightings already in an earlier request")] = False,
    platforms: Annotated[
        bool, typer.Option(help="Also write one notice per platform for the reported accounts")
    ] = False,
    platform: Annotated[
        list[str] | None,
        typer.Option(help="Only the notice to this platform (repeatable; implies --platforms), as the web builds it"),
    ] = None,
) -> None:
    """One request per ISP: a BNSS s.94 notice (DOCX and PDF) and its annex (CSV and XLSX), with SHA-256s; with
    --platforms also one notice per reporting platform for the reported accounts (--platform NAME: to that one)."""
    from tipfusion.requests.service import build_platform_requests, build_requests

    app: AppContext = ctx.obj
    app.output(output)
    isp_table = isp_table or setting_path(app.settings.isp_table, "TIPFUSION_ISP_TABLE")
    setting_path(app.settings.templates_dir, "TIPFUSION_TEMPLATES_DIR")
    engine = app.ready_engine()
    with progress("requests") as update:
        update("letters and annexes per ISP", 0, None)
        built = build_requests(engine, app.settings, app.actor, output, isp_table, include_unidentifiable, again)
        update("notices to platforms", 0, None)
        chosen = set(platform) if platform else None
        asked = platforms or chosen is not None
        notices = build_platform_requests(engine, app.settings, app.actor, output, chosen) if asked else []
    app.banner()
    table = Table(whole("id"), whole("reference"), "ISP", "items", "left out (CGNAT, no port)", title="Requests built")
    for request in built:
        table.add_row(
            str(request.request_id),
            safe(request.reference),
            safe(request.isp),
            str(request.items),
            str(request.excluded),
        )
    show(table)
    _print_folders(built)
    if not built:
        console.print("nothing new to ask (run tipfusion enrich first; sightings already asked are not repeated)")
    if asked:
        _print_platform_notices(notices)


def _print_platform_notices(notices: list[BuiltRequest]) -> None:
    table = Table(whole("id"), whole("reference"), "platform", "accounts", title="Notices to platforms")
    for notice in notices:
        table.add_row(str(notice.request_id), safe(notice.reference), safe(notice.isp), str(notice.items))
    show(table)
    _print_folders(notices)
    if not notices:
        console.print("no platform notice: no reported account with an ESP user ID in the store")


def _print_folders(built: list[BuiltRequest]) -> None:
    """Folders in full, one a line, below the table: a path a user copies is never cut to fit a column."""
    for request in built:
        console.print(f"{safe(request.reference)} → {safe(request.folder)}", soft_wrap=True)


@requests_app.command("list")
def requests_list(ctx: typer.Context) -> None:
    """Every request with its dates; overdue ones (72 hours after sending, no answer) flagged."""
    from tipfusion.requests.service import list_requests

    app: AppContext = ctx.obj
    rows = list_requests(app.ready_engine())
    app.banner()
    table = Table(
        whole("id"),
        whole("reference"),
        "ISP",
        "items",
        "status",
        "sent",
        "sent under",
        "due",
        "overdue",
        title="Requests",
    )
    for row in rows:
        table.add_row(
            str(row["id"]),
            safe(row["reference"]),
            safe(row["recipient"]),
            str(row["items"]),
            safe(row["status"]),
            app.time(row["sent_at"]),
            safe(row["sent_reference"] or ""),
            app.time(row["due_at"]),
            "[red]OVERDUE[/]" if row["overdue"] else "",
        )
    show(table)


@requests_app.command("sent")
def requests_sent(
    ctx: typer.Context,
    request_id: Annotated[int, typer.Argument(help="Request id (from requests list)")],
    at: Annotated[
        str | None,
        typer.Option(help="When it was sent: a date-time (local to the unit unless it has a zone), or now (default)"),
    ] = None,
    reference: Annotated[
        str | None,
        typer.Option(
            help="The reference it went under: the number the ISP or platform gave, or the unit's dispatch/letter "
            "number (one line, at most 200 characters; kept from before when not given)"
        ),
    ] = None,
) -> None:
    """Record that a request was sent, and under which reference; it is due 72 hours later (IT Rules 2021
    r.3(1)(j))."""
    from tipfusion.requests.service import ReferenceRefused, check_reference, mark_sent

    app: AppContext = ctx.obj
    try:
        check_reference(reference)  # refused before anything is read or written
    except ReferenceRefused as error:
        raise typer.BadParameter(str(error).removeprefix("reference: "), param_hint="--reference") from None
    when = app.moment(at, "--at") if at else None
    due = mark_sent(app.ready_engine(), app.actor, request_id, when, reference)
    under = f" under reference {safe(reference.strip())}" if reference and reference.strip() else ""
    console.print(f"request {request_id} sent{under}; answer due by {app.time(due)}", soft_wrap=True)


@requests_app.command("answer")
def requests_answer(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="The ISP's answer, CSV or XLSX", exists=True, dir_okay=False)],
    isp: Annotated[str, typer.Option(help="The ISP that answered (as in requests list)")],
    column: Annotated[
        list[str] | None, typer.Option("--map", help='Column mapping, e.g. "Subscriber Name=subscriber_name"')
    ] = None,
) -> None:
    """Ingest an ISP's answer: validated, matched to the items asked, stored; bad files go to quarantine whole."""
    from tipfusion.errors import DocumentRejected, TipfusionError
    from tipfusion.requests.answers import ingest_answers
    from tipfusion.requests.service import list_requests

    app: AppContext = ctx.obj
    known = sorted({row["recipient"] for row in list_requests(app.ready_engine())})
    if isp not in known:
        listed = ", ".join(repr(name) for name in known) or "none yet (tipfusion requests build)"
        raise typer.BadParameter(f"no request was made to {isp!r}; requests went to: {listed}", param_hint="--isp")
    mapping = {}
    for pair in column or []:
        source, _, target = pair.partition("=")
        if not target:
            raise typer.BadParameter(f"--map needs COLUMN=field, got {pair!r}")
        mapping[source.strip()] = target.strip()
    try:
        summary = ingest_answers(
            app.ready_engine(),
            app.actor,
            path,
            isp,
            app.settings.profile.phone_region,
            mapping,
            app.settings.xml_limits,
        )
    except DocumentRejected as exc:
        if exc.reason == "no_request":  # refused before anything was stored: not a quarantine
            raise TipfusionError(str(exc)) from None
        console.print(f"[red]quarantined[/] {safe(exc)}", soft_wrap=True)
        raise typer.Exit(1) from exc
    app.banner()
    console.print(
        f"{summary.rows} answer row(s) stored for {safe(', '.join(summary.requests))}; run tipfusion link and "
        "tipfusion route to use them",
        soft_wrap=True,
    )
    from tipfusion.cli.cases import print_case_flags

    print_case_flags(app)


def register(app: typer.Typer) -> None:
    app.add_typer(requests_app, name="requests")
