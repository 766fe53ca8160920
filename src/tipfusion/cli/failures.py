"""Every error a user can cause, as one line and an exit code: the mapping the entry point applies, in one place."""

from __future__ import annotations

import errno
import os
import sys
from typing import NoReturn

import typer

from tipfusion.cli.context import err_console, safe
from tipfusion.errors import TipfusionError


def guarded(app: typer.Typer) -> None:
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
    if "sqlalchemy" not in sys.modules:  # no store was opened: the error cannot be the store's
        return None
    from tipfusion.storage import fault_words

    said = fault_words(exc)
    if said is None:
        return None
    lowered = said.lower()
    if "disk is full" in lowered or "no space left" in lowered or "could not extend file" in lowered:
        return f"the store failed: the disk is full ({said}); free some space; {_RESUME}"
    if "readonly database" in lowered or "read-only" in lowered:
        return f"the store failed: it is read-only ({said}); nothing was changed; use a store this account can write"
    return f"the store failed: {said}; {_RESUME}"
