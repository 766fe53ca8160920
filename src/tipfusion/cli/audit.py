"""`tipfusion audit list | verify`, `tipfusion verify`: the tamper-evident audit log (--evidence: the documents)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from tipfusion.cli.context import AppContext, console, safe, show, whole
from tipfusion.errors import AuditChainBroken, IntegrityFailure

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from tipfusion.audit import CheckpointReport
    from tipfusion.audit.evidence import EvidenceReport

audit_app = typer.Typer(no_args_is_help=True, help="The tamper-evident audit log.")


KeyOption = Annotated[
    list[Path] | None,
    typer.Option("--key", help="Also trust this public key (PEM) for checkpoints, e.g. the unit's earlier key"),
]


def trusted_keys(app: AppContext, extra: list[Path] | None) -> list[Ed25519PublicKey]:
    """The configured key's public half, and any public keys named on the command line."""
    from tipfusion.keys.signing import load_signer, read_public

    signer = load_signer(app.settings)
    return ([signer.public_key] if signer else []) + [read_public(p) for p in extra or []]


def check_audit(app: AppContext, keys: list[Ed25519PublicKey]) -> list[str]:
    """Check the chain and its checkpoints, print what was found; return the problems."""
    from tipfusion.audit import verify, verify_checkpoints

    with app.ready_engine().connect() as conn:
        chain = verify(conn)
        points = verify_checkpoints(conn, keys)
    problems = [] if chain.ok else [f"audit chain broken at entry {chain.first_broken}: {chain.problem}"]
    problems += points.problems
    for problem in problems:
        console.print(f"[red]{safe(problem)}[/]", soft_wrap=True)
    if not problems:
        console.print(f"audit chain intact: {chain.count:,} entries; head hash {chain.head_hash}")
    print_checkpoints(points, bool(keys))
    return problems


def print_checkpoints(points: CheckpointReport, have_key: bool) -> None:
    """The last checkpoint (record it elsewhere: only an outside copy shows a cut below it) and what went unsigned."""
    last = points.last
    if last is None:
        console.print("[yellow]no checkpoint yet[/]: the next command that writes to the audit log records one")
        return
    state = {
        "valid": f"signed by {last.key_fingerprint} (signature valid)",
        "unsigned": "UNSIGNED",
        "unchecked": f"signed by {last.key_fingerprint} (not checked: no key configured; TIPFUSION_SIGNING_KEY or "
        "--key PUBLIC.pem)",
        "invalid": "SIGNATURE DOES NOT MATCH",
    }[points.last_signature]
    console.print(
        f"{points.checkpoints:,} checkpoint(s); the last, #{last.id} at {last.at.isoformat(timespec='seconds')}: "
        f"entry {last.seq}, hash {last.head_hash} — {state}",
        soft_wrap=True,
    )
    if points.unsigned:
        hint = "" if have_key else "; configure a key (`tipfusion keys create`, TIPFUSION_SIGNING_KEY) to sign them"
        console.print(
            f"[yellow]{points.unsigned:,} checkpoint(s) are unsigned[/] (written without a signing key"
            + (f"; {points.unsigned_after_signed:,} after signed ones" if points.unsigned_after_signed else "")
            + "): they show a truncation or a rewrite only if the checkpoints were left alone"
            + hint,
            soft_wrap=True,
        )


@audit_app.command("verify")
def audit_verify(ctx: typer.Context, key: KeyOption = None) -> None:
    """Check the hash chain and its signed checkpoints: name altered, inserted, removed or cut-off entries."""
    verify_store(ctx, evidence=False, key=key)  # `tipfusion verify` without --evidence


def verify_store(
    ctx: typer.Context,
    evidence: Annotated[
        bool, typer.Option("--evidence", help="Also re-hash every stored source document against its SHA-256")
    ] = False,
    key: KeyOption = None,
) -> None:
    """Check the store: the audit log and its checkpoints; with --evidence, every stored source document's bytes."""
    app: AppContext = ctx.obj
    app.banner()
    problems = check_audit(app, trusted_keys(app, key))
    report = check_evidence(app) if evidence else None
    if problems:
        raise AuditChainBroken(f"the audit log fails verification ({len(problems)} problem(s), listed above)")
    if report is not None and not report.ok:
        raise IntegrityFailure(f"{len(report.differ)} stored source document(s) no longer match their SHA-256")


def check_evidence(app: AppContext) -> EvidenceReport:
    from tipfusion.audit import UnitOfWork
    from tipfusion.audit.evidence import rehash_sources

    engine = app.ready_engine()
    with engine.connect() as conn:
        report = rehash_sources(conn)
    for item in report.differ:
        found = f"; its bytes hash to {item.found}" if item.found else ""
        console.print(
            f"[red]ALTERED[/] {safe(item.name)} (stored as {item.sha256}): {safe(item.reason)}{found}", soft_wrap=True
        )
    purged = f"; {report.purged:,} purged by retention (hash and name kept)" if report.purged else ""
    if report.ok:
        console.print(
            f"evidence intact: {report.documents:,} source documents ({report.bytes:,} bytes) re-hashed{purged}"
        )
    summary = {
        "documents": report.documents,
        "bytes": report.bytes,
        "purged": report.purged,
        "differ": [d.sha256 for d in report.differ],
    }
    with UnitOfWork(engine, app.actor) as uow:
        uow.record("evidence.verified", "store", "source_documents", summary)
    return report


@audit_app.command("list")
def audit_list(ctx: typer.Context, limit: Annotated[int, typer.Option(help="Latest N entries")] = 20) -> None:
    """Show the latest audit entries."""
    from tipfusion.audit.log import latest

    app: AppContext = ctx.obj
    with app.ready_engine().connect() as conn:
        rows = latest(conn, limit)
    app.record_view("audit log", {"limit": limit, "rows": len(rows)})
    app.banner()
    table = Table(whole("seq"), "time", whole("actor"), whole("action"), whole("object"), title="Audit log")
    for row in rows:
        table.add_row(
            str(row.seq),
            app.time(row.at),
            safe(row.actor),
            safe(row.action),
            safe(f"{row.object_type} {row.object_id}"),
        )
    show(table)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
    app.command("verify")(verify_store)
