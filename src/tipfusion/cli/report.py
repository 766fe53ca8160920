"""`tipfusion report show`: one report as stored, to check that nothing was lost or misattributed."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from tipfusion.cli.context import AppContext, OutputFormat, console, present, safe, whole
from tipfusion.cli.context import show as show_table

report_app = typer.Typer(no_args_is_help=True, help="Reports as stored: every version, part and identifier.")


@report_app.command("show")
def show(
    ctx: typer.Context,
    report_id: Annotated[int, typer.Argument(help="the NCMEC report number")],
    fmt: Annotated[
        OutputFormat, typer.Option("--format", help="text for people, json for everything")
    ] = OutputFormat.text,
) -> None:
    """Everything stored for a report: versions, source parts, identifiers with whose they are, files with
    every fileDetails document, unknown fields kept verbatim."""
    from tipfusion.search import report_record

    app: AppContext = ctx.obj
    engine = app.ready_engine()
    detail = report_record(engine, app.actor, report_id, {"format": fmt.value})
    present(app, fmt, detail, _print)


def _print(detail: dict[str, Any]) -> None:
    versions = detail["versions"]
    console.print(
        f"[bold]report {detail['report_id']}[/]: version {detail['current_version']} of {len(versions)} is current"
    )
    for version in versions[:1]:
        console.print(
            f"  {safe(str(version.get('esp_name') or ''))} · {safe(str(version.get('incident_type') or ''))}"
            f" · incident {safe(version.get('incident_at') or '-')}",
            soft_wrap=True,
        )
        parts = Table("part", whole("document"), whole("sha256"), title="Source documents")
        for part in version["parts"]:
            parts.add_row(safe(part["role"]), safe(str(part["source_name"] or "")), part["source_sha256"])
        show_table(parts)
        people = Table("#", "whose", "ESP account", "screen name", "name", title="People and accounts")
        for person in version["accounts"]:
            name = " ".join(x for x in (person.get("first_name"), person.get("last_name")) if x)
            people.add_row(
                str(person["ordinal"]),
                safe(person["party"]),
                safe(str(person.get("esp_identifier") or "")),
                safe(str(person.get("screen_name") or "")),
                safe(name),
            )
        show_table(people)
        ids = Table("whose", "kind", whole("value"), "time (UTC)", "port", whole("path"), title="Identifiers")
        for item in version["identifiers"]:
            ids.add_row(
                safe(item["role"]),
                safe(item["kind"]),
                safe(str(item["value"])),
                str(item.get("observed_at") or ""),
                "" if item.get("port") is None else str(item["port"]),
                safe(str(item["path"])),
            )
        show_table(ids)
        file_table = Table("file id", "fileDetails document", "hashes", title="Files (metadata only)")
        for file in version["files"]:
            file_table.add_row(
                safe(str(file.get("file_id") or "")),
                safe(str(file.get("source_sha256") or "")[:16]),
                safe(", ".join(f"{k}:{v}" for k, v in (file.get("hashes") or {}).items())),
            )
        show_table(file_table)
        extras = version.get("extras") or []
        console.print(f"unknown fields kept verbatim: {len(extras)}")
        for extra in extras:
            console.print(f"  {safe(str(extra.get('path')))}", soft_wrap=True)
    if len(versions) > 1:
        console.print(
            f"older versions: {', '.join(str(v['version']) for v in versions[1:])} (--format json shows them)"
        )


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")
