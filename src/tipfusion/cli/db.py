"""`tipfusion db upgrade | status`: the store's schema."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from tipfusion.cli.context import AppContext, console, safe

if TYPE_CHECKING:
    pass


db_app = typer.Typer(no_args_is_help=True, help="Database schema.")


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Apply migrations up to the latest schema (other commands do this automatically)."""
    from tipfusion.storage import ensure_schema, stored_revision, where

    app: AppContext = ctx.obj
    app.may_create = True  # `db upgrade` on a new path starts the store (an empty one, at the latest schema)
    before = ensure_schema(app.engine)
    after = stored_revision(app.engine)
    change = "already there" if before == after else f"was {before or 'empty'}"
    console.print(
        f"schema at revision {safe(after)}, {safe(change)} ({safe(where(app.settings.database_url))})", soft_wrap=True
    )


@db_app.command("status")
def db_status(ctx: typer.Context) -> None:
    """Show the schema revision in the database and the latest one this version knows."""
    from tipfusion.storage import head_revision, safe_url, stored_revision

    app: AppContext = ctx.obj
    console.print(
        f"database: {safe(safe_url(app.settings.database_url))}\nrevision: {safe(stored_revision(app.engine))}\n"
        f"latest:   {head_revision()}",
        soft_wrap=True,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
