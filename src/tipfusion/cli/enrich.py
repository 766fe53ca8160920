"""`tipfusion enrich` and `tipfusion export ips`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from tipfusion.cli.context import AppContext, console
from tipfusion.config import Settings
from tipfusion.enrich.service import EnrichConfig, EnrichService, EnrichSummary


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
        list[Path] | None, typer.Option("--ip-database", help="A .mmdb file (repeat: ASN, ISP, City, Enterprise)")
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


def register(app: typer.Typer) -> None:
    app.command("enrich")(enrich)
