"""`tipfusion`: the command-line shell over the services. Domain logic lives in the packages, not here."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape

from tipfusion.cli import (
    admin,
    cases,
    demo,
    enrich,
    exports,
    ingest,
    jurisdiction,
    link,
    lookup,
    refer,
    report,
    route,
    synth,
    triage,
)
from tipfusion.cli.context import AppContext, err_console
from tipfusion.config import load_settings
from tipfusion.errors import TipfusionError

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="tipfusion: CyberTipline reports → suspects, networks, referrals. Metadata only, offline.",
)


@app.callback()
def main(
    ctx: typer.Context,
    database: Annotated[
        str | None,
        typer.Option(
            "--database", envvar="TIPFUSION_DATABASE_URL", help="SQLAlchemy URL (default sqlite:///tipfusion.db)"
        ),
    ] = None,
    acting_as: Annotated[
        str | None, typer.Option("--as", help="Actor recorded in the audit log (default: the OS user)")
    ] = None,
) -> None:
    settings = load_settings()
    if database:
        settings = settings.with_database(database)
    ctx.obj = AppContext(settings, acting_as, database_explicit=database is not None)


ingest.register(app)
synth.register(app)
admin.register(app)
demo.register(app)
enrich.register(app)
link.register(app)
exports.register(app)
triage.register(app)
route.register(app)
jurisdiction.register(app)
refer.register(app)
cases.register(app)
report.register(app)
lookup.register(app)


def run() -> None:
    """Entry point: map tipfusion errors to a message and an exit code, in one place.

    Usage errors are Typer's own (exit 2); a missing input path exits 2; TipfusionError subclasses carry
    their own exit codes (quarantine → 1, configuration → 2, not found → 3, broken audit chain → 4).
    """
    try:
        app()
    except TipfusionError as exc:
        err_console.print(f"[red]error:[/] {escape(str(exc))}", soft_wrap=True)  # `tipfusion[demo]` is no markup
        sys.exit(exc.exit_code)
    except FileNotFoundError as exc:
        err_console.print(f"[red]error:[/] {exc}", soft_wrap=True)
        sys.exit(2)
