"""One layout, two renderings: a document is a list of blocks (headings, paragraphs, tables, figures) written both
as an editable Word file and as a PDF, so the two never say different things."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docx import Document
from docx.shared import Pt, RGBColor
from jinja2 import BaseLoader, ChoiceLoader, Environment, FileSystemLoader, PackageLoader, select_autoescape

from tipfusion.documents.fonts import FONT_STACK
from tipfusion.documents.render import (
    Described,
    describe_docx,
    header_row,
    keep_row_together,
    page_a4,
    render_pdf,
    style_docx,
)

SYNTHETIC_BANNER = "SYNTHETIC DATA — generated for testing; not a real case"


@dataclass(frozen=True)
class Heading:
    text: str
    hindi: str = ""
    level: int = 2


@dataclass(frozen=True)
class Para:
    text: str
    hindi: str = ""
    style: str = ""  # "" | "warning" | "meta" | "small" | "lines" (each line kept: a letterhead) | "signature"


@dataclass(frozen=True)
class Grid:
    headers: list[str]
    rows: list[list[str]]
    note: str = ""
    widths: tuple[int, ...] = ()  # relative column widths (the PDF lays tables out fixed, for speed)


@dataclass(frozen=True)
class Figure:
    """An SVG drawing for the PDF; Word gets the caption (its data is in a table next to it)."""

    svg: str
    caption: str


Block = Heading | Para | Grid | Figure


@dataclass
class DocumentSpec:
    title: str
    reference: str
    blocks: list[Block] = field(default_factory=list)
    synthetic: bool = False
    landscape: bool = False
    about: Described | None = None  # the file's own properties (author: the unit); the title when not given
    footer: str = ""  # a second footer line on every page (the unit's signing key)


def template_environment(templates: Path | None) -> Environment:
    """The built-in templates, each replaceable by a file of the same name in the unit's templates folder."""
    loaders: list[BaseLoader] = [PackageLoader("tipfusion.documents", "templates")]
    if templates is not None:
        loaders.insert(0, FileSystemLoader(str(templates)))
    return Environment(loader=ChoiceLoader(loaders), autoescape=select_autoescape(["html", "j2"]))


def write_pdf(spec: DocumentSpec, path: Path, templates: Path | None = None) -> None:
    html = (
        template_environment(templates)
        .get_template("document.html.j2")
        .render(spec=spec, banner=SYNTHETIC_BANNER, font_stack=FONT_STACK, kinds=_kinds(spec.blocks))
    )
    render_pdf(html, path)


def _kinds(blocks: list[Block]) -> list[str]:
    return [type(b).__name__.lower() for b in blocks]


def write_docx(spec: DocumentSpec, path: Path) -> None:
    document = Document()
    style_docx(document, 10)
    text_width = page_a4(document, spec.landscape)
    describe_docx(document, spec.about or Described(spec.title, ""))
    section = document.sections[0]
    section.footer.paragraphs[0].text = (
        spec.reference
        + (f" — {SYNTHETIC_BANNER}" if spec.synthetic else "")
        + (f"\n{spec.footer}" if spec.footer else "")
    )
    if spec.synthetic:
        run = document.add_paragraph().add_run(SYNTHETIC_BANNER)
        run.bold = True
        run.font.color.rgb = RGBColor(0xB0, 0, 0)
    document.add_heading(spec.title, level=0)
    for block in spec.blocks:
        if isinstance(block, Heading):
            document.add_heading(block.text + (f" / {block.hindi}" if block.hindi else ""), level=block.level)
        elif isinstance(block, Para):
            _paragraph(document, block)
        elif isinstance(block, Grid):
            _table(document, block, text_width)
        elif isinstance(block, Figure):
            document.add_paragraph(block.caption).runs[0].italic = True
    document.save(str(path))


def _paragraph(document: Any, block: Para) -> None:
    paragraph = document.add_paragraph()
    run = paragraph.add_run(block.text)  # a newline becomes a line break
    if block.style == "warning":
        run.bold = True
        run.font.color.rgb = RGBColor(0xB0, 0, 0)
    elif block.style in ("small", "meta"):
        run.font.size = Pt(8.5)
    elif block.style == "signature":
        paragraph.paragraph_format.space_before = Pt(18)
    if block.hindi:
        hindi = document.add_paragraph().add_run(block.hindi)
        hindi.italic = block.style not in ("warning", "lines", "signature")
        hindi.bold = block.style == "warning"


def _table(document: Any, block: Grid, text_width: float) -> None:
    """Header row repeated on each page, the PDF's relative column widths, no row split across pages."""
    table = document.add_table(rows=1, cols=len(block.headers))
    table.style = "Table Grid"
    header_row(table, block.widths, text_width)
    for cell, label in zip(table.rows[0].cells, block.headers, strict=True):
        cell.text = label
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for values in block.rows:
        row = table.add_row()
        keep_row_together(row)
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    if block.note:
        document.add_paragraph(block.note).runs[0].font.size = Pt(8.5)
