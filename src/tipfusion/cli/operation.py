"""`tipfusion operation create | list | report`: named drives and their totals."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from tipfusion.cli.context import DATE_HELP, AppContext, console, progress, safe, setting_path, show, whole

if TYPE_CHECKING:
    from tipfusion.track.operations import OperationReport


operation_app = typer.Typer(no_args_is_help=True, help="Operations: named drives and their totals.")


@operation_app.command("create")
def operation_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument()],
    start: Annotated[str, typer.Option("--from", help=f"First day ({DATE_HELP}), counted in the unit's zone")],
    end: Annotated[str, typer.Option("--to", help=f"Last day ({DATE_HELP}), counted in the unit's zone")],
    title: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Create (or re-date) an operation; referrals built in its period belong to it."""
    from tipfusion.track.operations import create_operation

    app: AppContext = ctx.obj
    starts, ends = app.moment(start, "--from"), app.moment(end, "--to", end=True)
    create_operation(app.ready_engine(), app.actor, name, starts, ends, title)
    console.print(f"operation {safe(name)}: {app.time(starts)} … {app.time(ends)}", soft_wrap=True)


@operation_app.command("list")
def operation_list(ctx: typer.Context) -> None:
    """Operations with their periods (in the unit's zone) and how many referrals each holds."""
    from tipfusion.track.operations import list_operations

    app: AppContext = ctx.obj
    table = Table(whole("name"), "title", "from", "to", "referrals", title="Operations")
    for r in list_operations(app.ready_engine()):
        table.add_row(
            safe(r["name"]), safe(r["title"]), app.time(r["starts"]), app.time(r["ends"]), str(r["referrals"])
        )
    show(table)


@operation_app.command("report")
def operation_report_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument()],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Also write CSV, XLSX or PDF")] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="csv | xlsx | pdf (default: the file's suffix)")] = None,
) -> None:
    """Totals per district and station: reports, networks, referrals, FIRs, arrests, chargesheets."""
    from tipfusion.audit import UnitOfWork
    from tipfusion.documents.staging import staged_file
    from tipfusion.track.operations import operation_report, write_report

    app: AppContext = ctx.obj
    if output is not None:
        app.output(output)
    templates = setting_path(app.settings.templates_dir, "TIPFUSION_TEMPLATES_DIR") if output else None
    engine = app.ready_engine()
    with progress(f"operation {safe(name)}") as update:
        update("counting", 0, None)
        report = operation_report(engine, name)
        if output is not None:
            update(f"writing {safe(output)}", 0, None)
            chosen = fmt or output.suffix.lstrip(".").lower()
            with staged_file(output) as work:  # the file takes its name once written and audited
                write_report(report, chosen, work, templates, app.settings.profile.zone)
                with UnitOfWork(engine, app.actor) as uow:
                    uow.record("export.operation", "operation", name, {"file": str(output)})
    with UnitOfWork(engine, app.actor) as uow:
        uow.record("operation.viewed", "operation", name, {})
    app.banner()
    print_operation(report)
    if output is not None:
        console.print(f"→ {safe(output)}", soft_wrap=True)


def print_operation(report: OperationReport) -> None:
    from tipfusion.track.operations import COLUMNS

    table = Table(
        "district",
        "station",
        *[label for _, label in COLUMNS],
        title=safe(f"Operation {report.name}" + (f" — {report.title}" if report.title else "")),
    )
    for row in [*report.rows, report.totals]:
        table.add_row(
            safe(row["district"]),
            safe(row["station"]),
            *[safe(row[key]) for key, _ in COLUMNS],
            style="bold" if row is report.totals else None,
        )
    show(table)
    console.print(safe(report.unit_wide), soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.add_typer(operation_app, name="operation")
