"""`tipfusion link`: reports into suspects, suspects into networks (exports are in cli/exports)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from tipfusion.cli.context import AppContext, progress, safe, show

if TYPE_CHECKING:
    from tipfusion.link.service import LinkSummary


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
        *(
            [("incremental", f"linked again {summary.relinked:,} reports, {summary.changed:,} of them changed")]
            if summary.relinked is not None and summary.changed is not None
            else []
        ),
        *([("linked everything", summary.linked_everything_because)] if summary.linked_everything_because else []),
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
        str | None,
        typer.Option(
            "--snapshot",
            help="Spark reads this Parquet snapshot (tipfusion export observations) instead of the store over JDBC: "
            "a folder, or a URI the executors read (hdfs://…, s3a://…)",
        ),
    ] = None,
    partitions: Annotated[int, typer.Option("--partitions", min=1, help="Spark: shuffle and JDBC read partitions")] = 8,
    conf: Annotated[
        list[str] | None,
        typer.Option(
            "--conf",
            help="Spark setting KEY=VALUE, repeatable (spark.executor.memory=8g, spark.executor.instances=10, …)",
        ),
    ] = None,
    incremental: Annotated[
        bool,
        typer.Option(
            "--incremental",
            help="link again only the reports whose evidence changed since the last link, and what they touch, "
            "weighed by the last full link's model (the same answer as a full link with it); a full link when "
            "there is nothing to build on, saying why",
        ),
    ] = False,
) -> None:
    """Resolve reports into suspects and suspects into networks (deterministic; overrides applied)."""
    from tipfusion.link.service import LinkService

    app: AppContext = ctx.obj
    if engine_name not in {"embedded", "spark"}:
        raise typer.BadParameter("--engine is embedded or spark", param_hint="--engine")
    settings: dict[str, str] = {}
    for item in conf or []:
        key, equals, value = item.partition("=")
        if not equals or not key.strip():
            raise typer.BadParameter(
                f"{item!r}: expected KEY=VALUE, e.g. spark.executor.memory=8g", param_hint="--conf"
            )
        settings[key.strip()] = value.strip()
    engine = app.ready_engine()
    linker = None
    if incremental and engine_name == "spark":
        raise typer.BadParameter("the Spark engine links everything; --incremental is the embedded engine's")
    if engine_name == "spark":
        from tipfusion.link.spark import spark_linker

        if snapshot is not None:
            from tipfusion.link.snapshot import check_snapshot

            check_snapshot(engine, snapshot)
        linker = spark_linker(app.settings.database_url, master, snapshot, partitions, conf=settings)
    with progress("linking") as update:
        summary = LinkService(engine, app.actor, app.settings.tuning().link).run(update, linker, incremental)
    app.banner()
    print_link_summary(summary)
    from tipfusion.cli.cases import print_case_flags

    print_case_flags(app)


def register(app: typer.Typer) -> None:
    app.command("link")(link)
