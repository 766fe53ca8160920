"""`tipfusion keys create | show | export`: the unit's Ed25519 signing key."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tipfusion.cli.context import AppContext, console, safe
from tipfusion.cli.exports import public_key
from tipfusion.errors import ConfigurationError

if TYPE_CHECKING:
    from tipfusion.keys.signing import Signer

keys_app = typer.Typer(no_args_is_help=True, help="The unit's signing key (Ed25519): packages and audit checkpoints.")


def configured(app: AppContext) -> Signer:
    """The unit's configured key, or a one-line error that says how to make or name one."""
    from tipfusion.keys.signing import load_signer

    signer = load_signer(app.settings)
    if signer is None:
        raise ConfigurationError(
            "no signing key configured: set TIPFUSION_SIGNING_KEY (or signing_key in the TOML file) to the private "
            "key's path, or create one with `tipfusion keys create`"
        )
    return signer


@keys_app.command("create")
def keys_create(
    ctx: typer.Context,
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for the key pair (default: where TIPFUSION_SIGNING_KEY says)")
    ] = None,
) -> None:
    """Make the unit's key pair: the private key (PEM, mode 0600) and its public half; never overwrites a key."""
    from tipfusion.audit import UnitOfWork
    from tipfusion.keys.signing import create_key, key_location, public_path

    app: AppContext = ctx.obj
    location = key_location(app.settings, app.output(out, "--out") if out is not None else None)
    engine = app.ready_engine(create=True)  # setting up a unit: the key may come before any batch
    signer = create_key(location)
    with UnitOfWork(engine, app.actor) as uow:
        uow.record("key.created", "signing_key", signer.fingerprint, {"path": str(signer.path)})
    console.print(
        f"private key → {safe(signer.path)} (mode 0600: keep it on this machine, and a copy offline)", soft_wrap=True
    )
    console.print(f"public key  → {safe(public_path(signer.path))} (for stations and ISPs)", soft_wrap=True)
    console.print(f"fingerprint   {signer.fingerprint}", soft_wrap=True)
    if app.settings.signing_key is None or Path(app.settings.signing_key) != signer.path:
        console.print(f"to sign with it: export TIPFUSION_SIGNING_KEY={safe(signer.path.resolve())}", soft_wrap=True)


@keys_app.command("show")
def keys_show(
    ctx: typer.Context,
    key: Annotated[
        Path | None, typer.Option("--key", help="A key file (public or private PEM) instead of the configured key")
    ] = None,
) -> None:
    """Print the key's fingerprint (SHA-256 of the raw public key), to publish and to compare with a package's."""
    from tipfusion.keys.signing import fingerprint, read_public

    app: AppContext = ctx.obj
    if key is not None:
        console.print(f"{safe(key)}: {fingerprint(read_public(key))}", soft_wrap=True)
        return
    signer = configured(app)
    console.print(f"{safe(signer.path)}: {signer.fingerprint}", soft_wrap=True)


def register(app: typer.Typer) -> None:
    keys_app.command("export")(public_key)  # every export lives in cli/exports
    app.add_typer(keys_app, name="keys")
