"""`tipfusion serve`: the web application over the store."""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from tipfusion.cli.context import AppContext, console, show, whole


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
    # no access log: request lines carry search terms and identifiers, which are personal data
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
    uvicorn.run(web, host=host, port=port, **quiet)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
