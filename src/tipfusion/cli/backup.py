"""`tipfusion backup DEST`, `tipfusion restore SRC`, `tipfusion purge --before DATE --reason TEXT`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from tipfusion.cli.audit import KeyOption, print_checkpoints, trusted_keys
from tipfusion.cli.context import AppContext, console
from tipfusion.errors import IntegrityFailure

if TYPE_CHECKING:
    from tipfusion.storage import StoreCheck


def _print_check(check: StoreCheck, have_key: bool) -> None:
    for problem in check.problems:
        console.print(f"[red]{escape(problem)}[/]", soft_wrap=True)
    rows = sum(check.counts.values())
    console.print(
        f"{len(check.counts)} tables, {rows:,} rows; audit chain {'intact' if check.chain.ok else 'BROKEN'}: "
        f"{check.chain.count:,} entries, head {check.chain.head_hash}; evidence: {check.evidence.documents:,} "
        f"source documents ({check.evidence.bytes:,} bytes) re-hashed"
        + (f", {check.evidence.purged:,} purged by retention" if check.evidence.purged else ""),
        soft_wrap=True,
    )
    print_checkpoints(check.checkpoints, have_key)


def backup(
    ctx: typer.Context,
    dest: Annotated[Path, typer.Argument(help="New (or empty) folder for the backup; never overwritten")],
    key: KeyOption = None,
) -> None:
    """Back up the whole store (source documents included) into DEST, checked: counts, audit chain, evidence.

    SQLite: the online backup API (others may keep working). PostgreSQL: pg_dump, custom format. DEST appears only
    when the backup is complete.
    """
    from tipfusion.storage import backup as run_backup

    app: AppContext = ctx.obj
    app.output(dest, "DEST")
    engine = app.ready_engine()
    keys = trusted_keys(app, key)
    app.banner()
    # the actor is resolved before the write transaction: resolving reads the store on its own connection
    result = run_backup(engine, app.actor, dest, keys)
    _print_check(result.check, bool(keys))
    console.print(f"backup written: {escape(str(result.file))} ({result.size:,} bytes, sha256 {result.sha256})")


def restore(
    ctx: typer.Context,
    src: Annotated[Path, typer.Argument(help="A folder written by `tipfusion backup`", exists=True, file_okay=False)],
    key: KeyOption = None,
) -> None:
    """Restore a backup into the configured store, which must be empty; then check it against the backup's record."""
    from tipfusion.storage import record_restore
    from tipfusion.storage import restore as run_restore

    app: AppContext = ctx.obj
    keys = trusted_keys(app, key)
    result = run_restore(app.settings.database_url, src, keys)
    _print_check(result.check, bool(keys))
    # the actor only now: resolving the account opens the store, which had to be empty until the restore
    record_restore(app.settings.database_url, app.actor, src, result)
    if not result.check.ok:
        raise IntegrityFailure(f"the restored store differs from the backup ({len(result.check.problems)} problem(s))")
    console.print(
        f"restored {escape(str(src))} into {escape(result.target)}: every table's rows as the backup recorded",
        soft_wrap=True,
    )


def purge(
    ctx: typer.Context,
    before: Annotated[str, typer.Option("--before", help="Remove the bytes of documents received before this date")],
    reason: Annotated[str, typer.Option("--reason", help="Why (the retention rule): kept with the record")],
) -> None:
    """Retention: remove the stored bytes of source documents received before DATE; hashes and names are kept.

    Documents waiting in quarantine keep their bytes. `verify --evidence` then reports the removed ones as purged.
    """
    from tipfusion.storage import purge

    app: AppContext = ctx.obj
    moment = app.moment(before, "--before")
    engine = app.ready_engine()
    app.banner()
    result = purge(engine, app.actor, moment, reason)
    console.print(
        f"purged the bytes of {result.documents:,} source document(s) received before {app.time(moment)} "
        f"({result.bytes:,} bytes); their hashes, names and sizes are kept"
        + (
            f"; {result.kept_in_quarantine:,} waiting in quarantine kept their bytes"
            if result.kept_in_quarantine
            else ""
        ),
        soft_wrap=True,
    )


def register(app: typer.Typer) -> None:
    app.command("backup")(backup)
    app.command("restore")(restore)
    app.command("purge")(purge)
