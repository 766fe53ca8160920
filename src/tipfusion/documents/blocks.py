"""One layout, two renderings: a document is a list of blocks (headings, paragraphs, tables, figures) written both
as an editable Word file and as a PDF, so the two never say different things."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.shared import Mm, Pt, RGBColor
from jinja2 import BaseLoader, ChoiceLoader, Environment, FileSystemLoader, PackageLoader, select_autoescape

from tipfusion.documents.fonts import FONT_STACK
from tipfusion.documents.render import render_pdf, style_docx

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
    style: str = ""  # "" | "warning" | "meta" | "small"


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


def _environment(templates: Path | None) -> Environment:
    loaders: list[BaseLoader] = [PackageLoader("tipfusion.documents", "templates")]
    if templates is not None:
        loaders.insert(0, FileSystemLoader(str(templates)))
    return Environment(loader=ChoiceLoader(loaders), autoescape=select_autoescape(["html", "j2"]))


def write_pdf(spec: DocumentSpec, path: Path, templates: Path | None = None) -> None:
    html = (
        _environment(templates)
        .get_template("document.html.j2")
        .render(spec=spec, banner=SYNTHETIC_BANNER, font_stack=FONT_STACK, kinds=_kinds(spec.blocks))
    )
    render_pdf(html, path)


def _kinds(blocks: list[Block]) -> list[str]:
    return [type(b).__name__.lower() for b in blocks]


def write_docx(spec: DocumentSpec, path: Path) -> None:
    document = Document()
    style_docx(document, 10)
    section = document.sections[0]
    if spec.landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = section.page_height, section.page_width
    for margin in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, margin, Mm(15))
    section.footer.paragraphs[0].text = spec.reference + (f" — {SYNTHETIC_BANNER}" if spec.synthetic else "")
    if spec.synthetic:
        run = document.add_paragraph().add_run(SYNTHETIC_BANNER)
        run.bold = True
        run.font.color.rgb = RGBColor(0xB0, 0, 0)
    document.add_heading(spec.title, level=0)
    for block in spec.blocks:
        if isinstance(block, Heading):
            document.add_heading(block.text + (f" / {block.hindi}" if block.hindi else ""), level=block.level)
        elif isinstance(block, Para):
            paragraph = document.add_paragraph()
            run = paragraph.add_run(block.text)
            if block.style == "warning":
                run.bold = True
                run.font.color.rgb = RGBColor(0xB0, 0, 0)
            elif block.style in ("small", "meta"):
                run.font.size = Pt(8.5)
            if block.hindi:
                hindi = document.add_paragraph().add_run(block.hindi)
                hindi.italic = block.style != "warning"
                hindi.bold = block.style == "warning"
        elif isinstance(block, Grid):
            table = document.add_table(rows=1, cols=len(block.headers))
            table.style = "Table Grid"
            for cell, label in zip(table.rows[0].cells, block.headers, strict=True):
                cell.text = label
                for run in cell.paragraphs[0].runs:
                    run.bold = True
            for values in block.rows:
                for cell, value in zip(table.add_row().cells, values, strict=True):
                    cell.text = value
            if block.note:
                document.add_paragraph(block.note).runs[0].font.size = Pt(8.5)
        elif isinstance(block, Figure):
            document.add_paragraph(block.caption).runs[0].italic = True
    document.save(str(path))
