"""`tipfusion login | logout`: the command line acts as a named account."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from tipfusion.cli.context import AppContext, console


def login(
    ctx: typer.Context,
    username: Annotated[
        str | None, typer.Option("--username", "-u", help="The account (asked for when left out)")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from the first line of standard input")
    ] = False,
) -> None:
    """Log in to the store as your account: later commands on this store act as it (their audit entries carry its
    name). The session is kept in a file only you can read, and ends after 12 hours unused or with `tipfusion logout`.
    """
    from tipfusion.accounts.service import authenticate, close_session, has_accounts, open_session
    from tipfusion.cli.identity import forget_session, save_session
    from tipfusion.cli.users import read_password
    from tipfusion.errors import InputRefused

    app: AppContext = ctx.obj
    engine = app.ready_engine(identify=False)
    if not has_accounts(engine):
        raise InputRefused(
            "this store has no accounts yet: create the first admin with `tipfusion users create NAME --role admin`"
        )
    name = username if username is not None else str(typer.prompt("Username"))
    password = read_password(password_stdin, confirm=False)
    account = authenticate(engine, name, password, policy=app.settings.tuning().sessions.policy(), channel="cli")
    old = forget_session(app.settings.database_url)
    if old:
        close_session(engine, old)
    token, _session = open_session(engine, account, "cli")
    path = save_session(app.settings.database_url, account.username, token)
    console.print(f"logged in as {escape(account.username)} ({account.role.value}); session kept in {path}")


def logout(ctx: typer.Context) -> None:
    """End this terminal's session on the store (the server side too)."""
    from tipfusion.accounts.service import close_session
    from tipfusion.cli.identity import forget_session

    app: AppContext = ctx.obj
    token = forget_session(app.settings.database_url)
    name = close_session(app.ready_engine(identify=False), token) if token else None
    console.print(f"logged out{' ' + escape(name) if name else ''}" if token else "no session to end on this store")


def register(app: typer.Typer) -> None:
    app.command("login")(login)
    app.command("logout")(logout)
