"""`tipfusion ingest` and `tipfusion quarantine …`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from tipfusion.cli.context import AppContext, console, progress, safe, show, whole, wrapping

if TYPE_CHECKING:
    from tipfusion.ingest import IngestSummary

quarantine_app = typer.Typer(no_args_is_help=True, help="Documents that could not land: list, show, retry.")


def _names(names: list[str], shown: int = 20) -> str:
    """Names after a count: all of them, or the first `shown` and how many more, never fewer without saying so."""
    more = len(names) - shown
    return ", ".join(safe(name) for name in names[:shown]) + (
        f" … and {more} more (named in the ingest run's summary)" if more > 0 else ""
    )


def print_summary(summary: IngestSummary) -> None:
    table = Table("what", "value", title="Ingest summary")
    for label, value in [
        ("documents read", summary.documents),
        ("new documents stored", summary.new_documents),
        ("reports accepted (new)", summary.accepted),
        ("reports updated (new version)", summary.updated),
        ("duplicates (already held)", summary.duplicates),
        ("quarantined", summary.quarantined),
        ("skipped (not read)", len(summary.skipped)),
        ("fileDetails waiting for their report", summary.waiting_file_details),
        ("fileDetails attached from earlier batches", summary.attached_file_details),
        ("lead identifiers stored", summary.lead_identifiers),
        ("unknown fields / values kept", summary.unknown_fields),
        ("seconds", f"{summary.seconds:.1f}"),
        ("reports/s", f"{summary.reports_per_second:,.0f}"),
    ]:
        table.add_row(label, str(value))
    show(table)
    if summary.issues:
        console.print("notes: " + ", ".join(f"{safe(code)} ×{n}" for code, n in summary.issues.most_common()))
    if summary.reference_skipped:
        console.print(
            f"skipped {len(summary.reference_skipped)} reference file(s) (not tips; load them "
            "with tipfusion enrich or tipfusion jurisdictions import): " + _names(summary.reference_skipped),
            soft_wrap=True,
        )
    if summary.skipped:
        console.print(
            f"skipped {len(summary.skipped)} item(s), not read: " + safe(_names(summary.skipped)), soft_wrap=True
        )
    for line in summary.rejected[:20]:
        console.print(f"[red]quarantined[/] {safe(line)}", soft_wrap=True)
    if len(summary.rejected) > 20:
        console.print(f"… and {len(summary.rejected) - 20} more: tipfusion quarantine list")


def ingest(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Files, directories (recursive) or .zip batches", exists=True)],
) -> None:
    """Ingest CyberTipline reports (ESP XML, police JSON) and lead lists (CSV). Exit 1 if anything was quarantined."""
    from tipfusion.ingest import IngestService

    app: AppContext = ctx.obj
    service = IngestService(app.ready_engine(create=True), app.settings, app.actor)
    with progress("ingesting") as update:
        summary = service.ingest_paths(paths, lambda done, total: update("documents", done, total))
    app.banner()
    print_summary(summary)
    if summary.quarantined:
        raise typer.Exit(1)


@quarantine_app.command("list")
def quarantine_list(
    ctx: typer.Context,
    all_entries: Annotated[bool, typer.Option("--all", help="Include resolved and superseded entries")] = False,
    limit: Annotated[int, typer.Option(help="At most this many rows")] = 200,
) -> None:
    """List quarantined documents with the reason each could not land."""
    from tipfusion.ingest import quarantine as quarantine_service

    app: AppContext = ctx.obj
    rows = quarantine_service.list_entries(app.ready_engine(), None if all_entries else "open", limit)
    app.record_view("quarantine", {"status": "all" if all_entries else "open", "rows": len(rows)})
    app.banner()
    table = Table(
        whole("id"),
        "when",
        "status",
        whole("reason"),
        whole("report"),
        whole("source"),
        whole("where"),
        wrapping("message"),
        title="Quarantine",
    )
    for row in rows:
        where = row.element or ""
        if row.line:
            where = f"line {row.line} {where}".strip()
        table.add_row(
            str(row.id),
            app.time(row.created_at),
            row.status,
            safe(row.reason),
            str(row.report_id or ""),
            safe(row.source_name),
            safe(where),
            safe(row.message),
        )
    show(table)
    console.print(f"{len(rows)} entr{'y' if len(rows) == 1 else 'ies'}")


@quarantine_app.command("show")
def quarantine_show(ctx: typer.Context, entry_id: Annotated[int, typer.Argument(help="Entry id")]) -> None:
    """Show one entry in full, with its source document's SHA-256 and size."""
    from tipfusion.ingest import quarantine as quarantine_service

    app: AppContext = ctx.obj
    entry, source = quarantine_service.show_entry(app.ready_engine(), entry_id)
    app.banner()
    for key, value in entry._mapping.items():
        shown = app.time(value) if isinstance(value, datetime) else safe(value)
        console.print(f"[bold]{key}[/]: {shown}", soft_wrap=True)
    if source is not None:
        console.print(
            f"[bold]source size[/]: {source.size:,} bytes (kept byte for byte; sha256 {source.sha256})", soft_wrap=True
        )


@quarantine_app.command("retry")
def quarantine_retry(
    ctx: typer.Context,
    entry_ids: Annotated[list[int] | None, typer.Argument(help="Entry ids")] = None,
    all_open: Annotated[bool, typer.Option("--all", help="Retry every open entry")] = False,
) -> None:
    """Re-ingest quarantined documents from their stored bytes (after raising a limit, or once a report arrived)."""
    from tipfusion.ingest import quarantine as quarantine_service

    app: AppContext = ctx.obj
    engine = app.ready_engine()
    ids = list(entry_ids or [])
    if all_open:
        ids += [row.id for row in quarantine_service.list_entries(engine, "open", 100_000)]
    if not ids:
        raise typer.BadParameter("name entry ids or use --all")
    results = quarantine_service.retry(engine, app.settings, app.actor, ids)
    app.banner()
    for result in results:
        console.print(f"entry {result.entry_id}: {result.outcome} — {safe(result.detail)}", soft_wrap=True)
    if any(r.outcome == "still_rejected" for r in results):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)
    app.add_typer(quarantine_app, name="quarantine")
