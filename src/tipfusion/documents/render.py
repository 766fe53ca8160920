"""PDF from HTML (WeasyPrint, vendored fonts), and Word styling that shows Hindi in a police office's Word."""

from __future__ import annotations

import atexit
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from docx.enum.section import WD_ORIENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from tipfusion.documents.fonts import font_face_css

# Word shapes Devanagari with the complex-script font of a run; Nirmala UI ships with every Windows since 8.
LATIN_FONT = "Noto Sans"
DEVANAGARI_FONT = "Nirmala UI"


@cache
def _fonts() -> tuple[Any, Any]:
    """One font configuration per process: loading the @font-face files is a large part of a short document."""
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()  # @font-face rules load only through a font configuration shared with the render
    return fonts, CSS(string=font_face_css(), font_config=fonts)


atexit.register(_fonts.cache_clear)  # release it while the interpreter can still run its finaliser


def render_pdf(html: str, path: Path) -> None:
    from weasyprint import HTML

    fonts, faces = _fonts()
    HTML(string=html).write_pdf(str(path), stylesheets=[faces], font_config=fonts)


def style_docx(document: Any, size: float = 10.5) -> None:
    """Normal style: a Latin font, a Devanagari complex-script font and Hindi as the complex-script language."""
    style = document.styles["Normal"]
    style.font.name = LATIN_FONT
    style.font.size = Pt(size)
    properties = style.element.get_or_add_rPr()
    fonts = properties.find(qn("w:rFonts"))
    if fonts is None:
        fonts = properties.makeelement(qn("w:rFonts"), {})
        properties.append(fonts)
    fonts.set(qn("w:cs"), DEVANAGARI_FONT)
    fonts.set(qn("w:hAnsi"), LATIN_FONT)
    language = properties.makeelement(qn("w:lang"), {qn("w:val"): "en-IN", qn("w:bidi"): "hi-IN"})
    properties.append(language)


# The PDFs' page (document.html.j2, notice.html.j2): A4, these margins in mm (top, right, bottom, left). Word's
# default template is US Letter, which an Indian office printer crops or shrinks.
A4_MM = (210, 297)
MARGINS_MM = (15, 13, 16, 13)


def page_a4(document: Any, landscape: bool = False, margins: Sequence[float] = MARGINS_MM) -> float:
    """Every section of a Word file on A4 with the PDF's margins; returns the text width in mm (for tables)."""
    width, height = A4_MM if not landscape else A4_MM[::-1]
    for section in document.sections:
        section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Mm(width), Mm(height)
        section.top_margin, section.right_margin, section.bottom_margin, section.left_margin = (Mm(m) for m in margins)
    return width - margins[1] - margins[3]


def header_row(table: Any, widths: Sequence[float] = (), text_width_mm: float = 184) -> None:
    """The first row repeats at the top of each page (`w:tblHeader`), as the PDF's <thead> does; with `widths`,
    fixed column widths (relative) set on the grid, which rows added later copy."""
    properties = table.rows[0]._tr.get_or_add_trPr()
    properties.append(OxmlElement("w:tblHeader"))
    if not widths:
        return
    table.autofit = False
    total = sum(widths)
    columns = [Mm(text_width_mm * w / total) for w in widths]
    for grid_column, width in zip(table._tbl.tblGrid.gridCol_lst, columns, strict=True):
        grid_column.w = width
    for cell, width in zip(table.rows[0].cells, columns, strict=True):
        cell.width = width


def keep_row_together(row: Any) -> None:
    """A row is not split across pages (`w:cantSplit`): a value and its report number stay on one page."""
    row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))


@dataclass(frozen=True)
class Described:
    """A file's own properties (Word: File › Info; Excel: document properties): who wrote it and what it is,
    never a library's defaults ("python-docx", "openpyxl", a 2013 date)."""

    title: str
    author: str
    subject: str = ""
    keywords: str = ""
    category: str = ""
    created: datetime | None = None


def describe_docx(document: Any, about: Described) -> None:
    properties = document.core_properties
    properties.title = about.title
    properties.author = about.author
    properties.last_modified_by = about.author
    properties.subject = about.subject
    properties.keywords = about.keywords
    properties.category = about.category
    properties.comments = ""
    properties.language = "en-IN"
    properties.revision = 1
    if about.created is not None:  # python-docx writes the wall time with a Z: give it UTC
        properties.created = properties.modified = about.created.astimezone(UTC)


def describe_xlsx(book: Any, about: Described) -> None:
    properties = book.properties
    properties.title = about.title
    properties.creator = about.author
    properties.lastModifiedBy = about.author
    properties.subject = about.subject or None
    properties.keywords = about.keywords or None
    properties.category = about.category or None
    properties.language = "en-IN"
    if about.created is not None:  # Excel keeps UTC without a zone
        moment = about.created.astimezone(UTC).replace(tzinfo=None) if about.created.tzinfo else about.created
        properties.created = properties.modified = moment


def html_to_docx(html: str, path: Path, size: float = 10) -> None:
    """Word from the HTML a template rendered, so a unit's own template decides the Word file as well as the PDF.

    Headings (h1-h3), paragraphs, lists and tables are carried over, with bold and italic runs; styling is Word's.
    """
    from docx import Document
    from lxml import html as lxml_html

    root = lxml_html.document_fromstring(html)
    document = Document()
    style_docx(document, size)
    page_a4(document)
    body = root.find("body")
    for element in body if body is not None else []:
        _add_block(document, element)
    document.save(str(path))


def _add_block(document: Any, element: Any) -> None:
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag in ("h1", "h2", "h3"):
        document.add_heading(" ".join(element.text_content().split()), level=int(tag[1]))
    elif tag == "p":
        paragraph = document.add_paragraph()
        _add_runs(paragraph, _segments(element, False, False))
        if "synthetic" in (element.get("class") or "").split():
            for run in paragraph.runs:
                run.bold = True
                run.font.color.rgb = RGBColor(0xB0, 0, 0)
    elif tag in ("ul", "ol"):
        style = "List Number" if tag == "ol" else "List Bullet"
        for item in element.iter("li"):
            _add_runs(document.add_paragraph(style=style), _segments(item, False, False))
    elif tag == "table":
        _add_table(document, element)
    elif tag in ("div", "section", "article", "main", "header", "footer"):
        for child in element:
            _add_block(document, child)


def _add_table(document: Any, element: Any) -> None:
    rows = [[cell for cell in row if cell.tag in ("th", "td")] for row in element.iter("tr")]
    width = max((len(r) for r in rows), default=0)
    if not width:
        return
    table = document.add_table(rows=0, cols=width)
    table.style = "Table Grid"
    for cells in rows:
        for target, cell in zip(table.add_row().cells, cells, strict=False):
            _add_runs(target.paragraphs[0], _segments(cell, cell.tag == "th", False))


def _segments(element: Any, bold: bool, italic: bool) -> list[tuple[str, bool, bool]]:
    """(text, bold, italic) pieces of an element in reading order, <br> as a line break."""
    pieces = [(element.text or "", bold, italic)]
    for child in element:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag == "br":
            pieces.append(("\n", bold, italic))
        elif tag:
            pieces.extend(_segments(child, bold or tag in ("b", "strong", "th"), italic or tag in ("i", "em")))
        pieces.append((child.tail or "", bold, italic))
    return pieces


def _add_runs(paragraph: Any, pieces: list[tuple[str, bool, bool]]) -> None:
    """Whitespace as a browser shows it: runs of spaces and newlines collapse to one space, ends trimmed."""
    items = [["\n" if text == "\n" else re.sub(r"\s+", " ", text), bold, italic] for text, bold, italic in pieces]
    for ordered, strip in ((items, str.lstrip), (list(reversed(items)), str.rstrip)):
        for item in ordered:
            item[0] = strip(str(item[0]), " ")
            if item[0]:
                break
    for text, bold, italic in items:
        if text:
            run = paragraph.add_run(str(text))
            run.bold = bool(bold) or None
            run.italic = bool(italic) or None
