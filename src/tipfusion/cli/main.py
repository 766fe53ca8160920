"""`tipfusion`: the command-line shell over the services. Domain logic lives in the packages, not here."""

from __future__ import annotations

import errno
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
    hashlist,
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
    from tipfusion.private import private_files

    ctx.with_resource(private_files())  # the store, exports, packages and backups: 0600 files, 0700 folders
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
hashlist.register(app)


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
    except OSError as exc:  # a folder that cannot be written, a path that is a directory, a full disk…
        _fail(_os_error(exc), 1)
    except Exception as exc:
        message = _database_error(exc)
        if message is None:
            raise
        _fail(message, 1)


def _fail(message: str, code: int) -> NoReturn:
    err_console.print(f"[red]error:[/] {safe(message)}", soft_wrap=True)
    sys.exit(code)


_RESUME = "what was committed before is kept and whole; run the command again to do the rest"


def _os_error(exc: OSError) -> str:
    """A file the command could not write or read, named, with what to do about a full disk."""
    cause = exc.strerror or str(exc)
    where = f": {exc.filename}" if exc.filename else ""
    if exc.errno == errno.ENOSPC:
        return f"the disk is full ({cause}{where}): free some space; {_RESUME}"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"cannot write or read here ({cause}{where}): check the folder's permissions or pick another path"
    return f"{cause}{where}"


def _database_error(exc: Exception) -> str | None:
    """One line for a database that went away or refused mid-command (the driver's own words, no SQL).

    The unfinished transaction was rolled back, so the store holds what was committed before and nothing half-way:
    the line says so, and what to do.
    """
    if "sqlalchemy" not in sys.modules:
        return None
    from sqlalchemy.exc import DBAPIError

    if not isinstance(exc, DBAPIError) or not _is_fault(exc):
        return None
    detail = str(exc.orig if exc.orig is not None else exc).strip().splitlines()
    said = detail[0] if detail else type(exc).__name__
    lowered = said.lower()
    if "disk is full" in lowered or "no space left" in lowered or "could not extend file" in lowered:
        return f"the store failed: the disk is full ({said}); free some space; {_RESUME}"
    if "readonly database" in lowered or "read-only" in lowered:
        return f"the store failed: it is read-only ({said}); nothing was changed; use a store this account can write"
    return f"the store failed: {said}; {_RESUME}"


def _is_fault(exc: Exception) -> bool:
    """A fault of the store or its connection (not a bug in a query): a dropped connection, a full disk, a lock."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DBAPIError) and bool(getattr(exc, "connection_invalidated", False))
