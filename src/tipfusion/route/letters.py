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
from jinja2 import BaseLoader, ChoiceLoader, Environment, FileSystemLoader, PackageLoader, select_autoescape
from openpyxl import Workbook

from tipfusion.documents import FONT_STACK, render_pdf, style_docx
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


def paragraphs(request: IspRequest) -> tuple[str, list[str]]:
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


def paragraphs_hindi(request: IspRequest) -> tuple[str, list[str]]:
    """The same notice in Hindi: officers and many ISP nodal offices work in both languages."""
    title = "भारतीय नागरिक सुरक्षा संहिता, 2023 की धारा 94 के अंतर्गत नोटिस"
    body = [
        "यह कार्यालय साइबरटिपलाइन के माध्यम से प्राप्त सूचना के आधार पर सूचना प्रौद्योगिकी अधिनियम, 2000 की धारा 67ख "
        "तथा लैंगिक अपराधों से बालकों का संरक्षण अधिनियम, 2012 की धारा 13 से 15 के अंतर्गत अपराधों की जांच कर रहा है। "
        f"नीचे सूचीबद्ध इंटरनेट प्रोटोकॉल पते बताए गए समय पर {request.isp} के नेटवर्क पर प्रयुक्त हुए थे।",
        "भारतीय नागरिक सुरक्षा संहिता, 2023 की धारा 94 के अंतर्गत आपसे अपेक्षा है कि प्रत्येक प्रविष्टि के लिए ग्राहक का "
        "विवरण प्रस्तुत करें: नाम, संस्थापन या बिलिंग पता, पंजीकृत मोबाइल एवं वैकल्पिक नंबर, ईमेल पता, पहचान दस्तावेज़ का "
        "प्रकार एवं संख्या, तथा कनेक्शन का प्रकार, साथ ही वे सत्र लॉग जिनसे आवंटन स्थापित होता है।",
        f"प्रत्येक प्रविष्टि में स्रोत पोर्ट तथा सेकंड तक दिनांक-समय UTC में और {request.log_timezone} (आपके लॉग के समय "
        "क्षेत्र) में दिया गया है। कैरियर-ग्रेड NAT द्वारा साझा किए गए पतों के लिए कृपया पता, स्रोत पोर्ट और समय तीनों का "
        "एक साथ मिलान करें।",
        "सूचना प्रौद्योगिकी (मध्यवर्ती दिशानिर्देश और डिजिटल मीडिया आचार संहिता) नियम, 2021 के नियम 3(1)(ञ) के अंतर्गत "
        "यह जानकारी इस नोटिस की प्राप्ति के 72 घंटों के भीतर उपलब्ध कराई जानी है। अनुलग्नक इस नोटिस के साथ स्प्रेडशीट "
        f"के रूप में संलग्न है ({len(request.items)} प्रविष्टियाँ)।",
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
    title_hindi: str | None = None  # the Hindi text follows the English one, when the profile writes both
    paragraphs_hindi: tuple[str, ...] = ()


ISP_COLUMNS = [
    ("item", "#"),
    ("ip", "IP address / आईपी पता"),
    ("source_port", "Source port / स्रोत पोर्ट"),
    ("time_utc", "Date-time (UTC) / दिनांक-समय"),
    ("time_isp_zone", "Date-time ({zone})"),
    ("event", "Event / घटना"),
    ("caution", "Caution / सावधानी"),
]


def isp_letter(request: IspRequest) -> Letter:
    title, body = paragraphs(request)
    columns = [(key, label.format(zone=request.log_timezone)) for key, label in ISP_COLUMNS]
    title_hindi, body_hindi = paragraphs_hindi(request)
    rows = [item.row() for item in request.items]
    return Letter(request.isp, title, body, columns, ANNEX_FIELDS, rows, title_hindi, tuple(body_hindi))


def write_request(
    request: IspRequest, context: LetterContext, folder: Path, templates: Path | None = None
) -> dict[str, str]:
    return write_letter(isp_letter(request), context, folder, templates)


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
    style_docx(document)
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
    if letter.title_hindi:
        document.add_heading(letter.title_hindi, level=1)
        for paragraph in letter.paragraphs_hindi:
            document.add_paragraph(paragraph)
    document.add_paragraph("")
    document.add_paragraph(context.signatory)
    docx_path = folder / f"{stem}.docx"
    document.save(str(docx_path))
    written[docx_path.name] = docx_path

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
            title_hindi=letter.title_hindi,
            paragraphs_hindi=letter.paragraphs_hindi,
            font_stack=FONT_STACK,
            columns=letter.columns,
            rows=letter.rows,
            signatory=context.signatory,
            synthetic=context.synthetic,
        )
    )
    pdf_path = folder / f"{stem}.pdf"
    render_pdf(html, pdf_path)
    written[pdf_path.name] = pdf_path

    digests = {name: hashlib.sha256(path.read_bytes()).hexdigest() for name, path in sorted(written.items())}
    manifest = folder / f"{stem}-manifest.txt"
    manifest.write_text("".join(f"{sha}  {name}\n" for name, sha in digests.items()))
    return digests
