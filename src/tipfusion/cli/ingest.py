"""`tipfusion ingest`: reports and lead lists into the store."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from tipfusion.cli.context import AppContext, console, progress, safe, show

if TYPE_CHECKING:
    from tipfusion.ingest import IngestSummary


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
    for line in summary.marker_refused:
        console.print(
            f"[bold red]synthetic-data marker refused[/] (the store is NOT flagged synthetic): {safe(line)}",
            soft_wrap=True,
        )
    for line in summary.rejected[:20]:
        console.print(f"[red]quarantined[/] {safe(line)}", soft_wrap=True)
    if len(summary.rejected) > 20:
        console.print(f"… and {len(summary.rejected) - 20} more: tipfusion quarantine list")


def ingest(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Files, directories (recursive) or .zip batches", exists=True)],
    synthetic: Annotated[
        bool,
        typer.Option(
            "--synthetic",
            help="This batch is generated test data: flag the store synthetic even if it already holds other reports "
            "(a SYNTHETIC-DATA.json marker alone flags only an empty or already synthetic store)",
        ),
    ] = False,
) -> None:
    """Ingest CyberTipline reports (ESP XML, police JSON) and lead lists (CSV). Exit 1 if anything was quarantined."""
    from tipfusion.ingest import IngestService

    app: AppContext = ctx.obj
    service = IngestService(app.ready_engine(create=True), app.settings, app.actor, synthetic=synthetic)
    with progress("ingesting") as update:
        summary = service.ingest_paths(paths, lambda done, total: update("documents", done, total))
    app.banner()
    print_summary(summary)
    if summary.quarantined:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)
