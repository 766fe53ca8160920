"""`tipfusion users …`: accounts of the web application and the command line."""

from __future__ import annotations

import sys
from typing import Annotated

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


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
