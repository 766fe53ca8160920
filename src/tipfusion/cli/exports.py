"""`tipfusion export WHAT [TARGET] --format F --output PATH`: every export, one command shape.

The WHATs come from `tipfusion.exports.sources` and the formats from the renderers in `tipfusion.exports.formats`,
so a new format or source needs no change here. Every export is written to the audit log.
"""

from pathlib import Path
from typing import Annotated, Any

import typer

from tipfusion.cli.context import AppContext, console, safe
from tipfusion.exports.registry import renderers
from tipfusion.exports.sources import SOURCES, Source


def _help() -> str:
    lines = ["Export for analysts and other tools: tipfusion export WHAT --format F --output PATH.", ""]
    lines += [f"{s.name}: {', '.join(s.formats)} (default {s.default})" for s in SOURCES.values()]
    lines += ["", "Formats: " + "; ".join(f"{r.name} — {r.description}" for r in renderers().values()) + "."]
    return "\n\n".join(lines)


export_app = typer.Typer(no_args_is_help=True, help=_help())


def run_export(app: AppContext, source: Source, target: str | None, output: Path, fmt: str | None) -> None:
    """Gather, render, audit: the body of every export command."""
    from tipfusion.audit import AuditEvent, append
    from tipfusion.documents.staging import staged_file
    from tipfusion.exports.registry import renderer_for
    from tipfusion.store import repository as repo

    app.output(output)
    renderer = renderer_for(source.name, source.kind, fmt or source.default)
    engine = app.ready_engine()
    content = source.gather(engine, app.settings, target)
    with engine.connect() as conn:
        synthetic = repo.get_flag(conn, "synthetic") == "true"
    details: dict[str, Any] = {"rows": content.size, "format": renderer.name}
    if target is not None:
        details["target"] = target
    with staged_file(output) as work:  # the file takes its name once written and audited
        renderer.render(content, work, synthetic)
        with engine.begin() as conn:
            append(conn, app.actor, [AuditEvent(f"export.{source.name}", "export", str(output), details)])
    app.banner()
    counted = f"{content.size:,} {source.noun}" if source.kind != "subject" else f"{content.title}"
    console.print(f"{safe(counted)} → {safe(output)} ({renderer.name}) {source.note}".rstrip(), soft_wrap=True)


def _command(source: Source) -> Any:
    formats = " | ".join(source.formats)
    help_text = f"{source.help} Formats: {', '.join(source.formats)}."

    if source.target is None:

        def command(
            ctx: typer.Context,
            output: Annotated[Path, typer.Option("--output", "-o", help="File to write")],
            fmt: Annotated[str, typer.Option("--format", help=formats)] = source.default,
        ) -> None:
            run_export(ctx.obj, source, None, output, fmt)

    elif source.target_required:

        def command(  # type: ignore[misc]
            ctx: typer.Context,
            target: Annotated[str, typer.Argument(help=source.target)],
            output: Annotated[Path, typer.Option("--output", "-o", help="File to write")],
            fmt: Annotated[str, typer.Option("--format", help=formats)] = source.default,
        ) -> None:
            run_export(ctx.obj, source, target, output, fmt)

    else:

        def command(  # type: ignore[misc]
            ctx: typer.Context,
            output: Annotated[Path, typer.Option("--output", "-o", help="File to write")],
            target: Annotated[str | None, typer.Argument(help=source.target)] = None,
            fmt: Annotated[str, typer.Option("--format", help=formats)] = source.default,
        ) -> None:
            run_export(ctx.obj, source, target, output, fmt)

    command.__doc__ = help_text
    return command


for _source in SOURCES.values():
    export_app.command(_source.name, help=f"{_source.help} Formats: {', '.join(_source.formats)}.")(_command(_source))


def register(app: typer.Typer) -> None:
    app.add_typer(export_app, name="export")
