"""`tipfusion search VALUE`, `tipfusion suspect show ID`: analyst look-ups (audited views; queries in `search/`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from tipfusion.cli.context import AppContext, OutputFormat, console, present, safe

if TYPE_CHECKING:  # search and the audit log load sqlalchemy, numpy, the referral writers: only when a command runs
    from tipfusion.search import Reading, SearchResult

suspect_app = typer.Typer(no_args_is_help=True, help="Suspects found by linking, as reported.")


def search_command(
    ctx: typer.Context,
    value: Annotated[str, typer.Argument(help="Any identifier as written: +91 98…, an email, an IP, @name, a hash…")],
    kind: Annotated[
        str | None,
        typer.Option("--kind", help="Read the value only as this kind (email, phone, ip, username, hash, device, …)"),
    ] = None,
    fmt: Annotated[
        OutputFormat, typer.Option("--format", help="text for people, json for machines")
    ] = OutputFormat.text,
    limit: Annotated[int, typer.Option(min=1, help="Most rows of sightings to list")] = 2000,
) -> None:
    """Every report, suspect, network, lead and ISP answer holding a value, each with whose value it is there."""
    from tipfusion.audit import AuditEvent, append
    from tipfusion.search import search

    app: AppContext = ctx.obj
    with app.ready_engine().begin() as conn:
        result = search(conn, value, kind, app.settings.profile.phone_region, limit)
        details = {"kind": kind, "readings": len(result.readings), "reports": len(result.reports)}
        append(conn, app.actor, [AuditEvent("view.search", "identifier", value.strip()[:200], details)])
    present(app, fmt, result.as_dict(), lambda _: _print_search(result))


def _print_search(result: SearchResult) -> None:
    console.print(f"[bold]{safe(result.query)}[/] read as: {_readings_text(result.readings)}", soft_wrap=True)
    if not result.found:
        console.print("not found in any current report, lead or ISP answer")
        return
    if result.reports:
        table = Table(
            "report", "whose value there", "kind", "value", "sightings", "suspect", "network", title="Reports"
        )
        by_report: dict[int, list[dict[str, Any]]] = {}
        for s in result.sightings:
            by_report.setdefault(s["report_id"], []).append(s)
        for report in result.reports:
            if report["itself"]:
                table.add_row(str(report["report_id"]), "the report itself", "report", "", "", *_ids(report))
            for s in by_report.get(report["report_id"], []):
                whose = s["whose"] if s["suspects_own"] else f"[yellow]{s['whose']}[/] (not the suspect's)"
                table.add_row(
                    str(s["report_id"]), whose, s["kind"], safe(str(s["value"])), str(s["sightings"]), *_ids(s)
                )
        console.print(table)
    _print_holders(result)
    if result.truncated:
        console.print("[yellow]more sightings than --limit: the list is cut; --format json or a larger --limit[/]")


def _readings_text(readings: list[Reading]) -> str:
    """The readings tried, one phrase per kind (an ESP user ID is tried under every ESP: one phrase, not ten)."""
    by_kind: dict[str, list[Reading]] = {}
    for reading in readings:
        by_kind.setdefault(reading.kind, []).append(reading)
    phrases = []
    for kind, items in by_kind.items():
        if len(items) == 1:
            r = items[0]
            phrases.append(
                f"{kind} {r.shown}" + ("" if r.valid else " (not valid)") + (f" ({r.note})" if r.note else "")
            )
        else:
            shown = ", ".join(r.shown for r in items[:3]) + (", …" if len(items) > 3 else "")
            phrases.append(f"{kind} in {len(items)} forms ({shown})")
    return safe("; ".join(phrases))


def _ids(row: dict[str, Any]) -> tuple[str, str]:
    return str(row.get("suspect_id") or "-"), str(row.get("network_id") or "-")


def _print_holders(result: SearchResult) -> None:
    if result.suspects:
        table = Table("suspect", "network", "whose value in its reports", "reports", title="Suspects")
        for s in result.suspects:
            whose = s["whose"] if s["suspects_own"] else f"[yellow]{s['whose']}[/] only: not the suspect's own"
            table.add_row(s["suspect_id"], str(s["network_id"] or "-"), whose, _few(s["reports"]))
        console.print(table)
    if result.networks:
        console.print(
            "networks: " + safe("; ".join(f"{n['network_id']} ({', '.join(n['suspects'])})" for n in result.networks)),
            soft_wrap=True,
        )
    if result.leads:
        table = Table("lead", "agency", "kind", "value", "note", title="Leads from other agencies")
        for lead in result.leads:
            table.add_row(
                safe(str(lead["lead_ref"])),
                safe(str(lead["agency"] or "")),
                lead["kind"],
                safe(str(lead["value"])),
                safe(str(lead["note"] or "")),
            )
        console.print(table)
    if result.answers:
        table = Table("answer", "request", "ISP", "report", "matched", "subscriber", "suspect", title="ISP answers")
        for a in result.answers:
            table.add_row(
                str(a["id"]),
                safe(a["reference"]),
                safe(str(a["recipient"] or "")),
                str(a["report_id"]),
                safe(", ".join(a["matched"])),
                safe(str(a["subscriber_name"] or "")),
                str(a["suspect_id"] or "-"),
            )
        console.print(table)


def _few(values: list[Any], most: int = 8) -> str:
    shown = safe(", ".join(str(v) for v in values[:most]))
    return shown + (f" … ({len(values)})" if len(values) > most else "")


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
    from tipfusion.audit import AuditEvent, append
    from tipfusion.search import suspect_profile

    app: AppContext = ctx.obj
    with app.ready_engine().begin() as conn:
        profile = suspect_profile(conn, suspect_id)
        append(conn, app.actor, [AuditEvent("view.suspect", "suspect", profile["suspect_id"], {})])
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
        own.add_row(fact["field"].replace("_", " "), safe(fact["value"]), fact["role_label"], _few(fact["reports"]))
    for kind, many in _many(p["identifiers"]).items():
        own.add_row(kind, f"{many} values (--format json lists them)", "", "")
    for item in (
        i for i in p["identifiers"] if i["kind"] not in _SHOWN_AS_REPORTED and i["kind"] not in _many(p["identifiers"])
    ):
        own.add_row(
            item["kind"],
            safe(item["shown"]) + ("" if item["valid"] else " (not valid)"),
            ", ".join(item["roles"]),
            _few(item["reports"]),
        )
    console.print(own)
    if p["other_people"] or p["other_values"]:
        others = Table("whose", "what", "value", "reports", title="Other people in these reports (not the suspect)")
        for fact in p["other_people"]:
            others.add_row(
                fact["role_label"], fact["field"].replace("_", " "), safe(fact["value"]), _few(fact["reports"])
            )
        for item in (
            i
            for i in p["other_values"]
            if i["kind"] not in (_SHOWN_AS_ACCOUNT if i["role"] == "incident" else _SHOWN_AS_REPORTED)
        ):
            others.add_row(item["whose"], item["kind"], safe(item["shown"]), _few(item["reports"]))
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
    app.command("search")(search_command)
    app.add_typer(suspect_app, name="suspect")
