"""`tipfusion cases …`: the lifecycle of each referral's case."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from tipfusion.cli.context import DATE_HELP, AppContext, console, safe, show, whole, wrapping

if TYPE_CHECKING:
    pass


cases_app = typer.Typer(no_args_is_help=True, help="Cases: sent → acknowledged → FIR → arrests → chargesheet → closed.")


@cases_app.command("list")
def cases_list(
    ctx: typer.Context,
    station: Annotated[str | None, typer.Option()] = None,
    district: Annotated[str | None, typer.Option()] = None,
    state: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Cases, with the ones that need a supplementary referral marked."""
    from tipfusion.audit import UnitOfWork
    from tipfusion.track.service import case_rows
    from tipfusion.workplace.access import jurisdiction

    app: AppContext = ctx.obj
    engine = app.ready_engine()
    station, district = jurisdiction(engine, app.principal, station, district, "cases list")
    rows = case_rows(engine, station, district, state)
    with UnitOfWork(engine, app.actor) as uow:
        scope = {"station": station, "district": district, "state": state, "rows": len(rows)}
        uow.record("case.listed", "case", "list", scope)
    app.banner()
    table = Table(
        whole("case"),
        whole("reference"),
        "district",
        "station",
        "state",
        whole("FIR"),
        "arrests",
        "sent",
        wrapping("needs update"),
        title="Cases",
    )
    for r in rows:
        table.add_row(
            str(r["case"]),
            safe(r["reference"]),
            safe(r["district"]),
            safe(r["station"]),
            safe(r["state"]),
            safe(r["fir_number"]),
            str(r["arrests"]),
            app.time(r["sent_at"]),
            safe(r["needs_update"]),
        )
    show(table)


@cases_app.command("show")
def cases_show(
    ctx: typer.Context, case: Annotated[str, typer.Argument(help="Case number or referral reference")]
) -> None:
    """A case and every step of its history (who, when, what)."""
    from tipfusion.audit import UnitOfWork
    from tipfusion.track.service import history
    from tipfusion.workplace.access import case_in_scope

    app: AppContext = ctx.obj
    engine = app.ready_engine()
    case_in_scope(engine, app.principal, case)
    row, events = history(engine, case)
    with UnitOfWork(engine, app.actor) as uow:
        uow.record("case.viewed", "case", str(row.id), {})
    app.banner()
    console.print(
        safe(
            f"case {row.id} ({row.reference}): {row.state}; {row.station or row.district or 'central unit'}; "
            f"FIR {row.fir_number or '-'} {row.fir_date or ''}; sections {', '.join(row.sections or []) or '-'}; "
            f"arrests {row.arrests}; devices {row.devices_seized}; chargesheet {row.chargesheet_date or '-'}"
            + (f"; closed: {row.closed_reason}" if row.closed_reason else "")
        )
        + (f"\n[yellow]needs a supplementary referral:[/] {safe(row.needs_update)}" if row.needs_update else ""),
        soft_wrap=True,
    )
    table = Table("at", "who", "action", "from", "to", wrapping("fields"), wrapping("reason"))
    for e in events:
        table.add_row(
            app.time(e.at),
            safe(e.actor),
            safe(e.action),
            safe(e.from_state),
            safe(e.to_state),
            safe(", ".join(f"{k}={v}" for k, v in (e.fields or {}).items())),
            safe(e.reason),
        )
    show(table)


@cases_app.command("advance")
def cases_advance(
    ctx: typer.Context,
    case: Annotated[str, typer.Argument(help="Case number or referral reference")],
    step: Annotated[
        str,
        typer.Argument(help="acknowledged | fir_registered | arrested | devices_seized | chargesheet_filed | closed"),
    ],
    date: Annotated[str | None, typer.Option(help=f"When it happened ({DATE_HELP}; default today)")] = None,
    fir_number: Annotated[str | None, typer.Option(help="e.g. 0123/2026")] = None,
    fir_date: Annotated[str | None, typer.Option(help=DATE_HELP)] = None,
    fir_station: Annotated[str | None, typer.Option()] = None,
    sections: Annotated[str | None, typer.Option(help="';'-separated, e.g. 'IT Act 67B; POCSO 15'")] = None,
    count: Annotated[int | None, typer.Option(help="Accused arrested / devices seized")] = None,
    names: Annotated[str | None, typer.Option(help="';'-separated names of the accused arrested")] = None,
    explanation: Annotated[str | None, typer.Option(help="Why more arrests than suspects referred")] = None,
    reason: Annotated[
        str | None,
        typer.Option("--closed-reason", help="convicted | acquitted | untraced | transferred | not_an_offence"),
    ] = None,
) -> None:
    """Record the next step of a case (validated; audited)."""
    from tipfusion.track.service import advance
    from tipfusion.workplace.access import case_in_scope

    app: AppContext = ctx.obj
    given: dict[str, Any] = {
        "date": app.day(date, "--date").isoformat() if date else None,
        "fir_number": fir_number,
        "fir_date": app.day(fir_date, "--fir-date").isoformat() if fir_date else None,
        "fir_station": fir_station,
        "sections": sections,
        "count": count,
        "names": names,
        "explanation": explanation,
        "closed_reason": reason,
    }
    fields = {k: v for k, v in given.items() if v is not None}
    case_in_scope(app.ready_engine(), app.principal, case, step)  # after the options parse: a typo is named first
    changes = advance(app.ready_engine(), app.settings, app.actor, case, step, fields)
    console.print(f"case {safe(case)}: {safe(changes['state'])}", soft_wrap=True)


@cases_app.command("correct")
def cases_correct(
    ctx: typer.Context,
    case: Annotated[str, typer.Argument()],
    field: Annotated[str, typer.Argument(help="e.g. fir_number, fir_date, sections, arrests")],
    value: Annotated[str, typer.Argument()],
    reason: Annotated[str, typer.Option("--reason")],
) -> None:
    """Correct a recorded fact; the old value stays in the history (dates as in `cases advance`)."""
    from tipfusion.track.service import correct
    from tipfusion.workplace.access import case_in_scope

    app: AppContext = ctx.obj
    if field.endswith("_date"):
        value = app.day(value, "VALUE").isoformat()
    case_in_scope(app.ready_engine(), app.principal, case, "correct")
    changed = correct(app.ready_engine(), app.settings, app.actor, case, field, value, reason)
    console.print(f"case {safe(case)}: {safe(field)} → {safe(changed[field])}", soft_wrap=True)


@cases_app.command("transfer")
def cases_transfer(
    ctx: typer.Context,
    case: Annotated[str, typer.Argument()],
    station: Annotated[str, typer.Option("--to", help="The receiving police station")],
    reason: Annotated[str, typer.Option("--reason")],
) -> None:
    """Transfer a case to another station (history kept)."""
    from tipfusion.track.service import transfer

    app: AppContext = ctx.obj
    before, after = transfer(app.ready_engine(), app.actor, case, station, reason)
    console.print(f"case {safe(case)}: {safe(before or 'central unit')} → {safe(after)}", soft_wrap=True)


@cases_app.command("overdue")
def cases_overdue(
    ctx: typer.Context,
    at: Annotated[
        str | None, typer.Option(help=f"As of this moment ({DATE_HELP}, or a date-time; default now)")
    ] = None,
    station: Annotated[str | None, typer.Option(help="Only this station's items")] = None,
    district: Annotated[str | None, typer.Option(help="Only this district's items")] = None,
) -> None:
    """Acknowledgements, FIRs and ISP answers past due, per station."""
    from tipfusion.track.service import overdue
    from tipfusion.workplace.access import jurisdiction

    app: AppContext = ctx.obj
    moment = app.moment(at, "--at", end=True) if at else None
    station, district = jurisdiction(app.ready_engine(), app.principal, station, district, "cases overdue")
    items = [
        i
        for i in overdue(app.ready_engine(), app.settings, moment)
        if (station is None or i.station == station) and (district is None or i.district == district)
    ]
    app.banner()
    table = Table("district", "station", whole("case"), whole("reference"), "overdue", "due", "late", title="Overdue")
    for i in items:
        table.add_row(
            safe(i.district),
            safe(i.station),
            str(i.case or ""),
            safe(i.reference),
            safe(i.what),
            app.time(i.due),
            f"{i.hours_late / 24:.1f} days",
        )
    if items:
        show(table)
    else:
        console.print("nothing overdue")


@cases_app.command("check")
def cases_check(ctx: typer.Context) -> None:
    """Flag open cases that new reports or ISP answers have reached (a supplementary referral is due)."""
    from tipfusion.track.service import refresh_flags

    app: AppContext = ctx.obj
    flagged = refresh_flags(app.ready_engine(), app.actor)
    for case_id, note in flagged:
        console.print(
            f"case {case_id}: {safe(note)} — build a supplementary referral with `tipfusion refer build`",
            soft_wrap=True,
        )
    console.print(f"{len(flagged)} case(s) newly flagged")


def print_case_flags(app: AppContext) -> None:
    """Open cases reached by what just arrived: the station needs a supplementary referral."""
    from tipfusion.track.service import refresh_flags

    for case_id, note in refresh_flags(app.ready_engine(), app.actor):
        console.print(
            f"[yellow]case {case_id}[/]: {safe(note)} — `tipfusion refer build` writes a supplementary referral",
            soft_wrap=True,
        )


def register(app: typer.Typer) -> None:
    app.add_typer(cases_app, name="cases")
