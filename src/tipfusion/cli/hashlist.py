"""`tipfusion hashlist …`: the unit's known-content hash lists (import, list, bad rows, matches)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from tipfusion.cli.context import (
    AppContext,
    FormatOption,
    OutputFormat,
    console,
    present,
    progress,
    safe,
    show,
    whole,
    wrapping,
)

hashlist_app = typer.Typer(
    no_args_is_help=True,
    help="Known-content hash lists (CSV, Project VIC VICS JSON): hashes only, never media.",
)


class ListFormat(StrEnum):
    csv = "csv"
    vics = "vics"


@hashlist_app.command("import")
def import_(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="the list file", exists=True, dir_okay=False)],
    name: Annotated[str, typer.Option("--name", help="the list's name (created on first use)")],
    fmt: Annotated[ListFormat, typer.Option("--format", help="csv (md5,sha1,sha256,pdq,category,source) or vics")],
    source: Annotated[
        str | None, typer.Option("--source", help="who listed the hashes, for rows that do not say")
    ] = None,
) -> None:
    """Import a hash list: good rows land, each bad row is kept with its line and reason; the same file twice
    changes nothing. Then every file in the store is matched again (exact hashes; PDQ within 31 bits)."""
    from tipfusion.enrich.hashlists.service import import_file

    app: AppContext = ctx.obj
    engine = app.ready_engine()
    with progress("importing") as update:
        update(f"reading {path.name}", 0, None)
        summary = import_file(engine, path, name, fmt.value, app.actor, source)
    app.banner()
    if summary.already_imported:
        console.print(f"{safe(path)} is already in list {safe(name)!r}: nothing changed")
        return
    console.print(
        f"list {safe(name)!r}: {summary.rows:,} row(s) read, {summary.entries_added:,} hash(es) added"
        f" ({summary.duplicates:,} already listed), {len(summary.rejected):,} row(s) rejected",
        soft_wrap=True,
    )
    if summary.ignored_columns:
        console.print(f"columns not read: {safe(', '.join(summary.ignored_columns))}", soft_wrap=True)
    for line in summary.rejected[:50]:
        console.print(f"[red]rejected[/] {safe(line)}", soft_wrap=True)
    if len(summary.rejected) > 50:
        console.print(f"… and {len(summary.rejected) - 50:,} more (tipfusion hashlist rejects {safe(name)})")
    matches = summary.matches
    console.print(
        f"matched: {matches.get('files_matched', 0):,} file(s) on a list "
        f"({matches.get('exact', 0):,} exact, {matches.get('near', 0):,} PDQ near)"
    )


@hashlist_app.command("list")
def list_(ctx: typer.Context, fmt: FormatOption = OutputFormat.text) -> None:
    """Every list: hashes by kind, imports, rejected rows, files in the store it matches now."""
    from tipfusion.enrich.hashlists.service import list_summaries

    app: AppContext = ctx.obj
    rows = list_summaries(app.ready_engine())
    present(app, fmt, rows, _print_lists)


def _print_lists(rows: list[dict[str, Any]]) -> None:
    table = Table(whole("list"), "hashes", "imports", "rejected rows", "files matched", title="Known-content lists")
    for row in rows:
        hashes = ", ".join(f"{k} {v:,}" for k, v in sorted(row["entries"].items())) or "none"
        table.add_row(safe(row["name"]), hashes, str(row["imports"]), str(row["rejected"]), str(row["files_matched"]))
    show(table)
    if not rows:
        console.print("no lists yet: tipfusion hashlist import FILE --name NAME --format csv|vics")


@hashlist_app.command("rejects")
def rejects(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="the list")],
    fmt: FormatOption = OutputFormat.text,
) -> None:
    """The rows of a list's files that were refused: file, line, field and why."""
    from tipfusion.enrich.hashlists.service import list_rejects

    app: AppContext = ctx.obj
    rows = list_rejects(app.ready_engine(), name)
    present(app, fmt, rows, _print_rejects)


def _print_rejects(rows: list[dict[str, Any]]) -> None:
    table = Table(whole("file"), "line", "field", wrapping("why"), title="Rejected rows")
    for row in rows:
        table.add_row(safe(row["source_name"]), str(row["line"]), safe(row["field"] or ""), safe(row["message"]))
    show(table)


@hashlist_app.command("match")
def match(ctx: typer.Context) -> None:
    """Match every current file against every list again (linking and triage do it when something changed)."""
    from tipfusion.enrich.hashlists.service import refresh

    app: AppContext = ctx.obj
    engine = app.ready_engine()
    with progress("matching") as update:
        update("matching file hashes", 0, None)
        summary = refresh(engine, app.actor, force=True)
    app.banner()
    console.print(
        f"{summary.files_matched:,} file(s) on a list: {summary.exact:,} exact match(es), {summary.near:,} PDQ "
        f"within 31 bits ({summary.pdq_files:,} PDQ file hash(es) against {summary.pdq_bank:,} listed), "
        f"{summary.seconds:.1f} s"
    )


@hashlist_app.command("matches")
def matches(
    ctx: typer.Context,
    report_id: Annotated[int, typer.Argument(help="the NCMEC report number")],
    fmt: FormatOption = OutputFormat.text,
) -> None:
    """A report's files that are on a known-content list, with the list, category, source and distance (audited)."""
    from tipfusion.enrich.hashlists.service import report_matches

    app: AppContext = ctx.obj
    engine = app.ready_engine()
    rows = report_matches(engine, app.actor, report_id)
    present(app, fmt, rows, _print_matches)


def _print_matches(rows: list[dict[str, Any]]) -> None:
    table = Table(
        "file #",
        whole("file hash"),
        whole("list"),
        "category",
        wrapping("source"),
        "distance",
        title="Files on known-content lists",
    )
    for row in rows:
        table.add_row(
            str(row["file_ordinal"]),
            safe(row["file_hash"]),
            safe(row["list"]),
            safe(row["category"] or ""),
            safe(row["source"] or ""),
            "exact" if not row["distance"] else f"PDQ {row['distance']} bits",
        )
    show(table)
    if not rows:
        console.print("no file of this report is on a known-content list")


def register(app: typer.Typer) -> None:
    app.add_typer(hashlist_app, name="hashlist")
