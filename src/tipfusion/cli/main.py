"""`tipfusion`: the command-line shell over the services. Domain logic lives in the packages, not here."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from tipfusion.cli import (
    admin,
    backup,
    cases,
    config,
    demo,
    enrich,
    exports,
    ingest,
    jurisdiction,
    keys,
    link,
    lookup,
    refer,
    report,
    route,
    synth,
    triage,
    users,
)
from tipfusion.cli.context import AppContext, console, err_console, safe
from tipfusion.config import load_settings
from tipfusion.errors import TipfusionError

if TYPE_CHECKING:
    from tipfusion.keys.signing import Signer

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="tipfusion: CyberTipline reports → suspects, networks, referrals. Metadata only, offline.",
)


def _version(value: bool) -> None:
    if value:
        from tipfusion import __version__

        console.print(f"tipfusion {__version__}")
        raise typer.Exit()


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
        str | None,
        typer.Option(
            "--as",
            help="Check that the command acts as this account (it must be the one `tipfusion login` opened; "
            "nobody may choose the name the audit log records)",
        ),
    ] = None,
    _show_version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit")
    ] = False,
) -> None:
    settings = load_settings()
    if database is not None:
        settings = settings.with_database(database)
    ctx.obj = AppContext(settings, acting_as, database_explicit=database is not None)
    from tipfusion.audit import signing_with

    def signer() -> Signer | None:  # cryptography loads only when a checkpoint is written
        from tipfusion.keys.signing import load_signer

        return load_signer(settings)

    ctx.with_resource(signing_with(signer))  # audit checkpoints signed for this command


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
keys.register(app)
users.register(app)
backup.register(app)
config.register(app)


def run() -> None:
    """Entry point: map every error a user can cause to one line and an exit code, in one place.

    Usage errors are Typer's own (exit 2); a missing input path exits 2; TipfusionError subclasses carry
    their own exit codes (refusal, quarantine → 1, configuration → 2, not found → 3, broken audit chain → 4, an altered
    package or stored document → 5);
    a database that fails mid-command is one line (exit 1), never a traceback with a password in it.
    """
    try:
        app()
    except TipfusionError as exc:
        _fail(str(exc), exc.exit_code)
    except BrokenPipeError:  # `tipfusion … | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    except FileNotFoundError as exc:
        _fail(str(exc), 2)
    except OSError as exc:  # a folder that cannot be written, a path that is a directory…
        _fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc), 1)
    except Exception as exc:
        message = _database_error(exc)
        if message is None:
            raise
        _fail(message, 1)


def _fail(message: str, code: int) -> NoReturn:
    err_console.print(f"[red]error:[/] {safe(message)}", soft_wrap=True)
    sys.exit(code)


def _database_error(exc: Exception) -> str | None:
    """One line for a database that went away or refused mid-command (the driver's own words, no SQL)."""
    if "sqlalchemy" not in sys.modules:
        return None
    from sqlalchemy.exc import OperationalError

    if not isinstance(exc, OperationalError):
        return None
    detail = str(exc.orig if exc.orig is not None else exc).strip().splitlines()
    return f"the store failed: {detail[0] if detail else type(exc).__name__}"
