"""`tipfusion db …`, `tipfusion audit …`, `tipfusion status`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select

from tipfusion.audit import verify
from tipfusion.cli.context import AppContext, console
from tipfusion.errors import AuditChainBroken
from tipfusion.store.db import current_revision, head_revision, upgrade
from tipfusion.store.status import stage_counts
from tipfusion.store.tables import audit_events

db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
audit_app = typer.Typer(no_args_is_help=True, help="The tamper-evident audit log.")


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Apply migrations up to the latest schema (other commands do this automatically)."""
    app: AppContext = ctx.obj
    upgrade(app.engine)
    console.print(f"schema at revision {current_revision(app.engine)} ({app.settings.database_url})")


@db_app.command("status")
def db_status(ctx: typer.Context) -> None:
    """Show the schema revision in the database and the latest one this version knows."""
    app: AppContext = ctx.obj
    console.print(
        f"database: {app.settings.database_url}\nrevision: {current_revision(app.engine)}\nlatest:   {head_revision()}"
    )


@audit_app.command("verify")
def audit_verify(ctx: typer.Context) -> None:
    """Check the hash chain; name the first entry that was altered, inserted or removed."""
    app: AppContext = ctx.obj
    with app.ready_engine().connect() as conn:
        report = verify(conn)
    app.banner()
    if not report.ok:
        raise AuditChainBroken(
            f"audit chain broken at entry {report.first_broken}: {report.problem} ({report.count} entries read)"
        )
    console.print(
        f"audit chain intact: {report.count:,} entries; head hash {report.head_hash} "
        "(record it elsewhere to detect truncation later)"
    )


@audit_app.command("list")
def audit_list(ctx: typer.Context, limit: Annotated[int, typer.Option(help="Latest N entries")] = 20) -> None:
    """Show the latest audit entries."""
    app: AppContext = ctx.obj
    with app.ready_engine().connect() as conn:
        rows = list(conn.execute(select(audit_events).order_by(audit_events.c.seq.desc()).limit(limit)))
    app.banner()
    zone = app.settings.profile.zone
    table = Table("seq", f"time ({app.settings.profile.display_timezone})", "actor", "action", "object")
    for row in reversed(rows):
        table.add_row(
            str(row.seq),
            row.at.astimezone(zone).isoformat(timespec="seconds"),
            row.actor,
            row.action,
            f"{row.object_type} {row.object_id}",
        )
    console.print(table)


def status(ctx: typer.Context) -> None:
    """What the store holds at every stage: reports to cases, routing by placement, ISP requests by state."""
    app: AppContext = ctx.obj
    with app.ready_engine().connect() as conn:
        rows = stage_counts(conn)
    app.banner()
    table = Table("stage", "what", "count", title=f"store: {app.settings.database_url}")
    for stage, what, value in rows:
        table.add_row(stage, what, f"{value:,}")
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
    app.add_typer(audit_app, name="audit")
    app.command("status")(status)
