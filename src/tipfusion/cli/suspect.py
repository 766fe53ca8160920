"""`tipfusion suspect show ID`: a suspect as reported (an audited view; queries in `search/`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from tipfusion.cli.context import AppContext, OutputFormat, console, few, present, safe

if TYPE_CHECKING:  # search and the audit log load sqlalchemy, numpy, the referral writers: only when a command runs
    pass


suspect_app = typer.Typer(no_args_is_help=True, help="Suspects found by linking, as reported.")


@suspect_app.command("show")
def suspect_show(
    ctx: typer.Context,
    suspect_id: Annotated[str, typer.Argument(help="e.g. S200000042 (old names are followed)")],
    fmt: Annotated[
        OutputFormat, typer.Option("--format", help="text for people, json for machines")
    ] = OutputFormat.text,
) -> None:
    """A suspect as reported: reports, names, addresses, phones, emails and accounts (its own; other people in its
    reports apart, labelled), routing with its basis, network and cases."""
    from tipfusion.audit import UnitOfWork
    from tipfusion.search import suspect_profile

    app: AppContext = ctx.obj
    with UnitOfWork(app.ready_engine(), app.actor) as uow:
        profile = suspect_profile(uow.conn, suspect_id)
        uow.record("view.suspect", "suspect", profile["suspect_id"], {})
    present(app, fmt, profile, _print_profile)


def _print_profile(p: dict[str, Any]) -> None:
    if p["suspect_id"] != p["asked_as"].strip():
        console.print(f"{safe(p['asked_as'])} is now part of {p['suspect_id']}")
    priority = p["priority"]
    score = "not scored" if priority is None else f"priority {priority['score']:g}" + (" (pinned)" * priority["pinned"])
    console.print(
        f"[bold]{p['suspect_id']}[/]: {len(p['reports'])} report(s); network {p['network_id'] or '-'}; {score}"
    )
    reports = Table("report", "ESP", "incident", "time (UTC)", title="Reports")
    for r in p["reports"]:
        reports.add_row(
            str(r["report_id"]),
            safe(str(r["esp"] or "")),
            safe(str(r["incident_type"] or "")),
            str(r["incident_at_utc"] or ""),
        )
    console.print(reports)
    own = Table(
        "what",
        "as reported",
        "whose",
        "reports",
        title="The suspect, as reported (reported person and associated accounts)",
    )
    for fact in p["as_reported"]:
        own.add_row(fact["field"].replace("_", " "), safe(fact["value"]), fact["role_label"], few(fact["reports"]))
    for kind, many in _many(p["identifiers"]).items():
        own.add_row(kind, f"{many} values (--format json lists them)", "", "")
    for item in (
        i for i in p["identifiers"] if i["kind"] not in _SHOWN_AS_REPORTED and i["kind"] not in _many(p["identifiers"])
    ):
        own.add_row(
            item["kind"],
            safe(item["shown"]) + ("" if item["valid"] else " (not valid)"),
            ", ".join(item["roles"]),
            few(item["reports"]),
        )
    console.print(own)
    if p["other_people"] or p["other_values"]:
        others = Table("whose", "what", "value", "reports", title="Other people in these reports (not the suspect)")
        for fact in p["other_people"]:
            others.add_row(
                fact["role_label"], fact["field"].replace("_", " "), safe(fact["value"]), few(fact["reports"])
            )
        for item in (
            i
            for i in p["other_values"]
            if i["kind"] not in (_SHOWN_AS_ACCOUNT if i["role"] == "incident" else _SHOWN_AS_REPORTED)
        ):
            others.add_row(item["whose"], item["kind"], safe(item["shown"]), few(item["reports"]))
        console.print(others)
    _print_routing(p["routing"])
    network = p["network"]
    if network:
        console.print(
            f"network {network['network_id']}: {network['suspects']} suspects, {network['reports']} reports "
            f"(tipfusion network show {network['network_id']})"
        )
    if p["cases"]:
        table = Table("case", "referral", "state", "station / district", "built (UTC)", title="Cases")
        for c in p["cases"]:
            table.add_row(
                str(c["case_id"] or "-"),
                safe(c["reference"]),
                safe(c["state"] or "-"),
                safe(c["station"] or c["district"] or "central unit"),
                str(c["built_utc"]),
            )
        console.print(table)
    else:
        console.print("cases: none (no referral covers this suspect)")


_SHOWN_AS_ACCOUNT = frozenset({"esp_user", "screen_name", "display_name"})  # already in the account rows


_SHOWN_AS_REPORTED = _SHOWN_AS_ACCOUNT | {"phone", "email"}  # already in the as-reported rows (accounts' contacts)


def _many(identifiers: list[dict[str, Any]], most: int = 8) -> dict[str, int]:
    """Kinds with too many values to read in a table (a suspect's file hashes): counted instead of listed."""
    counts: dict[str, int] = {}
    for item in identifiers:
        counts[item["kind"]] = counts.get(item["kind"], 0) + 1
    return {k: n for k, n in counts.items() if n > most and k not in _SHOWN_AS_ACCOUNT}


def _print_routing(routing: dict[str, Any] | None) -> None:
    if routing is None:
        console.print("routing: not routed yet (tipfusion route)")
        return
    words = routing["in_words"].removeprefix("central: ")
    console.print(
        f"routing: [bold]{routing['placement']}[/] — {safe(words)}; basis {routing['basis']}, "
        f"confidence {routing['confidence']}" + (" (analyst override)" if routing["overridden"] else ""),
        soft_wrap=True,
    )
    for line in dict.fromkeys([*routing["evidence"], *routing["notes"]]):
        console.print(f"  {safe(str(line))}", soft_wrap=True)
    for line in routing["deconfliction"]:
        console.print(f"  [yellow]deconfliction:[/] {safe(str(line))}", soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.add_typer(suspect_app, name="suspect")
