"""`tipfusion refer build | verify | list | export`: referral packages and their interop exports."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from tipfusion.cli.context import AppContext, console, progress, safe, setting_path, show, whole

if TYPE_CHECKING:
    from tipfusion.documents.manifest import BagCheck
    from tipfusion.refer.service import BuiltReferral

refer_app = typer.Typer(
    no_args_is_help=True, help="Referral packages for stations (DOCX, PDF, JSON, certificate; a signed BagIt bag)."
)


def print_built(built: list[BuiltReferral]) -> None:
    table = Table(whole("reference"), "kind", whole("subject"), "to", whole("case"), "seconds", title="Referrals built")
    for b in built:
        to = b.station or (f"District {b.district}" if b.district else "central unit")
        table.add_row(safe(b.reference), b.kind, safe(b.subject_id), safe(to), str(b.case_id), f"{b.seconds:.2f}")
    show(table)
    for b in built:  # folders in full, one a line: a path a user copies is never cut to fit a column
        console.print(f"{safe(b.reference)} → {safe(b.folder)}", soft_wrap=True)


@refer_app.command("build")
def refer_build(
    ctx: typer.Context,
    targets: Annotated[list[str] | None, typer.Argument(help="Suspect or network ids (S…, N…)")] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Folder for the packages (default: [referrals] output_dir, TIPFUSION_REFERRALS_DIR)"
        ),
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="Station (or district) instead of the routing decision")
    ] = None,
    top: Annotated[
        int,
        typer.Option(
            help="Also refer the queue's top N suspects not yet referred that routing placed at a station or district"
        ),
    ] = 0,
    include_central: Annotated[
        bool, typer.Option("--include-central", help="--top also takes suspects in the central queue")
    ] = False,
    operation: Annotated[str | None, typer.Option(help="Operation the referrals belong to")] = None,
) -> None:
    """Build a package per suspect or network; a subject with an open case gets a supplementary referral."""
    from tipfusion.refer.service import build_many, top_subjects

    app: AppContext = ctx.obj
    output = output or Path(app.settings.referrals_dir)
    app.output(output)
    setting_path(app.settings.templates_dir, "TIPFUSION_TEMPLATES_DIR")
    setting_path(app.settings.referral_statements, "TIPFUSION_REFERRAL_STATEMENTS")
    engine = app.ready_engine()
    picked = top_subjects(engine, top, include_central=include_central) if top else []
    if top and len(picked) < top and not include_central:
        console.print(
            f"{len(picked)} of the top {top}: no more suspects routed to a station or district are waiting "
            "(`tipfusion route` places them; --include-central adds the central queue)"
        )
    chosen = list(targets or []) + picked
    if not chosen:
        raise typer.BadParameter(
            "name suspects or networks to refer, or --top N (with --include-central for the central queue)",
            param_hint="TARGETS",
        )
    with progress("referral packages", len(chosen)) as update:
        built = build_many(engine, app.settings, app.actor, chosen, output, to, operation, update)
    app.banner()
    print_built(built)


@refer_app.command("verify")
def refer_verify(
    ctx: typer.Context,
    folder: Annotated[
        Path,
        typer.Argument(help="A package folder (a BagIt bag: a referral or a notice)", exists=True, file_okay=False),
    ],
    require_signature: Annotated[
        bool, typer.Option(help="Treat a package without a signature as failed (exit 5)")
    ] = False,
) -> None:
    """Prove a package unaltered: every part against its SHA-256, the manifest's signature, and the store's record."""
    from tipfusion.errors import IntegrityFailure
    from tipfusion.refer.verification import verify_package

    app: AppContext = ctx.obj
    engine = app.store_if_any()
    check, stored = verify_package(engine, folder)
    for name in check.altered:
        console.print(f"[red]ALTERED[/] {safe(name)}", soft_wrap=True)
    for name in check.missing:
        console.print(f"[red]MISSING[/] {safe(name)}", soft_wrap=True)
    for name in check.unlisted:
        console.print(f"[red]NOT IN THE MANIFEST[/] {safe(name)}", soft_wrap=True)
    print_signature(app, check)
    console.print(
        f"manifest {safe((check.manifest_sha256 or 'missing')[:16])}…: "
        + (
            f"issued by this store as {safe(stored)}"
            if stored
            else "[yellow]not issued by this store[/]"
            if engine is not None
            else "[yellow]not checked against a store's record[/] (no store here)"
        ),
        soft_wrap=True,
    )
    if not check.intact:
        raise IntegrityFailure(f"{folder}: the package has been altered")
    if check.signature == "invalid":
        raise IntegrityFailure(f"{folder}: the signature does not match the manifest")
    if require_signature and check.signature != "valid":
        raise IntegrityFailure(f"{folder}: no signature present, and --require-signature was given")
    signed = "and the signature is valid" if check.signature == "valid" else "(not signed)"
    console.print(f"[green]OK[/] {safe(folder)}: every part matches its SHA-256 {signed}", soft_wrap=True)


def print_signature(app: AppContext, check: BagCheck) -> None:
    """Say whether the manifest is signed, whether the signature holds, and whose key made it."""
    from tipfusion.documents.manifest import SIGNATURE
    from tipfusion.keys.signing import load_signer

    if check.signature == "absent":
        console.print(
            f"[yellow]NO SIGNATURE[/]: no {SIGNATURE} — the hashes show the parts match the manifest, not who wrote it",
            soft_wrap=True,
        )
        return
    if check.signature == "invalid":
        console.print(f"[red]SIGNATURE DOES NOT MATCH[/]: {safe(check.signature_problem)}", soft_wrap=True)
        return
    signer = load_signer(app.settings)
    whose = (
        "this unit's configured key"
        if signer is not None and signer.fingerprint == check.key_fingerprint
        else "a key that is not this unit's configured one: compare it with the fingerprint the sender published"
    )
    console.print(f"[green]signature valid[/]: key {safe(check.key_fingerprint)} ({whose})", soft_wrap=True)


@refer_app.command("list")
def refer_list(ctx: typer.Context) -> None:
    """Referrals built so far."""
    from tipfusion.refer.service import referral_rows

    app: AppContext = ctx.obj
    rows = referral_rows(app.ready_engine())
    app.banner()
    table = Table(
        whole("reference"),
        "kind",
        whole("subject"),
        "suspects",
        "district",
        "station",
        whole("operation"),
        "built",
        title="Referrals",
    )
    for r in rows:
        table.add_row(
            safe(r["reference"]),
            safe(r["kind"]),
            safe(r["subject"]),
            str(r["suspects"]),
            safe(r["district"]),
            safe(r["station"]),
            safe(r["operation"]),
            app.time(r["built_at"]),
        )
    show(table)


def register(app: typer.Typer) -> None:
    app.add_typer(refer_app, name="refer")
