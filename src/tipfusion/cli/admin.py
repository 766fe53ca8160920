"""`tipfusion db …`, `tipfusion audit …`, `tipfusion status`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from tipfusion.cli.context import AppContext, console, show, whole
from tipfusion.errors import AuditChainBroken

db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
audit_app = typer.Typer(no_args_is_help=True, help="The tamper-evident audit log.")


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Apply migrations up to the latest schema (other commands do this automatically)."""
    from tipfusion.store.db import ensure_schema, stored_revision, where

    app: AppContext = ctx.obj
    before = ensure_schema(app.engine)
    after = stored_revision(app.engine)
    change = "already there" if before == after else f"was {before or 'empty'}"
    console.print(f"schema at revision {after}, {change} ({where(app.settings.database_url)})", soft_wrap=True)


@db_app.command("status")
def db_status(ctx: typer.Context) -> None:
    """Show the schema revision in the database and the latest one this version knows."""
    from tipfusion.store.db import head_revision, safe_url, stored_revision

    app: AppContext = ctx.obj
    console.print(
        f"database: {safe_url(app.settings.database_url)}\nrevision: {stored_revision(app.engine)}\n"
        f"latest:   {head_revision()}",
        soft_wrap=True,
    )


@audit_app.command("verify")
def audit_verify(ctx: typer.Context) -> None:
    """Check the hash chain; name the first entry that was altered, inserted or removed."""
    from tipfusion.audit import verify

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
    from sqlalchemy import select

    from tipfusion.store.tables import audit_events

    app: AppContext = ctx.obj
    with app.ready_engine().connect() as conn:
        rows = list(conn.execute(select(audit_events).order_by(audit_events.c.seq.desc()).limit(limit)))
    app.banner()
    table = Table(whole("seq"), "time", "actor", "action", whole("object"), title="Audit log")
    for row in reversed(rows):
        table.add_row(str(row.seq), app.time(row.at), row.actor, row.action, f"{row.object_type} {row.object_id}")
    show(table)


def status(ctx: typer.Context) -> None:
    """What the store holds at every stage: reports to cases, routing by placement, ISP requests by state."""
    from tipfusion.store.db import where
    from tipfusion.store.status import stage_counts

    app: AppContext = ctx.obj
    with app.ready_engine().connect() as conn:
        rows = stage_counts(conn)
    app.banner()
    console.print(f"store: {where(app.settings.database_url)}", soft_wrap=True)
    table = Table("stage", "what", "count")
    for stage, what, value in rows:
        table.add_row(stage, what, f"{value:,}")
    show(table)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
    app.add_typer(audit_app, name="audit")
    app.command("status")(status)
