"""Who the command line acts as: an authenticated account when the store has accounts, else the OS user.

Nobody may name themselves in the audit log. A store with accounts needs `tipfusion login` first: the session token
is kept in a file only its owner can read (0600, in a 0700 folder under the user's state directory, one file per
store), and each command resumes that session, so its audit entries carry the account's name. A store without
accounts (a workstation that never made one) records the operating-system user as `os:NAME` — marked, so it is never
mistaken for an account.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tipfusion.errors import ConfigurationError, TipfusionError
from tipfusion.private import FILE_MODE, FOLDER_MODE

if TYPE_CHECKING:
    from tipfusion.accounts.principal import Principal
    from tipfusion.storage import Engine


class LoginRequired(TipfusionError):
    """The store has accounts and this terminal has no live session for it."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class Identity:
    actor: str  # what the audit log records
    principal: Principal | None  # the account, when the store has accounts


def state_dir() -> Path:
    """`TIPFUSION_STATE_DIR`, else `$XDG_STATE_HOME/tipfusion`, else `~/.local/state/tipfusion`."""
    explicit = os.environ.get("TIPFUSION_STATE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "tipfusion"


def store_key(url: str) -> str:
    """One name per store, whatever way its URL is written (a SQLite file by its real path)."""
    from tipfusion.storage import parse_url

    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        ident = f"sqlite:{Path(parsed.database or '').resolve()}"
    else:
        query = "&".join(f"{k}={v}" for k, v in sorted(parsed.query.items()))
        ident = (
            f"postgresql:{parsed.username}@{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database}?{query}"
        )
    return hashlib.sha256(ident.encode()).hexdigest()[:32]


def session_file(url: str) -> Path:
    return state_dir() / "sessions" / f"{store_key(url)}.json"


def save_session(url: str, username: str, token: str) -> Path:
    """Write the session token readable by its owner only (the folder 0700, the file 0600)."""
    from tipfusion.storage import where

    path = session_file(url)
    path.parent.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
    os.chmod(path.parent, FOLDER_MODE)
    data = json.dumps({"store": where(url), "username": username, "token": token})
    temp = path.with_suffix(".tmp")
    descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(data)
    os.replace(temp, path)
    return path


def read_session(url: str) -> tuple[str, str] | None:
    """(username, token) of this terminal's session on the store, if a file is there. A file others can read is
    refused (like ssh does with a private key): its token may have leaked."""
    path = session_file(url)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(
            f"{path}: readable by others (mode {stat.S_IMODE(mode):o}); remove it and log in again with "
            "`tipfusion login`"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return str(data["username"]), str(data["token"])
    except (ValueError, KeyError, TypeError):
        return None


def forget_session(url: str) -> str | None:
    """Remove this terminal's session file; returns its token (for the server side to be ended too)."""
    found = None
    with contextlib.suppress(ConfigurationError):
        found = read_session(url)
    session_file(url).unlink(missing_ok=True)
    return found[1] if found else None


def resolve(engine: Engine, url: str, claimed: str | None) -> Identity:
    """The acting identity for this command (see the module docstring). `claimed` is `--as`: it may only repeat the
    logged-in account's name, never choose one."""
    from tipfusion.accounts.service import has_accounts, resume_session
    from tipfusion.audit.log import current_actor

    if not has_accounts(engine):
        if claimed:
            raise ConfigurationError(
                f"--as {claimed!r}: this store has no accounts, so the audit log records the operating-system user "
                f"({current_actor()}); create accounts with `tipfusion users create` and act as one with "
                "`tipfusion login`"
            )
        return Identity(current_actor(), None)
    found = read_session(url)
    session = resume_session(engine, found[1]) if found else None
    if session is None or session.kind != "cli":
        if found:
            forget_session(url)
        raise LoginRequired(
            "this store has accounts: log in first with `tipfusion login`"
            + (" (the last session has ended)" if found else "")
        )
    if claimed and claimed.strip().lower() != session.principal.username:
        raise ConfigurationError(
            f"--as {claimed!r}: you are logged in as {session.principal.username!r}; "
            "log in as the other account to act as it"
        )
    return Identity(session.principal.username, session.principal)
