"""`tipfusion override noise | split | merge | list`: analyst overrides of linking."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from tipfusion.cli.context import AppContext, console, safe, show, whole, wrapping

if TYPE_CHECKING:
    pass


override_app = typer.Typer(no_args_is_help=True, help="Analyst overrides of linking (audited; survive re-runs).")


@override_app.command("noise")
def override_noise(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="email, phone, ip_fixed, group, file…")],
    value: Annotated[str, typer.Argument(help="The normalised value")],
    reason: Annotated[str, typer.Option("--reason")],
) -> None:
    """Mark a value as noise: it is never used as evidence again."""
    from tipfusion.link.service import add_override

    app: AppContext = ctx.obj
    number = add_override(app.ready_engine(), app.actor, "noise", reason, kind=kind, value=value)
    console.print(
        f"override {number}: {safe(kind)} {safe(value)} is noise from the next `tipfusion link`", soft_wrap=True
    )


@override_app.command("split")
def override_split(
    ctx: typer.Context,
    report: Annotated[int, typer.Argument(help="Report number")],
    reason: Annotated[str, typer.Option("--reason")],
) -> None:
    """Take a report out of its suspect: it stands alone."""
    from tipfusion.link.service import add_override

    app: AppContext = ctx.obj
    number = add_override(app.ready_engine(), app.actor, "split", reason, report_a=report)
    console.print(f"override {number}: report {report} stands alone from the next `tipfusion link`")


@override_app.command("merge")
def override_merge(
    ctx: typer.Context,
    report_a: Annotated[int, typer.Argument()],
    report_b: Annotated[int, typer.Argument()],
    reason: Annotated[str, typer.Option("--reason")],
) -> None:
    """Join the suspects of two reports into one."""
    from tipfusion.link.service import add_override

    app: AppContext = ctx.obj
    number = add_override(app.ready_engine(), app.actor, "merge", reason, report_a=report_a, report_b=report_b)
    console.print(
        f"override {number}: reports {report_a} and {report_b} are one suspect from the next `tipfusion link`"
    )


@override_app.command("list")
def override_list(ctx: typer.Context) -> None:
    """Show the overrides in force."""
    from tipfusion.link.service import overrides_in_force

    app: AppContext = ctx.obj
    rows = overrides_in_force(app.ready_engine())
    table = Table(whole("id"), "action", whole("what"), wrapping("reason"), "by", "when", title="Overrides")
    for row in rows:
        what = (
            f"{row.kind} {row.value}"
            if row.action == "noise"
            else " + ".join(str(r) for r in (row.report_a, row.report_b) if r is not None)
        )
        table.add_row(
            str(row.id), safe(row.action), safe(what), safe(row.reason), safe(row.actor), app.time(row.created_at)
        )
    show(table)


def register(app: typer.Typer) -> None:
    app.add_typer(override_app, name="override")
