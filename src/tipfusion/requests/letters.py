"""Write a request: an editable Word letter, a PDF, and the annex as CSV and XLSX, sealed as a BagIt bag (SHA-256
of every part, signed with the unit's key when it has one; the same layout as a referral package).

The wording comes from the deployment profile (a BNSS 2023 s.94 notice for the Indian profile); a unit changes it by
pointing TIPFUSION_TEMPLATES_DIR at its own `notice.html.j2`. A nodal officer acts on a notice that says who sent it
and how to reach them (the unit profile: letterhead and signature), which case it serves (the FIR, once there is
one), and what is asked: the letter in English, then in Hindi, then the annex.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from docx import Document
from docx.shared import Pt
from jinja2 import BaseLoader, ChoiceLoader, Environment, FileSystemLoader, PackageLoader, select_autoescape
from openpyxl import Workbook

from tipfusion.documents.clock import clock
from tipfusion.documents.fonts import FONT_STACK
from tipfusion.documents.manifest import bag_info, file_stem, fresh_folder, key_footer, seal
from tipfusion.documents.render import (
    Described,
    describe_docx,
    describe_xlsx,
    header_row,
    page_a4,
    render_pdf,
    style_docx,
)
from tipfusion.documents.sheets import Column, about_sheet, banner, write_table
from tipfusion.exports.spreadsheet import write_csv
from tipfusion.keys.signing import Signer
from tipfusion.requests.context import LetterContext
from tipfusion.requests.isp import IspRequest

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


SYNTHETIC_NOTICE = "SYNTHETIC DATA — generated for testing; not a real notice"
MARGINS_MM = (18, 16, 18, 16)  # notice.html.j2's page


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
        "Each entry gives the source port and the date-time to the second, in "
        + ("UTC" if request.log_timezone == "UTC" else f"UTC and in {request.log_timezone}")
        + " (the time zone of your logs). For addresses shared through carrier-grade NAT, please match on address, "
        "source port and time together.",
        "Under Rule 3(1)(j) of the Information Technology (Intermediary Guidelines and Digital Media Ethics Code) "
        "Rules, 2021, the information is to be furnished within 72 hours of receipt of this notice. The entries are "
        f"listed in the annex below, which also accompanies this notice as a spreadsheet ({_entries(request)}).",
    ]
    return title, body


def _entries(request: IspRequest) -> str:
    return f"{len(request.items)} {'entry' if len(request.items) == 1 else 'entries'}"


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
        "प्रत्येक प्रविष्टि में स्रोत पोर्ट तथा सेकंड तक दिनांक-समय "
        + ("UTC" if request.log_timezone == "UTC" else f"UTC में और {request.log_timezone}")
        + " (आपके लॉग के समय क्षेत्र) में दिया गया है। कैरियर-ग्रेड NAT द्वारा साझा किए गए पतों के लिए कृपया पता, स्रोत "
        "पोर्ट और समय तीनों का एक साथ मिलान करें।",
        "सूचना प्रौद्योगिकी (मध्यवर्ती दिशानिर्देश और डिजिटल मीडिया आचार संहिता) नियम, 2021 के नियम 3(1)(ञ) के अंतर्गत "
        "यह जानकारी इस नोटिस की प्राप्ति के 72 घंटों के भीतर उपलब्ध कराई जानी है। प्रविष्टियाँ नीचे अनुलग्नक में सूचीबद्ध "
        f"हैं, जो इस नोटिस के साथ स्प्रेडशीट के रूप में भी संलग्न है ({len(request.items)} "
        + ("प्रविष्टि" if len(request.items) == 1 else "प्रविष्टियाँ")
        + ")।",
    ]
    return title, body


def _environment(templates: Path | None) -> Environment:
    loaders: list[BaseLoader] = [PackageLoader("tipfusion.requests", "templates")]
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
    columns = [
        (key, label.format(zone=request.log_timezone))
        for key, label in ISP_COLUMNS
        if not (key == "time_isp_zone" and request.log_timezone == "UTC")  # an ISP logging in UTC: one time column
    ]
    title_hindi, body_hindi = paragraphs_hindi(request)
    rows = [item.row() for item in request.items]
    return Letter(request.isp, title, body, columns, ANNEX_FIELDS, rows, title_hindi, tuple(body_hindi))


def write_request(
    request: IspRequest,
    context: LetterContext,
    folder: Path,
    templates: Path | None = None,
    signer: Signer | None = None,
) -> dict[str, str]:
    return write_letter(isp_letter(request), context, folder, templates, signer)


# The annex spreadsheet's headings (the CSV keeps the field names): times are date-time cells.
ANNEX_HEADINGS: dict[str, tuple[str, str]] = {
    "item": ("#", "text"),
    "ip": ("IP address", "text"),
    "source_port": ("Source port", "text"),
    "time_utc": ("Date-time (UTC)", "utc"),
    "time_isp_zone": ("Date-time ({zone})", "local"),
    "isp_log_timezone": ("Time zone of the ISP's logs", "text"),
    "event": ("Event", "text"),
    "report_id": ("CyberTipline report", "text"),
    "suspect_id": ("Our reference", "text"),
    "caution": ("Caution", "text"),
    "account_id": ("Account (user ID)", "text"),
    "screen_name": ("Screen name", "text"),
    "reports": ("CyberTipline reports", "text"),
}


def _annex_columns(letter: Letter) -> list[Column]:
    zone = str(letter.rows[0].get("isp_log_timezone") or "ISP's zone") if letter.rows else "ISP's zone"
    columns = []
    for key in letter.annex_fields:
        heading, kind = ANNEX_HEADINGS.get(key, (key, "text"))
        columns.append(Column(key, heading.format(zone=zone), kind))
    return columns


def _shown(key: str, value: object, zone: ZoneInfo | None) -> str:
    """A letter-table cell: times to the second with their zone, unbroken (the annex holds the exact ISO form)."""
    if key == "time_utc":
        return clock(str(value))
    if key == "time_isp_zone":
        return clock(str(value), zone)
    return str(value)


def write_letter(
    letter: Letter,
    context: LetterContext,
    folder: Path,
    templates: Path | None = None,
    signer: Signer | None = None,
) -> dict[str, str]:
    """Write the notice (DOCX, PDF) and its annex (CSV, XLSX) into `folder` and seal it; return {part: sha256}.

    The service passes a work folder (`documents.staging`), so the notice takes its name only once it is on record."""
    fresh_folder(folder)
    stem = file_stem(context.reference)
    footer = key_footer(signer.fingerprint if signer else None)
    described = Described(
        f"{letter.title} — {context.reference}",
        context.unit.name,
        f"Notice to {letter.recipient}",
        keywords=f"notice; {context.reference}",
        category="Notice" + (" (SYNTHETIC DATA)" if context.synthetic else ""),
        created=context.date,
    )
    _write_annex(letter, context, folder / f"{stem}-annex", described)
    zone_name = str(letter.rows[0].get("isp_log_timezone") or "") if letter.rows else ""
    zone = ZoneInfo(zone_name) if zone_name else None
    table = [{key: _shown(key, row[key], zone) for key, _ in letter.columns} for row in letter.rows]
    _write_docx(letter, context, table, folder / f"{stem}.docx", described, footer)

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
            rows=table,
            unit=context.unit,
            cases=context.case_lines,
            signature=context.signature,
            synthetic=context.synthetic,
            banner=SYNTHETIC_NOTICE,
            key_footer=footer,
        )
    )
    render_pdf(html, folder / f"{stem}.pdf")
    title = f"tipfusion notice to {letter.recipient}"
    info = bag_info(title, context.reference, context.unit.name, f"{context.date:%Y-%m-%d}", context.synthetic)
    return seal(folder, info, signer).files


def _write_annex(letter: Letter, context: LetterContext, stem: Path, described: Described) -> dict[str, Path]:
    """The annex twice: CSV (field names, ISO times: what a log search takes) and XLSX (headings, date-time cells)."""
    annex_csv = stem.with_name(stem.name + ".csv")
    write_csv(annex_csv, letter.annex_fields, letter.rows)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Annex"
    columns = _annex_columns(letter)
    write_table(sheet, columns, ([row[c.key] for c in columns] for row in letter.rows))
    if context.synthetic:
        banner(sheet, SYNTHETIC_NOTICE)
    about = [
        ("Notice", f"{context.reference} of {context.date:%d.%m.%Y}"),
        ("To", letter.recipient),
        ("From", context.unit.name),
        ("Contact", "; ".join(x for x in (context.unit.address, context.unit.contact) if x)),
        ("Case", "; ".join(c.english for c in context.case_lines)),
        ("Entries", str(len(letter.rows))),
        ("Times", "Date-time (UTC) cells are UTC; the next column is the same second in the ISP's log zone"),
    ]
    about_sheet(book, letter.title, about, SYNTHETIC_NOTICE if context.synthetic else "")
    describe_xlsx(book, described)
    annex_xlsx = stem.with_name(stem.name + ".xlsx")
    book.save(annex_xlsx)
    return {annex_csv.name: annex_csv, annex_xlsx.name: annex_xlsx}


def _write_docx(
    letter: Letter,
    context: LetterContext,
    table: list[dict[str, str]],
    path: Path,
    described: Described,
    footer: str,
) -> None:
    """Letterhead, number and date, the case, the addressee; the letter in English then Hindi; the signature; then
    the annex table (its header repeated on every page)."""
    document = Document()
    style_docx(document)
    text_width = page_a4(document, margins=MARGINS_MM)
    describe_docx(document, described)
    if context.synthetic:
        document.add_paragraph(SYNTHETIC_NOTICE).runs[0].bold = True
    unit = context.unit
    head = document.add_paragraph()
    head.add_run(unit.name).bold = True
    for line in (unit.address, unit.contact):
        if line:
            head.add_run("\n" + line).font.size = Pt(9)
    document.add_paragraph(f"No. {context.reference}\tDate: {context.date:%d.%m.%Y}")
    document.add_paragraph("Case / प्रकरण: " + "; ".join(c.english for c in context.case_lines))
    addressee = ["To,", context.officer or "The Nodal Officer", letter.recipient]
    addressee += [x for x in (context.address, context.email) if x]
    document.add_paragraph("\n".join(addressee))
    document.add_heading(letter.title, level=1)
    for paragraph in letter.paragraphs:
        document.add_paragraph(paragraph)
    if letter.title_hindi:
        document.add_heading(letter.title_hindi, level=1)
        document.add_paragraph("प्रकरण: " + "; ".join(c.hindi for c in context.case_lines))
        for paragraph in letter.paragraphs_hindi:
            document.add_paragraph(paragraph)
    signed = document.add_paragraph("\n".join(["Yours faithfully / भवदीय", "", *context.signature]))
    signed.paragraph_format.space_before = Pt(18)
    signed.paragraph_format.keep_together = True
    annex = document.add_heading(f"Annex / अनुलग्नक ({len(table)} {'entry' if len(table) == 1 else 'entries'})", level=2)
    annex.paragraph_format.keep_with_next = True  # the annex heading stays with its table
    grid = document.add_table(rows=1, cols=len(letter.columns))
    grid.style = "Table Grid"
    header_row(grid, _widths(letter), text_width)
    for cell, (_, label) in zip(grid.rows[0].cells, letter.columns, strict=True):
        cell.text = label
    for row in table:
        for cell, (key, _) in zip(grid.add_row().cells, letter.columns, strict=True):
            cell.text = row[key]
    document.sections[0].footer.paragraphs[0].text = f"{context.reference}\n{footer}"
    document.save(str(path))


_WIDTHS = {"item": 4, "caution": 22, "time_utc": 19, "time_isp_zone": 19, "ip": 18, "reports": 20}


def _widths(letter: Letter) -> tuple[float, ...]:
    return tuple(_WIDTHS.get(key, 12) for key, _ in letter.columns)
