"""`tipfusion demo`: the main job of `make run` — a synthetic batch through every stage that exists."""

from __future__ import annotations

import os
import shutil
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from tipfusion import clock
from tipfusion.cli.context import AppContext, console, safe

if TYPE_CHECKING:
    from tipfusion.storage import Engine

DEMO_OPERATION = "DEMO-DRIVE"
DEMO_MARKER = "TIPFUSION-DEMO.txt"  # says the folder is the demo's own, so a rerun may replace what is in it
DEMO_STORE = "tipfusion.db"


def demo(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="Folder for the demo batch and its SQLite store")] = Path("demo"),
    reports: Annotated[int, typer.Option("--reports", min=10, help="Synthetic reports to generate")] = 3000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed")] = 42,
) -> None:
    """Generate a synthetic batch; ingest, enrich, link and triage it in a fresh store; show what came out."""
    from tipfusion.cli.enrich import print_enrich_summary
    from tipfusion.cli.ingest import print_summary
    from tipfusion.cli.link import print_link_summary
    from tipfusion.cli.network import print_network
    from tipfusion.cli.queue import print_queue
    from tipfusion.cli.route import print_routing
    from tipfusion.enrich.service import EnrichConfig, EnrichService
    from tipfusion.extras import demo_generator
    from tipfusion.ingest import IngestService
    from tipfusion.link.service import LinkService, largest_networks
    from tipfusion.requests.service import build_requests
    from tipfusion.route.service import import_jurisdiction, route_all
    from tipfusion.storage import headline_counts, safe_url
    from tipfusion.triage.service import TriageService

    app: AppContext = ctx.obj
    _claim(app, out)
    batch = out / "batch"
    result = demo_generator()(batch, reports, seed)
    console.print(
        f"[bold yellow]SYNTHETIC DATA[/]: generated {result.reports:,} reports with {result.files:,} "
        f"fileDetails, {result.persons:,} persons in {result.networks} networks → {batch}"
    )
    # the demo's own store, always: synthetic reports, referrals and cases never go into the configured store
    app.settings = app.settings.with_database(f"sqlite:///{out / DEMO_STORE}")
    app.__dict__.pop("engine", None)
    app.__dict__.pop("_ready", None)
    engine = app.ready_engine(create=True)
    console.rule("ingest")
    summary = IngestService(engine, app.settings, app.actor).ingest_paths([batch])
    print_summary(summary)
    console.rule("re-ingest the same batch (must be a no-op)")
    again = IngestService(engine, app.settings, app.actor).ingest_paths([batch])
    console.print(
        f"accepted {again.accepted}, updated {again.updated}, duplicates {again.duplicates:,}, "
        f"quarantined {again.quarantined}"
    )
    console.rule("normalised identifiers (sample)")
    _sample(app)
    console.rule("enrich (synthetic reference data: " + str(result.reference.isp_table.parent) + ")")
    config = EnrichConfig(tuple(result.reference.databases), result.reference.isp_table, result.reference.warninglist)
    print_enrich_summary(EnrichService(engine, config, app.actor).run())
    _ip_sample(app)
    link_summary = LinkService(engine, app.actor, app.settings.tuning().link).run()
    numbers, chain = headline_counts(engine)
    console.rule("store")
    app.banner()
    console.print(", ".join(f"{k.replace('_', ' ')}: {v:,}" for k, v in numbers.items()))
    console.print(
        f"audit chain: {'intact' if chain.ok else 'BROKEN at ' + str(chain.first_broken)}, {chain.count:,} entries"
    )
    shown_url = safe(safe_url(app.settings.database_url))
    console.print(
        f"store: {shown_url}  — explore with: tipfusion --database {shown_url} "
        "network show ID | export reports --output FILE | quarantine list",
        soft_wrap=True,
    )
    console.rule("link: suspects and networks")
    print_link_summary(link_summary)
    console.rule("triage: the work queue")
    triaged = TriageService(engine, app.actor, app.settings.tuning().triage).run()
    console.print(f"{triaged.lead_hits} suspect(s) named in the foreign lead list")
    print_queue(triaged.top, "suspect")
    console.rule("routing to police stations (SYNTHETIC demo jurisdiction)")
    import_jurisdiction(engine, app.actor, batch / "reference" / "demo-stations.geojson", synthetic=True)
    pins = batch / "reference" / "demo-pins.csv"
    print_routing(route_all(engine, app.actor, pins, None, app.settings.tuning().routing))
    console.rule("requests to ISPs (BNSS s.94 notices, DOCX + PDF, annex CSV + XLSX)")
    for request in build_requests(engine, app.settings, app.actor, out / "requests", result.reference.isp_table):
        console.print(
            f"{request.reference}: {request.items} sightings for {request.isp}; {request.excluded} CGNAT "
            f"sightings without a port left out → {request.folder}"
        )
    console.rule("the largest networks")
    for row in largest_networks(engine, 3):
        print_network(row.network_id, row.summary or {}, row.suspects, row.reports)
    _dissemination(app, engine, out)
    if summary.quarantined:
        raise typer.Exit(1)


def _claim(app: AppContext, out: Path) -> None:
    """Make `out` the demo's folder, emptied of an earlier demo: only a folder the demo made (it holds the marker
    file) or a new or empty one. `demo --out .` once deleted ./tipfusion.db and replaced ./batch."""
    from tipfusion.errors import InputRefused
    from tipfusion.storage import store_files

    app.output(out, "--out")
    marker = out / DEMO_MARKER
    if out.exists() and not out.is_dir():
        raise InputRefused(f"--out {out}: that is a file, not a folder; name a new folder for the demo", "--out")
    earlier = (out / "batch" / "SYNTHETIC-DATA.json").is_file()  # a demo folder from before the marker
    if out.is_dir() and any(out.iterdir()) and not (marker.is_file() or earlier):
        raise InputRefused(
            f"--out {out}: this folder was not made by tipfusion demo (it has no {DEMO_MARKER}) and is not empty; "
            "name a new folder, the demo replaces what is in its own",
            "--out",
        )
    configured = {os.path.realpath(p) for p in store_files(app.settings.database_url)}
    demo_store = {os.path.realpath(p) for p in store_files(f"sqlite:///{out / DEMO_STORE}")}
    if configured & demo_store and not (marker.is_file() or earlier):
        raise InputRefused(f"--out {out}: the configured store lives there; name another folder", "--out")
    out.mkdir(parents=True, exist_ok=True)
    marker.write_text(
        "This folder was made by `tipfusion demo`: SYNTHETIC data only. The demo replaces its contents on every "
        "run; nothing else should be kept here.\n",
        encoding="utf-8",
    )
    for folder in ("batch", "requests", "referrals", "operation"):
        if (out / folder).is_dir():
            shutil.rmtree(out / folder)
    for part in store_files(f"sqlite:///{out / DEMO_STORE}"):
        part.unlink(missing_ok=True)


def _dissemination(app: AppContext, engine: Engine, out: Path) -> None:
    """Referrals for the top suspects, a few station updates (SIMULATED, like all demo data), the drive's totals."""
    from tipfusion.cli.operation import print_operation
    from tipfusion.cli.refer import print_built
    from tipfusion.refer.service import build_many, top_subjects
    from tipfusion.track.operations import create_operation, operation_report, write_report
    from tipfusion.track.service import advance

    console.rule("referral packages (DOCX, PDF, JSON, Excel annex, s.63 certificate; a BagIt bag) for the top suspects")
    today = clock.now()
    create_operation(
        engine, app.actor, DEMO_OPERATION, today - timedelta(days=1), today + timedelta(days=1), "SYNTHETIC demo drive"
    )
    targets = top_subjects(engine, 5, routed_only=True) + top_subjects(engine, 3)
    built = build_many(engine, app.settings, app.actor, list(dict.fromkeys(targets)), out / "referrals")
    print_built(built)
    console.rule("station updates (SIMULATED for the demo)")
    day = today.astimezone(app.settings.profile.zone).date().isoformat()

    def full(n: int) -> list[tuple[str, dict[str, Any]]]:
        fir = {"fir_number": f"{n:04d}/{today.year}", "fir_date": day, "sections": "IT Act 67B; POCSO 15"}
        return [
            ("acknowledged", {}),
            ("fir_registered", fir),
            ("arrested", {"count": 1, "date": day}),
            ("devices_seized", {"count": 2, "date": day}),
        ]

    acknowledged_only: list[tuple[str, dict[str, Any]]] = [("acknowledged", {})]
    steps = [full(101), full(102), full(103), acknowledged_only]
    for referral, plan in zip(built, steps, strict=False):
        for step, fields in plan:
            advance(engine, app.settings, "station-officer (simulated)", referral.reference, step, fields)
        console.print(f"{referral.reference}: " + " → ".join(step for step, _ in plan))
    report = operation_report(engine, DEMO_OPERATION)
    print_operation(report)
    write_report(report, "pdf", out / "operation" / f"{DEMO_OPERATION}.pdf", zone=app.settings.profile.zone)
    write_report(report, "xlsx", out / "operation" / f"{DEMO_OPERATION}.xlsx")
    console.print(f"operation report → {out / 'operation'} (PDF with chart, XLSX); referrals → {out / 'referrals'}")


def _sample(app: AppContext) -> None:
    from tipfusion.ingest.service import observation_sample

    zone = app.settings.profile.zone
    table = Table(
        "kind",
        "as received",
        "normalised",
        "class",
        "port",
        "time (UTC)",
        f"time ({app.settings.profile.display_timezone})",
        "flags",
    )
    for row in observation_sample(app.ready_engine(), ("ip", "phone", "email", "device", "file_hash"), 2):
        at = row.observed_at
        table.add_row(
            row.kind,
            safe(row.raw),
            safe(row.value),
            safe(row.detail),
            str(row.port or ""),
            at.isoformat() if at else "",
            at.astimezone(zone).isoformat() if at else "",
            safe(row.flags),
        )
    console.print(table)


def _ip_sample(app: AppContext) -> None:
    from tipfusion.enrich.export import ip_rows

    with app.ready_engine().connect() as conn:
        rows = ip_rows(conn, app.settings.profile.zone)
    table = Table(
        "ip",
        "ISP",
        "network type",
        "accounts",
        "reports",
        "identifiable / sightings",
        "place (estimate, radius)",
        f"last seen ({app.settings.profile.display_timezone})",
        title="IP addresses used by most reports (tipfusion export ips --output FILE for all)",
    )
    shown: dict[str, dict[str, object]] = {}
    for row in rows:  # the busiest address of each network type
        shown.setdefault(row["network_type"], row)
    busiest = [row for row in rows[:4] if row not in shown.values()][:2]
    for row in list(shown.values()) + busiest:
        place = (
            f"{row['city_estimate'] or '-'}, {row['country_estimate'] or '-'} (±{row['accuracy_radius_km']} km)"
            if row["country_estimate"]
            else "-"
        )
        table.add_row(
            safe(row["ip"]),
            safe(row["isp"] or "-"),
            safe(row["network_type"]),
            str(row["accounts"]),
            str(row["reports"]),
            f"{row['identifiable_sightings']} / {row['sightings']}",
            safe(place),
            safe(row["last_seen_local"]),
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
