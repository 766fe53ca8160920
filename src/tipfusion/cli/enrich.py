"""`tipfusion enrich` and `tipfusion export ips`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from tipfusion.cli.context import AppContext, console, progress, safe, setting_path, show
from tipfusion.config import Settings

if TYPE_CHECKING:
    from tipfusion.enrich.service import EnrichConfig, EnrichSummary


def enrich_config(
    settings: Settings,
    databases: list[Path] | None = None,
    isp_table: Path | None = None,
    warninglist: Path | None = None,
    disposable: Path | None = None,
) -> EnrichConfig:
    """Command-line paths win over TIPFUSION_* settings; a path from the settings that does not exist names its
    variable (the command line's own are checked by Typer)."""
    from tipfusion.enrich.service import EnrichConfig

    listed = [setting_path(p, "TIPFUSION_IP_DATABASES") for p in settings.ip_databases]
    return EnrichConfig(
        ip_databases=tuple(databases) if databases else tuple(p for p in listed if p),
        isp_table=isp_table or setting_path(settings.isp_table, "TIPFUSION_ISP_TABLE"),
        warninglist=warninglist or setting_path(settings.ip_warninglist, "TIPFUSION_IP_WARNINGLIST"),
        disposable_domains=disposable or setting_path(settings.disposable_domains, "TIPFUSION_DISPOSABLE_DOMAINS"),
    )


def print_enrich_summary(summary: EnrichSummary) -> None:
    table = Table("what", "value", title="Enrichment summary")
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
        table.add_row(label, safe(value))
    show(table)
    for problem in summary.problems:
        console.print(f"[red]skipped[/] {safe(problem)}", soft_wrap=True)
    if not summary.sources.count("@"):
        console.print(
            "no IP database loaded: ISPs come only from the ISP table. Point TIPFUSION_IP_DATABASES "
            "(or --ip-database) at MaxMind-format ASN and City .mmdb files."
        )


def enrich(
    ctx: typer.Context,
    ip_database: Annotated[
        list[Path] | None,
        typer.Option(
            "--ip-database", help="A .mmdb file (repeat: ASN, ISP, City, Enterprise)", exists=True, dir_okay=False
        ),
    ] = None,
    isp_table: Annotated[
        Path | None, typer.Option(help="The unit's ISP table (CSV or YAML)", exists=True, dir_okay=False)
    ] = None,
    warninglist: Annotated[
        Path | None, typer.Option(help="Extra warninglist CSV (prefix,category,note)", exists=True, dir_okay=False)
    ] = None,
    disposable_domains: Annotated[
        Path | None, typer.Option(help="Extra disposable email domains, one a line", exists=True, dir_okay=False)
    ] = None,
) -> None:
    """Enrich new IPs, phones and emails (and what a replaced database may answer differently), offline."""
    from tipfusion.enrich.service import EnrichService

    app: AppContext = ctx.obj
    config = enrich_config(app.settings, ip_database, isp_table, warninglist, disposable_domains)
    engine = app.ready_engine()
    with progress("enriching") as update:
        summary = EnrichService(engine, config, app.actor).run(update)
        update("ISP requests: sightings still to ask", 0, None)
        # counted here, once, so the first view of the web's ISP requests page after an enrich does not pay for it
        from tipfusion.requests.service import pending_summary

        pending_summary(engine)
    app.banner()
    print_enrich_summary(summary)


def register(app: typer.Typer) -> None:
    app.command("enrich")(enrich)
