"""`tipfusion link`, `tipfusion override …`, `tipfusion network show`, `tipfusion export reports|suspects|networks`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from tipfusion.cli.context import AppContext, console, progress, safe, show, whole, wrapping

if TYPE_CHECKING:
    from tipfusion.link.service import LinkSummary

override_app = typer.Typer(no_args_is_help=True, help="Analyst overrides of linking (audited; survive re-runs).")
network_app = typer.Typer(no_args_is_help=True, help="Networks found by linking.")


def print_link_summary(summary: LinkSummary) -> None:
    table = Table("what", "value", title="Link summary")
    sizes = ", ".join(f"{size} suspects × {count}" for size, count in sorted(summary.network_sizes.items()))
    for label, value in [
        ("reports", f"{summary.reports:,}"),
        ("suspects", f"{summary.suspects:,}"),
        ("networks", f"{summary.networks:,} ({summary.suspects_in_networks:,} suspects in networks)"),
        ("networks by size", sizes or "-"),
        (
            "largest network",
            f"{summary.largest_network} ({summary.largest_size} suspects)" if summary.largest_network else "-",
        ),
        ("values suppressed as noise", f"{summary.suppressed:,}"),
        ("names merged / split since last run", f"{summary.merged_ids} / {summary.split_ids}"),
        ("overrides applied", str(summary.overrides)),
        ("engine", summary.engine),
        ("seconds", ", ".join(f"{k} {v:.2f}" for k, v in summary.seconds.items())),
    ]:
        table.add_row(label, safe(value))
    show(table)
    if summary.top_suppressed:
        noise = Table("kind", "value", "holders", "why it was not used", title="Most shared values suppressed")
        for item in summary.top_suppressed:
            noise.add_row(safe(item["kind"]), safe(item["value"]), str(item["holders"]), safe(item["reason"]))
        show(noise)


def link(
    ctx: typer.Context,
    engine_name: Annotated[
        str, typer.Option("--engine", help="embedded (this process) or spark (local mode, or a cluster by --master)")
    ] = "embedded",
    master: Annotated[
        str, typer.Option("--master", help="Spark master URL: local[N], spark://host:7077, yarn, k8s://…")
    ] = "local[2]",
    snapshot: Annotated[
        Path | None,
        typer.Option(
            "--snapshot",
            help="Spark reads this Parquet snapshot (tipfusion export observations) instead of the store over JDBC",
        ),
    ] = None,
    partitions: Annotated[int, typer.Option("--partitions", min=1, help="Spark: shuffle and JDBC read partitions")] = 8,
) -> None:
    """Resolve reports into suspects and suspects into networks (deterministic; overrides applied)."""
    from tipfusion.link.service import LinkService

    app: AppContext = ctx.obj
    if engine_name not in {"embedded", "spark"}:
        raise typer.BadParameter("--engine is embedded or spark", param_hint="--engine")
    engine = app.ready_engine()
    linker = None
    if engine_name == "spark":
        from tipfusion.link.spark import spark_linker

        linker = spark_linker(app.settings.database_url, master, snapshot, partitions)
    with progress("linking") as update:
        summary = LinkService(engine, app.actor, app.settings.tuning().link).run(update, linker)
    app.banner()
    print_link_summary(summary)
    from tipfusion.cli.route import print_case_flags

    print_case_flags(app)


@override_app.command("noise")
def override_noise(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="email, phone, ip_fixed, group, file…")],
    value: Annotated[str, typer.Argument(help="The normalised value")],
    reason: Annotated[str, typer.Option("--reason")],
) -> None:
    """Mark a value as noise: it is never used as evidence again."""
    from tipfusion.link.service import add_override

    app: AppContext = ctx.obj
    number = add_override(app.ready_engine(), app.actor, "noise", reason, kind=kind, value=value)
    console.print(
        f"override {number}: {safe(kind)} {safe(value)} is noise from the next `tipfusion link`", soft_wrap=True
    )


@override_app.command("split")
def override_split(
    ctx: typer.Context,
    report: Annotated[int, typer.Argument(help="Report number")],
    reason: Annotated[str, typer.Option("--reason")],
) -> None:
    """Take a report out of its suspect: it stands alone."""
    from tipfusion.link.service import add_override

    app: AppContext = ctx.obj
    number = add_override(app.ready_engine(), app.actor, "split", reason, report_a=report)
    console.print(f"override {number}: report {report} stands alone from the next `tipfusion link`")


@override_app.command("merge")
def override_merge(
    ctx: typer.Context,
    report_a: Annotated[int, typer.Argument()],
    report_b: Annotated[int, typer.Argument()],
    reason: Annotated[str, typer.Option("--reason")],
) -> None:
    """Join the suspects of two reports into one."""
    from tipfusion.link.service import add_override

    app: AppContext = ctx.obj
    number = add_override(app.ready_engine(), app.actor, "merge", reason, report_a=report_a, report_b=report_b)
    console.print(
        f"override {number}: reports {report_a} and {report_b} are one suspect from the next `tipfusion link`"
    )


@override_app.command("list")
def override_list(ctx: typer.Context) -> None:
    """Show the overrides in force."""
    from sqlalchemy import select

    from tipfusion.store.tables import link_overrides

    app: AppContext = ctx.obj
    with app.ready_engine().connect() as conn:
        rows = list(conn.execute(select(link_overrides).where(link_overrides.c.active.is_(True))))
    table = Table(whole("id"), "action", whole("what"), wrapping("reason"), "by", "when", title="Overrides")
    for row in rows:
        what = (
            f"{row.kind} {row.value}"
            if row.action == "noise"
            else " + ".join(str(r) for r in (row.report_a, row.report_b) if r is not None)
        )
        table.add_row(
            str(row.id), safe(row.action), safe(what), safe(row.reason), safe(row.actor), app.time(row.created_at)
        )
    show(table)


@network_app.command("show")
def network_show(ctx: typer.Context, network_id: Annotated[str, typer.Argument(help="e.g. N200000123")]) -> None:
    """What a network is and why it hangs together (old names are followed to the current one)."""
    from sqlalchemy import select

    from tipfusion.audit import AuditEvent, append
    from tipfusion.errors import NotFound
    from tipfusion.link.service import resolve_id
    from tipfusion.search import network_members
    from tipfusion.store.tables import link_explanations, networks

    app: AppContext = ctx.obj
    engine = app.ready_engine()
    with engine.begin() as conn:
        current = resolve_id(conn, network_id)
        row = conn.execute(select(networks).where(networks.c.network_id == current)).first()
        if row is None:
            raise NotFound(f"no network {network_id}")
        links = list(
            conn.execute(
                select(link_explanations)
                .where(link_explanations.c.level == "network", link_explanations.c.owner_id == current)
                .order_by(link_explanations.c.score.desc())
                .limit(15)
            )
        )
        members = network_members(conn, current)
        append(conn, app.actor, [AuditEvent("view.network", "network", current, {})])
    app.banner()
    if current != network_id:
        console.print(f"{safe(network_id)} is now part of {safe(current)}", soft_wrap=True)
    print_network(current, row.summary or {}, row.suspects, row.reports)
    print_members(members)
    table = Table(whole("suspect"), whole("suspect"), "score", wrapping("evidence"), title="Strongest links")
    for link_row in links:
        table.add_row(
            safe(link_row.a),
            safe(link_row.b),
            f"{link_row.score:g}",
            safe("; ".join(f"{k} {v}" for k, v, _ in link_row.evidence[:4])),
        )
    show(table)


def print_members(members: list[dict[str, Any]]) -> None:
    table = Table("suspect", "reports", "score", "routing", title="Members")
    for m in members:
        score = "-" if m["score"] is None else f"{m['score']:g}"
        table.add_row(safe(m["suspect_id"]), str(m["reports"]), score, safe(m["routing"]))
    console.print(table)


def print_network(network_id: str, summary: dict[str, Any], suspect_count: int, report_count: int) -> None:
    console.print(
        f"[bold]{safe(network_id)}[/]: {suspect_count} suspects, {report_count} reports, "
        f"{safe(summary.get('first_incident', '')[:10])} … {safe(summary.get('last_incident', '')[:10])}",
        soft_wrap=True,
    )
    console.print(f"  held together by: {_fmt(summary.get('links_by_kind'))}", soft_wrap=True)
    console.print(
        "  key shared values: "
        + safe("; ".join(f"{v['kind']} {v['value']}" for v in summary.get("key_shared_values", [])[:5])),
        soft_wrap=True,
    )
    console.print(f"  ESPs: {_fmt(summary.get('esps'))}   ISPs: {_fmt(summary.get('isps'))}", soft_wrap=True)
    console.print(f"  places (IP estimates, not evidence): {_fmt(summary.get('places_estimated'))}", soft_wrap=True)


def _fmt(mapping: dict[str, Any] | None) -> str:
    return safe(", ".join(f"{k} ({v})" for k, v in (mapping or {}).items()) or "-")


def register(app: typer.Typer) -> None:
    app.command("link")(link)
    app.add_typer(override_app, name="override")
    app.add_typer(network_app, name="network")
