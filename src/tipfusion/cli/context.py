"""What every command needs: settings, an engine, the actor, and one place that prints errors."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Column, Table

from tipfusion import clock
from tipfusion.config import Settings
from tipfusion.errors import ConfigurationError, InputRefused

if TYPE_CHECKING:
    from tipfusion.accounts.principal import Principal
    from tipfusion.cli.identity import Identity
    from tipfusion.storage import Engine

_WIDTH = None if sys.stdout.isatty() else int(os.environ.get("COLUMNS", "160"))
console = Console(highlight=False, width=_WIDTH)
err_console = Console(stderr=True, highlight=False)

SYNTHETIC_BANNER = "[bold yellow]SYNTHETIC DATA[/] — this store holds generated test data, not real reports."

# C0 and C1 controls (ESC starts a terminal sequence, a newline forges a line) and the bidirectional overrides that
# make a name read backwards: shown as visible escapes, never sent to the terminal
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def safe(value: object) -> str:
    """Untrusted text as the terminal must show it: literally, on one line.

    File and zip member names, report values, actors and error messages come from outside; Rich would read
    `a[/b].xml` as markup (and crash on it), and an ESC or a newline would reach the terminal raw (recolouring it,
    or forging a line of `audit list`). Every such string goes through here before it is printed or put in a table.
    """
    text = "" if value is None else str(value)
    return escape(_UNPRINTABLE.sub(_visible, text))


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


# progress(what, done, total): what a long step reports as it goes; total None while it is not known
Progress = Callable[[str, int, int | None], None]


@dataclass
class AppContext:
    settings: Settings
    actor_override: str | None = None
    database_explicit: bool = False
    may_create: bool = False  # only the commands that fill a store (ingest, demo, db upgrade) may start a new one

    @property
    def actor(self) -> str:
        """Who the audit log records: the logged-in account, or `os:NAME` on a store without accounts."""
        return self.identity.actor

    @property
    def identity(self) -> Identity:
        """The acting account (resolved once per command, against the store now in use; see `cli.identity`)."""
        from tipfusion.cli.identity import resolve

        key = self.settings.database_url
        cached = self.__dict__.get("_identity")
        if cached is None or cached[0] != key:
            engine = self.ready_engine(identify=False)
            found = resolve(engine, key, self.actor_override)
            if found.principal is not None:  # an account acts: its role must allow this command (`accounts.policy`)
                from tipfusion.accounts.guard import authorize_command

                authorize_command(engine, found.principal, command_name())
            cached = (key, found)
            self.__dict__["_identity"] = cached
        identity: Identity = cached[1]
        return identity

    @property
    def principal(self) -> Principal:
        """Who the scoped services see: the logged-in account, or on a store without accounts the workstation's
        own user (`os:NAME`), who holds the whole store as before accounts existed."""
        from tipfusion.accounts.principal import Principal, Role

        found = self.identity.principal
        return found if found is not None else Principal(username=self.actor, role=Role.ADMIN)

    def require_admin(self, what: str, *, unless_self: str | None = None) -> None:
        """On a store with accounts, only an admin (or the account itself, where `unless_self` names it) may do this
        (`accounts.policy.may_manage_account`)."""
        from tipfusion.accounts.policy import may_manage_account

        principal = self.identity.principal
        if principal is None or may_manage_account(principal, unless_self):
            return
        raise InputRefused(f"{what}: only an admin may do this (you are {principal.username}, {principal.role})")

    @cached_property
    def engine(self) -> Engine:
        """The store's engine, opened once: a store that cannot be reached is one line naming where, not a
        traceback from the first query."""
        from tipfusion.storage import open_store

        return open_store(self.settings.database_url, may_create=self.may_create)

    def ready_engine(self, *, create: bool = False, identify: bool = True) -> Engine:
        """The engine with its schema at head (migrations run automatically); says so when the store is new.

        `create`: this command may start a new SQLite store (ingest, demo, the first `users create`); the others
        refuse a path that holds none, so a typo in --database is named instead of answered from an empty store.

        It also settles who is acting (`identity`) now, before the command opens a transaction: on SQLite every
        transaction takes the write lock, so looking the session up later, inside the command's own transaction,
        would wait on itself. `identify=False` is for the commands that run before or without a login (`login`,
        `logout`, `serve`).
        """
        from tipfusion.storage import ensure_schema, where

        if create:
            self.may_create = True
        if "_ready" not in self.__dict__:
            if ensure_schema(self.engine) is None:
                err_console.print(f"created a new store at {where(self.settings.database_url)}", soft_wrap=True)
            self.__dict__["_ready"] = True
        if identify:
            _ = self.identity
        return self.engine

    def store_if_any(self) -> Engine | None:
        """The ready engine when there is a store to read, None when the SQLite file is not there: for commands
        that are whole without a store (checking a package a station received) and only add what it records."""
        from tipfusion.storage import sqlite_file

        path = sqlite_file(self.settings.database_url)
        if path is not None and not path.exists() and not self.may_create:
            return None
        return self.ready_engine()

    def record_view(self, listing: str, details: dict[str, Any], *, read_only_store_ok: bool = False) -> None:
        """A read command's entry in the audit log, with the acting account: `view.list` of `listing`, as the web
        writes for the same list. `read_only_store_ok`: on a store this account may only read (a copy handed to an
        auditor), the command still answers and says its view is not recorded; otherwise the read fails there."""
        from tipfusion.audit import UnitOfWork
        from tipfusion.storage import is_read_only_failure

        actor = self.actor  # resolved before the write transaction (resolving reads on its own connection)
        try:
            with UnitOfWork(self.ready_engine(), actor) as uow:
                uow.record("view.list", "list", listing, details)
        except Exception as exc:
            if not read_only_store_ok or not is_read_only_failure(exc):
                raise
            err_console.print("note: the store is read-only, so this view is not in its audit log", soft_wrap=True)

    def banner(self) -> None:
        """Say so when the store holds synthetic data: on every output."""
        from tipfusion.storage import is_synthetic

        if is_synthetic(self.ready_engine()):
            console.print(SYNTHETIC_BANNER)

    # -- dates and times: one parser for every option, one format for every table ----------------------------
    def moment(self, text: str, option: str, *, end: bool = False) -> datetime:
        """A date/time option as people write it (see `clock.parse_moment`); a usage error naming the option."""
        profile = self.settings.profile
        try:
            return clock.parse_moment(text, profile.zone, profile.country, end=end)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint=option) from None

    def day(self, text: str, option: str) -> date:
        """A date option (FIR date, arrest date…) as people write it."""
        profile = self.settings.profile
        try:
            return clock.parse_day(text, profile.zone, profile.country)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint=option) from None

    def time(self, moment: datetime | str | None) -> str:
        """A moment for a table: to the minute, in the unit's zone, zone named."""
        return clock.show_time(moment, self.settings.profile.zone)

    @property
    def date_forms(self) -> str:
        return clock.forms(self.settings.profile.country)

    def output(self, path: Path, option: str = "--output") -> Path:
        """Every file or folder a user names for writing passes here: see `refuse_store_output`."""
        return refuse_store_output(self.settings, path, option)


def command_name() -> str:
    """The command being run, as `accounts.policy.COMMANDS` names it (`cases advance`, `export reports`, `link`)."""
    import importlib

    # the click Typer runs on (Typer 0.29 carries its own copy): its stack of running commands
    core = next(c for c in typer.Context.__mro__ if c.__module__.endswith(".core")).__module__
    stack = importlib.import_module(core.rsplit(".", 1)[0] + ".globals")
    names = []
    ctx = stack.get_current_context(silent=True)
    while ctx is not None and ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(reversed(names))


def refuse_store_output(settings: Settings, path: Path, option: str = "--output") -> Path:
    """Refuse to write over the store: `export … --output tipfusion.db` truncated it, and a write over its WAL or
    shared-memory file corrupts it. The one guard every command that writes a file (or a folder) given by the user
    calls before writing; links are resolved, so another name for the store is refused too."""
    from tipfusion.errors import InputRefused
    from tipfusion.storage import store_files

    target = os.path.realpath(path)
    for part in store_files(settings.database_url):
        if target == os.path.realpath(part):
            raise InputRefused(
                f"{option} {path}: that is the store's own file ({part.name}); writing there would destroy the store. "
                "Choose another path.",
                option,
            )
    return path


@contextmanager
def progress(label: str, total: int | None = None) -> Iterator[Progress]:
    """One progress display for every long command (rich, on stderr's terminal only; silent when piped).

    Yields `update(what, done, total)`; a step that cannot count shows a spinner with what it is doing.
    """
    if not err_console.is_terminal:  # piped or logged: no animation, no stray blank lines
        yield lambda _what, _done, _total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    with Bar(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=total)

        def update(what: str, done: int, of: int | None) -> None:
            bar.update(task, description=f"{label}: {what}" if what else label, completed=done, total=of)

        yield update


# -- tables that fit ---------------------------------------------------------------------------------------------
_READABLE = 10  # narrowest a wrapping column may get before the table turns into one block per row


class OutputFormat(StrEnum):
    """`--format` of the look-up commands: text for people, JSON (everything) for machines."""

    text = "text"
    json = "json"


FormatOption = Annotated[OutputFormat, typer.Option("--format", help="text for people, json for everything")]


def present(app: AppContext, fmt: OutputFormat, data: Any, printer: Callable[[Any], None]) -> None:
    """An audited view's answer: all of it as JSON, or the banner and the printed view for people."""
    if fmt is OutputFormat.json:
        print(json.dumps(data, indent=1, ensure_ascii=False, default=str))
        return
    app.banner()
    printer(data)


def whole(header: str) -> Column:
    """A column for what a user copies (ids, references, paths): never wrapped, never cut."""
    return Column(header, no_wrap=True)


def wrapping(header: str) -> Column:
    """A column of free text: wraps, and folds words too long for it."""
    return Column(header, overflow="fold")


def show(table: Table, out: Console | None = None) -> None:
    """Print a table so that nothing a user must copy is cut.

    Ids, references and paths sit in `whole` columns. When the terminal cannot fit them plus a readable width
    for every other column, each row is printed as a block of `header: value` lines instead (values unwrapped).
    """
    out = out or console
    for column in table.columns:  # what has to give wraps, folding long words: never an ellipsis
        if not column.no_wrap:
            column.overflow = "fold"
    widths = [_width(out, column) for column in table.columns]
    needed = 1 + sum(3 + (w if c.no_wrap else min(w, _READABLE)) for w, c in zip(widths, table.columns, strict=True))
    if needed <= out.width or not table.row_count:
        out.print(table)
        return
    if table.title:
        out.print(f"[bold]{table.title}[/]", soft_wrap=True)
    headers = [str(column.header) or f"column {n + 1}" for n, column in enumerate(table.columns)]
    for index in range(table.row_count):
        cells = [_cell(column, index) for column in table.columns]
        out.print(f"{headers[0]} [bold]{cells[0]}[/]", soft_wrap=True)
        for header, cell in zip(headers[1:], cells[1:], strict=True):
            if cell.strip():
                out.print(f"  {header}: {cell}", soft_wrap=True)


def _cell(column: Column, index: int) -> str:
    cell = list(column.cells)[index]
    return cell if isinstance(cell, str) else str(cell)


def _width(out: Console, column: Column) -> int:
    texts = [str(column.header), *(_cell(column, i) for i in range(len(list(column.cells))))]
    return max(out.render_str(text).cell_len for text in texts)


def few(values: list[Any], most: int = 8) -> str:
    """The first `most` values, and how many there are when some are left out."""
    shown = safe(", ".join(str(v) for v in values[:most]))
    return shown + (f" … ({len(values)})" if len(values) > most else "")


def setting_path(value: str | None, variable: str) -> Path | None:
    """A path from the settings (environment or TIPFUSION_CONFIG): it must exist, or the variable is named."""
    if not value:
        return None
    path = Path(value)
    if not path.exists():
        raise ConfigurationError(f"{variable}={value!r}: no such file or folder")
    return path


DATE_HELP = "YYYY-MM-DD, DD/MM/YYYY, today or yesterday"
