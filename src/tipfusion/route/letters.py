"""Write a request: an editable Word letter, a PDF, and the annex as CSV and XLSX; SHA-256 of every part.

The wording comes from the deployment profile (a BNSS 2023 s.94 notice over the issuing officer's name for the
Indian profile); a unit changes it by pointing TIPFUSION_TEMPLATES_DIR at its own `notice.html.j2`.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from docx import Document
from docx.shared import Pt
from jinja2 import BaseLoader, ChoiceLoader, Environment, FileSystemLoader, PackageLoader, select_autoescape
from openpyxl import Workbook

from tipfusion.route.requests import IspRequest

ANNEX_FIELDS = [
    "item",
    "ip",
    "source_port",
    "time_utc",
    "time_isp_zone",
    "isp_log_timezone",
    "event",
    "report_id",
    "suspect_id",
    "caution",
]


@dataclass(frozen=True)
class LetterContext:
    reference: str
    date: datetime
    signatory: str
    officer: str | None
    email: str | None
    address: str | None
    synthetic: bool


def paragraphs(request: IspRequest, context: LetterContext) -> tuple[str, list[str]]:
    title = "Notice under Section 94 of the Bharatiya Nagarik Suraksha Sanhita, 2023"
    body = [
        f"This office is investigating offences under Section 67B of the Information Technology Act, 2000 and "
        f"Sections 13 to 15 of the Protection of Children from Sexual Offences Act, 2012, reported through the "
        f"CyberTipline. The Internet Protocol addresses listed below were used on {request.isp}'s network at the "
        f"times stated.",
        "You are hereby required, under Section 94 of the Bharatiya Nagarik Suraksha Sanhita, 2023, to produce for "
        "each entry the subscriber details: name, installation or billing address, registered mobile and "
        "alternate numbers, email address, identity document type and number, and connection type, together "
        "with the session logs that establish the allocation.",
        f"Each entry gives the source port and the date-time to the second, in UTC and in {request.log_timezone} "
        f"(the time zone of your logs). For addresses shared through carrier-grade NAT, please match on address, "
        f"source port and time together.",
        "Under Rule 3(1)(j) of the Information Technology (Intermediary Guidelines and Digital Media Ethics Code) "
        "Rules, 2021, the information is to be furnished within 72 hours of receipt of this notice. The annex "
        f"accompanies this notice as a spreadsheet ({len(request.items)} entries).",
    ]
    return title, body


def _environment(templates: Path | None) -> Environment:
    loaders: list[BaseLoader] = [PackageLoader("tipfusion.route", "templates")]
    if templates is not None:
        loaders.insert(0, FileSystemLoader(str(templates)))
    return Environment(loader=ChoiceLoader(loaders), autoescape=select_autoescape(["html", "j2"]))


@dataclass(frozen=True)
class Letter:
    """What a notice says, whoever it goes to: an ISP, or a platform."""

    recipient: str
    title: str
    paragraphs: list[str]
    columns: list[tuple[str, str]]  # (row key, column heading) shown in the letter's table
    annex_fields: list[str]  # every field of the annex spreadsheet
    rows: list[dict[str, object]]


ISP_COLUMNS = [
    ("item", "#"),
    ("ip", "IP address"),
    ("source_port", "Source port"),
    ("time_utc", "Date-time (UTC)"),
    ("time_isp_zone", "Date-time ({zone})"),
    ("event", "Event"),
    ("caution", "Caution"),
]


def isp_letter(request: IspRequest, context: LetterContext) -> Letter:
    title, body = paragraphs(request, context)
    columns = [(key, label.format(zone=request.log_timezone)) for key, label in ISP_COLUMNS]
    return Letter(request.isp, title, body, columns, ANNEX_FIELDS, [item.row() for item in request.items])


def write_request(
    request: IspRequest, context: LetterContext, folder: Path, templates: Path | None = None
) -> dict[str, str]:
    return write_letter(isp_letter(request, context), context, folder, templates)


def write_letter(letter: Letter, context: LetterContext, folder: Path, templates: Path | None = None) -> dict[str, str]:
    """Write the notice (DOCX, PDF), its annex (CSV, XLSX) and a manifest into `folder`; return {file: sha256}."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = context.reference.replace("/", "-")
    written: dict[str, Path] = {}
    banner = "SYNTHETIC DATA — generated for testing; not a real notice"

    annex_csv = folder / f"{stem}-annex.csv"
    with annex_csv.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=letter.annex_fields)
        writer.writeheader()
        writer.writerows(letter.rows)
    written[annex_csv.name] = annex_csv

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Annex"
    sheet.append(letter.annex_fields)
    for row in letter.rows:
        sheet.append([row[f] for f in letter.annex_fields])
    if context.synthetic:
        sheet.insert_rows(1)
        sheet["A1"] = banner
    annex_xlsx = folder / f"{stem}-annex.xlsx"
    book.save(annex_xlsx)
    written[annex_xlsx.name] = annex_xlsx

    document = Document()
    style = document.styles["Normal"]
    style.font.name = "DejaVu Serif"
    style.font.size = Pt(11)
    if context.synthetic:
        document.add_paragraph(banner).runs[0].bold = True
    document.add_paragraph(f"No. {context.reference}\tDate: {context.date:%d.%m.%Y}")
    addressee = ["To,", context.officer or "The Nodal Officer", letter.recipient]
    addressee += [x for x in (context.address, context.email) if x]
    document.add_paragraph("\n".join(addressee))
    document.add_heading(letter.title, level=1)
    for paragraph in letter.paragraphs:
        document.add_paragraph(paragraph)
    table = document.add_table(rows=1, cols=len(letter.columns))
    table.style = "Table Grid"
    for cell, (_, label) in zip(table.rows[0].cells, letter.columns, strict=True):
        cell.text = label
    for row in letter.rows:
        for cell, (key, _) in zip(table.add_row().cells, letter.columns, strict=True):
            cell.text = str(row[key])
    document.add_paragraph("")
    document.add_paragraph(context.signatory)
    docx_path = folder / f"{stem}.docx"
    document.save(str(docx_path))
    written[docx_path.name] = docx_path

    from weasyprint import HTML

    html = (
        _environment(templates)
        .get_template("notice.html.j2")
        .render(
            reference=context.reference,
            date=f"{context.date:%d.%m.%Y}",
            officer=context.officer,
            recipient=letter.recipient,
            address=context.address,
            email=context.email,
            title=letter.title,
            paragraphs=letter.paragraphs,
            columns=letter.columns,
            rows=letter.rows,
            signatory=context.signatory,
            synthetic=context.synthetic,
        )
    )
    pdf_path = folder / f"{stem}.pdf"
    HTML(string=html).write_pdf(str(pdf_path))
    written[pdf_path.name] = pdf_path

    digests = {name: hashlib.sha256(path.read_bytes()).hexdigest() for name, path in sorted(written.items())}
    manifest = folder / f"{stem}-manifest.txt"
    manifest.write_text("".join(f"{sha}  {name}\n" for name, sha in digests.items()))
    return digests
