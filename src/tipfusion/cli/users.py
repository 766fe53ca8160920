"""`tipfusion users …`: accounts of the web application and the command line; `tipfusion serve` starts the app."""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from tipfusion.cli.context import AppContext, console, err_console, show, whole

users_app = typer.Typer(no_args_is_help=True, help="Accounts: who may use the web application and the command line.")

ROLE_HELP = "admin | analyst | supervisor | district | station | auditor"


def read_password(from_stdin: bool, *, confirm: bool = True) -> str:
    """The new password: one line from standard input (`--password-stdin`, for scripts), else asked twice without
    echo. Never an option: command lines end up in shell history and process lists."""
    if from_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=confirm)
    return password


@users_app.command("create")
def users_create(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Login name: lowercase letters, digits, '.', '_', '-'")],
    role: Annotated[str, typer.Option("--role", help=ROLE_HELP)],
    district: Annotated[str | None, typer.Option("--district", help="A district officer's district")] = None,
    station: Annotated[str | None, typer.Option("--station", help="A station officer's station")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from the first line of standard input")
    ] = False,
) -> None:
    """Create an account (the first one is the unit's admin). The password is asked for, never given as an option."""
    from tipfusion.accounts.principal import Role
    from tipfusion.accounts.service import create_user, has_accounts
    from tipfusion.errors import InputRefused

    app: AppContext = ctx.obj
    engine = app.ready_engine(create=True)  # a new deployment's first step: the admin comes before any batch
    if not has_accounts(engine) and role.strip().lower() != Role.ADMIN.value:
        raise InputRefused(
            "the first account must be an admin (--role admin): the admin then creates the others", "role"
        )
    app.require_admin("users create")
    password = read_password(password_stdin)
    account = create_user(engine, app.actor, username, password, role, district=district, station=station)
    scope = account.district or account.station or "the whole force"
    console.print(f"account {escape(account.username)} created: {account.role.value}, {escape(scope)}", soft_wrap=True)


@users_app.command("list")
def users_list(ctx: typer.Context) -> None:
    """Every account with its role, jurisdiction and state (never a password or its hash)."""
    from tipfusion import clock
    from tipfusion.accounts.service import list_accounts

    app: AppContext = ctx.obj
    app.require_admin("users list")
    now = clock.now()
    table = Table(whole("username"), "role", "district", "station", "state", "created", title="accounts")
    for account in list_accounts(app.ready_engine()):
        state = "disabled" if account.disabled else "active"
        if account.locked_until is not None and account.locked_until > now:
            state += f", locked until {app.time(account.locked_until)}"
        if account.synthetic:
            state += ", SYNTHETIC demo account"
        table.add_row(
            escape(account.username),
            account.role.value,
            escape(account.district or ""),
            escape(account.station or ""),
            state,
            app.time(account.created_at),
        )
    show(table)


@users_app.command("disable")
def users_disable(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The account to disable")],
    enable: Annotated[bool, typer.Option("--enable", help="Enable it again instead")] = False,
) -> None:
    """Disable an account: its sessions and API tokens end at once (`--enable` lets it log in again)."""
    from tipfusion.accounts.service import set_disabled

    app: AppContext = ctx.obj
    app.require_admin("users disable")
    account = set_disabled(app.ready_engine(), app.actor, username, disabled=not enable)
    console.print(f"account {escape(account.username)} {'disabled' if account.disabled else 'enabled'}")


@users_app.command("password")
def users_password(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The account whose password to set")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from the first line of standard input")
    ] = False,
) -> None:
    """Set a new password (and lift a lockout); the account's sessions end."""
    from tipfusion.accounts.service import set_password

    app: AppContext = ctx.obj
    engine = app.ready_engine()
    app.require_admin("users password", unless_self=username)
    password = read_password(password_stdin)
    set_password(engine, app.actor, username, password)
    console.print(f"password of {escape(username)} set; its sessions have ended")


@users_app.command("token")
def users_token(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The account the token acts as (same role and scope)")],
    label: Annotated[str, typer.Option("--label", help="What the token is for (shown in the audit log)")] = "api",
) -> None:
    """Issue an API token for /api/ (Authorization: Bearer …). Printed once: only its hash is kept."""
    from tipfusion.accounts.service import issue_token

    app: AppContext = ctx.obj
    app.require_admin("users token", unless_self=username)
    token = issue_token(app.ready_engine(), app.actor, username, label)
    err_console.print("API token (shown once; keep it like a password):")
    print(token)


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


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on (loopback unless a proxy fronts it)")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="Server processes (uvicorn workers); sessions are in the store, so a login holds across them",
        ),
    ] = 1,
    demo_accounts: Annotated[
        bool,
        typer.Option(
            "--demo-accounts",
            help="SYNTHETIC store only: create (or reset) one demo account per role and print their passwords",
        ),
    ] = False,
) -> None:
    """Start the web application over the store (Ctrl-C stops it). Behind TLS, set TIPFUSION_SECURE_COOKIES=1."""
    import uvicorn

    from tipfusion.web.app import create_app

    app: AppContext = ctx.obj
    engine = app.ready_engine(identify=False)  # a service (systemd) serves without a terminal login
    if demo_accounts:
        from tipfusion.accounts.demo import demo_accounts as make_demo_accounts

        table = Table(
            whole("username"), whole("password"), "role", "scope", title="SYNTHETIC demo logins (this run only)"
        )
        for login in make_demo_accounts(engine):
            account = login.account
            scope = account.district or account.station or ("audit log" if account.role == "auditor" else "all")
            table.add_row(account.username, login.password, account.role.value, escape(scope))
        show(table)
    quiet: dict[str, Any] = {"access_log": False, "log_level": "warning", "server_header": False}
    if workers > 1:
        # each worker builds the app from the environment (uvicorn imports it by name): hand it this command's store
        os.environ["TIPFUSION_DATABASE_URL"] = app.settings.database_url
        console.print(
            f"tipfusion is serving on http://{host}:{port}/ with {workers} workers  (Ctrl-C stops it)", soft_wrap=True
        )
        uvicorn.run(
            "tipfusion.web.app:app_from_environment", factory=True, host=host, port=port, workers=workers, **quiet
        )
        return
    web = create_app(app.settings)
    console.print(f"tipfusion is serving on http://{host}:{port}/  (Ctrl-C stops it)", soft_wrap=True)
    # no access log: request lines carry search terms and identifiers, which are personal data
    uvicorn.run(web, host=host, port=port, **quiet)


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
    app.command("serve")(serve)
    app.command("login")(login)
    app.command("logout")(logout)
