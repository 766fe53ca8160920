"""XLSX: a table as an Excel sheet a reader can sort and filter (header frozen, real date-time cells), after an
About sheet; every cell through the one guard, so a field is text, never a live formula."""

from __future__ import annotations

from pathlib import Path

from tipfusion.exports.content import Table
from tipfusion.exports.registry import Renderer

ORDER = 3


def render(content: Table, output: Path, synthetic: bool) -> None:
    from openpyxl import Workbook

    from tipfusion.documents.blocks import SYNTHETIC_BANNER
    from tipfusion.documents.render import Described, describe_xlsx
    from tipfusion.documents.sheets import Column, about_sheet, banner, write_table

    def kind(field: str) -> str:
        return "utc" if field.endswith("_utc") else "local" if field.endswith("_local") else "text"

    columns = [Column(f, f, kind(f)) for f in content.fields]
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook has one sheet
    sheet.title = content.title[:31]
    write_table(sheet, columns, ([row.get(c.key) for c in columns] for row in content.rows))
    warning = SYNTHETIC_BANNER if synthetic else ""
    if synthetic:
        banner(sheet, warning)
    about = [("Rows", f"{content.size:,}"), ("Times", "…_utc columns are UTC; …_local ones the unit's wall time")]
    about_sheet(book, f"tipfusion export: {content.title}", about, warning)
    describe_xlsx(book, Described(f"tipfusion export: {content.title}", ""))
    output.parent.mkdir(parents=True, exist_ok=True)
    book.save(output)


RENDERER = Renderer("xlsx", frozenset({"table"}), ".xlsx", "an Excel sheet (header frozen, date-time cells)", render)
