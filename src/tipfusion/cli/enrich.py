"""`tipfusion enrich` and `tipfusion export ips`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from tipfusion.audit import AuditEvent, append
from tipfusion.cli.context import AppContext, console
from tipfusion.config import Settings
from tipfusion.enrich.export import IP_FIELDS, ip_rows, write_rows
from tipfusion.enrich.service import EnrichConfig, EnrichService, EnrichSummary

export_app = typer.Typer(no_args_is_help=True, help="Export tables for analysts (CSV or JSON).")


def enrich_config(
    settings: Settings,
    databases: list[Path] | None = None,
    isp_table: Path | None = None,
    warninglist: Path | None = None,
    disposable: Path | None = None,
) -> EnrichConfig:
    """Command-line paths win over TIPFUSION_* settings."""
    return EnrichConfig(
        ip_databases=tuple(databases) if databases else tuple(Path(p) for p in settings.ip_databases),
        isp_table=isp_table or (Path(settings.isp_table) if settings.isp_table else None),
        warninglist=warninglist or (Path(settings.ip_warninglist) if settings.ip_warninglist else None),
        disposable_domains=disposable or (Path(settings.disposable_domains) if settings.disposable_domains else None),
    )


def print_enrich_summary(summary: EnrichSummary) -> None:
    table = Table(title="Enrichment summary", show_header=False)
    for label, value in [
        ("IP addresses looked up", f"{summary.ips_looked_up:,} ({summary.lookups_per_second:,.0f}/s)"),
        ("  new / changed / unchanged", f"{summary.ips_new:,} / {summary.ips_changed:,} / {summary.ips_unchanged:,}"),
        ("IP sightings assessed", f"{summary.sightings_assessed:,}"),
        ("  identifiable by an ISP", f"{summary.sightings_identifiable:,}"),
        ("phones described", f"{summary.phones:,}"),
        ("emails described", f"{summary.emails:,}"),
        ("network types (all IPs)", ", ".join(f"{k} {v:,}" for k, v in sorted(summary.network_types.items()))),
        ("sources", summary.sources),
        ("seconds", f"{summary.seconds:.1f}"),
    ]:
        table.add_row(label, str(value))
    console.print(table)
    for problem in summary.problems:
        console.print(f"[red]skipped[/] {problem}", soft_wrap=True)
    if not summary.sources.count("@"):
        console.print(
            "no IP database loaded: ISPs come only from the ISP table. Point TIPFUSION_IP_DATABASES "
            "(or --ip-database) at MaxMind-format ASN and City .mmdb files."
        )


def enrich(
    ctx: typer.Context,
    ip_database: Annotated[
        list[Path] | None, typer.Option("--ip-database", help="A .mmdb file (repeat for ASN + City)")
    ] = None,
    isp_table: Annotated[Path | None, typer.Option(help="The unit's ISP table (CSV or YAML)")] = None,
    warninglist: Annotated[Path | None, typer.Option(help="Extra warninglist CSV (prefix,category,note)")] = None,
    disposable_domains: Annotated[Path | None, typer.Option(help="Extra disposable email domains, one a line")] = None,
) -> None:
    """Enrich new IPs, phones and emails (and what a replaced database may answer differently), offline."""
    app: AppContext = ctx.obj
    config = enrich_config(app.settings, ip_database, isp_table, warninglist, disposable_domains)
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console, transient=True
    ) as bar:
        task = bar.add_task("enriching", total=None)
        summary = EnrichService(app.ready_engine(), config, app.actor).run(
            lambda what, done, total: bar.update(task, description=what, completed=done, total=total)
        )
    app.banner()
    print_enrich_summary(summary)


@export_app.command("ips")
def export_ips(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write")],
    fmt: Annotated[str, typer.Option("--format", help="csv or json")] = "csv",
) -> None:
    """Every distinct IP: ASN, ISP, country, network type, accounts, reports, identifiable sightings."""
    if fmt not in {"csv", "json"}:
        raise typer.BadParameter("--format must be csv or json")
    app: AppContext = ctx.obj
    engine = app.ready_engine()
    with engine.begin() as conn:
        rows = ip_rows(conn, app.settings.profile.zone)
        write_rows(rows, IP_FIELDS, fmt, output)
        append(conn, app.actor, [AuditEvent("export.ips", "export", str(output), {"rows": len(rows), "format": fmt})])
    app.banner()
    console.print(f"{len(rows):,} IP addresses → {output} (locations are database estimates, never evidence)")


def register(app: typer.Typer) -> None:
    app.command("enrich")(enrich)
    app.add_typer(export_app, name="export")
