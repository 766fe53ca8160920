"""`tipfusion export …`: tables for analysts, as CSV or JSON; every export is written to the audit log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from tipfusion.cli.context import AppContext, console

export_app = typer.Typer(no_args_is_help=True, help="Export tables for analysts (CSV or JSON).")


@export_app.command("ips")
def export_ips(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write")],
    fmt: Annotated[str, typer.Option("--format", help="csv or json")] = "csv",
) -> None:
    """Every distinct IP: ASN, ISP, country, network type, accounts, reports, identifiable sightings."""
    from tipfusion.audit import AuditEvent, append
    from tipfusion.enrich.export import IP_FIELDS, ip_rows, write_rows

    if fmt not in {"csv", "json"}:
        raise typer.BadParameter("--format must be csv or json")
    app: AppContext = ctx.obj
    app.output(output)
    engine = app.ready_engine()
    with engine.begin() as conn:
        rows = ip_rows(conn, app.settings.profile.zone)
        write_rows(rows, IP_FIELDS, fmt, output)
        append(conn, app.actor, [AuditEvent("export.ips", "export", str(output), {"rows": len(rows), "format": fmt})])
    app.banner()
    console.print(f"{len(rows):,} IP addresses → {output} (locations are database estimates, never evidence)")


def _export(ctx: typer.Context, what: str, output: Path, fmt: str) -> None:
    from tipfusion.audit import AuditEvent, append
    from tipfusion.enrich.export import write_rows
    from tipfusion.link.export import (
        NETWORK_FIELDS,
        REPORT_FIELDS,
        SUSPECT_FIELDS,
        network_rows,
        report_rows,
        suspect_rows,
    )

    if fmt not in {"csv", "json"}:
        raise typer.BadParameter("--format must be csv or json")
    app: AppContext = ctx.obj
    app.output(output)
    makers = {
        "reports": (report_rows, REPORT_FIELDS),
        "suspects": (suspect_rows, SUSPECT_FIELDS),
        "networks": (network_rows, NETWORK_FIELDS),
    }
    maker, fields = makers[what]
    with app.ready_engine().begin() as conn:
        rows = maker(conn)
        if fmt == "csv":
            rows = [{k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in r.items()} for r in rows]
        write_rows(rows, fields, fmt, output)
        append(
            conn, app.actor, [AuditEvent(f"export.{what}", "export", str(output), {"rows": len(rows), "format": fmt})]
        )
    app.banner()
    console.print(f"{len(rows):,} {what} → {output}")


@export_app.command("reports")
def export_reports(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("--output", "-o")],
    fmt: Annotated[str, typer.Option("--format")] = "csv",
) -> None:
    """One row per report: report_id, suspect_id, network_id (empty when in no network), ESP, time, type."""
    _export(ctx, "reports", output, fmt)


@export_app.command("suspects")
def export_suspects(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("--output", "-o")],
    fmt: Annotated[str, typer.Option("--format")] = "csv",
) -> None:
    """One row per suspect: reports, network, component, ESP accounts, emails, phones."""
    _export(ctx, "suspects", output, fmt)


@export_app.command("networks")
def export_networks(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("--output", "-o")],
    fmt: Annotated[str, typer.Option("--format")] = "csv",
) -> None:
    """One row per network with its summary: suspects, reports, ESPs, ISPs, time span, why it hangs together."""
    _export(ctx, "networks", output, fmt)


def register(app: typer.Typer) -> None:
    app.add_typer(export_app, name="export")
