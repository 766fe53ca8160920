"""Operations: a named drive groups the referrals built in its period; its report counts, per district and station,
what came of them — computed from the case records themselves, so the totals are always true."""

from __future__ import annotations

import html
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, select, update

from tipfusion.audit import UnitOfWork
from tipfusion.clock import show_time
from tipfusion.errors import NotFound, TipfusionError
from tipfusion.store import repository as repo
from tipfusion.store.tables import cases, operations, referrals, report_links, reports

COLUMNS = [
    ("reports", "Reports analysed"),
    ("networks", "Networks"),
    ("referrals", "Referrals sent"),
    ("firs", "FIRs registered"),
    ("arrests", "Arrests"),
    ("devices", "Devices seized"),
    ("chargesheets", "Chargesheets"),
    ("closed", "Closed"),
]


def create_operation(
    engine: Engine, actor: str, name: str, starts: datetime, ends: datetime, title: str | None
) -> None:
    if ends <= starts:
        raise TipfusionError(f"operation {name}: the end ({ends}) must come after the start ({starts})")
    with UnitOfWork(engine, actor) as uow:
        conn = uow.conn
        exists = conn.execute(select(operations.c.name).where(operations.c.name == name)).first()
        values = {"title": title, "starts_at": starts, "ends_at": ends}
        if exists:
            conn.execute(update(operations).where(operations.c.name == name).values(**values))
        else:
            conn.execute(insert(operations).values(name=name, actor=actor, created_at=repo.now(), **values))
        # referrals built in the period without an operation join it
        conn.execute(
            update(referrals)
            .where(referrals.c.operation.is_(None), referrals.c.built_at >= starts, referrals.c.built_at <= ends)
            .values(operation=name)
        )
        details = {"starts": starts.isoformat(), "ends": ends.isoformat(), "title": title}
        uow.record("operation.saved", "operation", name, details)


@dataclass
class OperationReport:
    name: str
    title: str | None
    starts: Any
    ends: Any
    rows: list[dict[str, Any]]  # one per (district, station)
    totals: dict[str, Any]
    synthetic: bool
    received: int = 0  # unit-wide: reports that arrived in the period (the drive's "reports analysed")
    received_networks: int = 0  # networks holding at least one of them

    @property
    def unit_wide(self) -> str:
        return (
            f"Unit-wide in the period: {self.received:,} reports received and analysed, "
            f"{self.received_networks:,} networks touched by them."
        )


def operation_report(engine: Engine, name: str) -> OperationReport:
    """Totals per district and station. Counts add up; reports and networks are distinct (a network whose members
    went to two stations counts once in the total)."""
    with engine.connect() as conn:
        op = conn.execute(select(operations).where(operations.c.name == name)).first()
        if op is None:
            raise NotFound(f"no operation {name!r} (see `tipfusion operation list`)")
        synthetic = repo.get_flag(conn, "synthetic") == "true"
        rows = conn.execute(
            select(
                referrals.c.id,
                referrals.c.kind,
                referrals.c.parent_id,
                referrals.c.snapshot,
                cases.c.district,
                cases.c.station,
                cases.c.fir_number,
                cases.c.arrests,
                cases.c.devices_seized,
                cases.c.chargesheet_date,
                cases.c.state,
            )
            .join(cases, cases.c.referral_id == referrals.c.id)
            .where(referrals.c.operation == name, referrals.c.kind == "initial")
        ).all()
        received = conn.execute(
            select(func.count()).where(
                reports.c.first_ingested_at >= op.starts_at, reports.c.first_ingested_at <= op.ends_at
            )
        ).scalar_one()
        received_networks = conn.execute(
            select(func.count(func.distinct(report_links.c.network_id)))
            .join(reports, reports.c.report_id == report_links.c.report_id)
            .where(
                reports.c.first_ingested_at >= op.starts_at,
                reports.c.first_ingested_at <= op.ends_at,
                report_links.c.network_id.is_not(None),
            )
        ).scalar_one()
        supplements: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for parent, snapshot in conn.execute(
            select(referrals.c.parent_id, referrals.c.snapshot).where(referrals.c.parent_id.is_not(None))
        ):
            supplements[int(parent)].append(snapshot or {})
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    everything: dict[str, set[Any]] = {"reports": set(), "networks": set()}
    for r in rows:
        key = (r.district or "central", r.station or "central unit")
        group = groups.setdefault(
            key,
            {
                "reports": set(),
                "networks": set(),
                "referrals": 0,
                "firs": 0,
                "arrests": 0,
                "devices": 0,
                "chargesheets": 0,
                "closed": 0,
            },
        )
        for snapshot in [r.snapshot or {}, *supplements.get(int(r.id), [])]:
            group["reports"].update(snapshot.get("reports", []))
            group["networks"].update(snapshot.get("networks", []))
        group["referrals"] += 1
        group["firs"] += 1 if r.fir_number else 0
        group["arrests"] += int(r.arrests)
        group["devices"] += int(r.devices_seized)
        group["chargesheets"] += 1 if r.chargesheet_date else 0
        group["closed"] += 1 if r.state == "closed" else 0
    table = []
    for (district, station), group in sorted(groups.items()):
        everything["reports"] |= group["reports"]
        everything["networks"] |= group["networks"]
        table.append({"district": district, "station": station, **{k: _count(v) for k, v in group.items()}})
    totals: dict[str, Any] = {"district": "All", "station": "All"}
    for column, _ in COLUMNS:
        totals[column] = len(everything[column]) if column in everything else sum(row[column] for row in table)
    return OperationReport(
        name, op.title, op.starts_at, op.ends_at, table, totals, synthetic, int(received), int(received_networks)
    )


def _count(value: Any) -> int:
    return len(value) if isinstance(value, set) else int(value)


def list_operations(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(operations).order_by(operations.c.starts_at)).all()
        per: dict[str, int] = dict(
            conn.execute(
                select(referrals.c.operation, func.count())
                .where(referrals.c.operation.is_not(None), referrals.c.kind == "initial")
                .group_by(referrals.c.operation)
            ).all()
        )
    return [
        {
            "name": r.name,
            "title": r.title or "",
            "starts": r.starts_at,
            "ends": r.ends_at,
            "referrals": per.get(r.name, 0),
        }
        for r in rows
    ]


def bar_chart_svg(report: OperationReport, width: int = 700, height: int = 260) -> str:
    """Referrals, FIRs and arrests per station, as an SVG the PDF draws (no plotting library, no images)."""
    series = [("referrals", "#4a6fa5"), ("firs", "#d08c2c"), ("arrests", "#b03030")]
    rows = report.rows[:24]
    top = max([1] + [row[k] for row in rows for k, _ in series])
    left, bottom, band = 30, height - 70, (width - 40) / max(1, len(rows))
    ceiling = 22  # the legend sits above the plot
    bar = band / (len(series) + 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-size="8">']
    parts.append(f'<line x1="{left}" y1="{bottom}" x2="{width - 5}" y2="{bottom}" stroke="#333"/>')
    for tick in range(0, top + 1, max(1, top // 5)):
        y = bottom - (bottom - ceiling) * tick / top
        parts.append(f'<text x="{left - 4}" y="{y + 3:.1f}" text-anchor="end">{tick}</text>')
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 5}" y2="{y:.1f}" stroke="#ddd"/>')
    for i, row in enumerate(rows):
        x0 = left + i * band
        for j, (key, colour) in enumerate(series):
            h = (bottom - ceiling) * row[key] / top
            parts.append(
                f'<rect x="{x0 + bar * (j + 0.5):.1f}" y="{bottom - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{colour}"/>'
            )
        label = html.escape(row["station"])
        parts.append(f'<text transform="translate({x0 + band / 2:.1f},{bottom + 6}) rotate(45)">{label}</text>')
    for j, (key, colour) in enumerate(series):
        parts.append(
            f'<rect x="{left + 10 + j * 90}" y="2" width="8" height="8" fill="{colour}"/>'
            f'<text x="{left + 22 + j * 90}" y="9">{dict(COLUMNS)[key]}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def write_report(
    report: OperationReport, fmt: str, output: Path, templates: Path | None = None, zone: tzinfo = UTC
) -> None:
    """CSV, XLSX (with a chart) or PDF; the period is shown in the unit's `zone`."""
    from tipfusion.documents.blocks import SYNTHETIC_BANNER  # the document stack loads only to write one

    output.parent.mkdir(parents=True, exist_ok=True)
    fields = ["district", "station", *[k for k, _ in COLUMNS]]
    rows = [*report.rows, report.totals]
    if fmt == "csv":
        from tipfusion.exports.spreadsheet import write_csv

        preamble = [SYNTHETIC_BANNER] if report.synthetic else []
        write_csv(output, fields, rows, [*preamble, report.unit_wide])
    elif fmt == "xlsx":
        from openpyxl import Workbook
        from openpyxl.chart import BarChart, Reference

        from tipfusion.exports.spreadsheet import append_row

        book = Workbook()
        default = book.active
        assert default is not None
        book.remove(default)
        sheet = book.create_sheet("Totals")
        offset = 0
        if report.synthetic:
            append_row(sheet, [SYNTHETIC_BANNER])
            offset = 1
        append_row(sheet, ["District", "Station", *[label for _, label in COLUMNS]])
        for row in rows:  # station names are the unit's own words, still never a live formula
            append_row(sheet, [row[f] for f in fields])
        append_row(sheet, [report.unit_wide])
        chart = BarChart()
        chart.title = f"Operation {report.name}"
        data = Reference(sheet, min_col=5, max_col=7, min_row=1 + offset, max_row=offset + 1 + len(report.rows))
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(Reference(sheet, min_col=2, min_row=2 + offset, max_row=offset + 1 + len(report.rows)))
        chart.width, chart.height = 24, 10
        sheet.add_chart(chart, f"A{len(rows) + 4 + offset}")
        book.save(output)
    elif fmt == "pdf":
        from tipfusion.documents.blocks import DocumentSpec, Figure, Grid, Para, write_pdf

        headers = ["District", "Station", *[label for _, label in COLUMNS]]
        spec = DocumentSpec(
            f"Operation {report.name}" + (f" — {report.title}" if report.title else ""),
            f"Operation {report.name}",
            [
                Para(
                    f"Period: {show_time(report.starts, zone)} … {show_time(report.ends, zone)}. {report.unit_wide} "
                    "Counts per station come from the case records; reports and networks are distinct in the total.",
                    style="meta",
                ),
                Figure(bar_chart_svg(report), "Referrals, FIRs registered and arrests per police station"),
                Grid(headers, [[str(row[f]) for f in fields] for row in rows]),
            ],
            report.synthetic,
            landscape=True,
        )
        write_pdf(spec, output, templates)
    else:
        raise TipfusionError(f"unknown format {fmt!r}: expected csv, xlsx or pdf")
