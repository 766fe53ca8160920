"""`tipfusion`: the command-line shell over the services. Domain logic lives in the packages, not here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from tipfusion.cli import (
    audit,
    backup,
    cases,
    config,
    db,
    demo,
    enrich,
    exports,
    hashlist,
    ingest,
    jurisdictions,
    keys,
    leads,
    link,
    network,
    operation,
    override,
    quarantine,
    queue,
    refer,
    report,
    requests,
    route,
    search,
    serve,
    session,
    status,
    suspect,
    synth,
    triage,
    users,
)
from tipfusion.cli.context import AppContext, console
from tipfusion.cli.failures import guarded
from tipfusion.config import load_settings
from tipfusion.memory import collect_less_often

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
quarantine.register(app)
synth.register(app)
db.register(app)
status.register(app)
audit.register(app)
demo.register(app)
enrich.register(app)
link.register(app)
override.register(app)
network.register(app)
exports.register(app)
triage.register(app)
queue.register(app)
leads.register(app)
requests.register(app)
jurisdictions.register(app)
route.register(app)
refer.register(app)
cases.register(app)
operation.register(app)
report.register(app)
search.register(app)
suspect.register(app)
keys.register(app)
users.register(app)
serve.register(app)
session.register(app)
backup.register(app)
config.register(app)
hashlist.register(app)


def run() -> None:
    """Entry point: `tipfusion` with every error a user can cause mapped to one line and an exit code (`failures`)."""
    collect_less_often()  # the commands' modules are imported: see `tipfusion.memory`
    guarded(app)
