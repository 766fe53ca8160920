"""Excel sheets a reader can sort and filter: the header in row 1 (frozen, filtered, repeated when printed), real
date-time cells, column widths that fit, A4 printing; a banner (SYNTHETIC DATA) in the page header and footer and on
an About sheet, never as a first row that breaks sorting, filters and every reader that expects a header."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from tipfusion.exports.spreadsheet import append_row

DATE_TIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
WIDEST = 60  # characters: longer values wrap in the cell instead of pushing the next column off screen
_SAMPLE = 200  # rows looked at to size a column


@dataclass(frozen=True)
class Column:
    key: str
    heading: str
    kind: str = "text"  # text | utc (an ISO time, shown as UTC) | local (an ISO time with offset, shown as wall time)


def utc_cell(value: Any) -> Any:
    """An ISO date-time as Excel holds it: naive, in UTC (Excel has no zones; the heading says UTC)."""
    moment = _moment(value)
    return moment.astimezone(UTC).replace(tzinfo=None) if isinstance(moment, datetime) else moment


def local_cell(value: Any) -> Any:
    """An ISO date-time with its offset, as the wall time of that offset (the heading names the zone)."""
    moment = _moment(value)
    return moment.replace(tzinfo=None) if isinstance(moment, datetime) else moment


def _moment(value: Any) -> Any:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value:
        return value
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value  # not a time after all: kept as text, never lost
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def plain(value: Any) -> Any:
    """A cell value: lists joined, mappings as `key: value`, everything else as it is."""
    if isinstance(value, list | tuple | set):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return value


_CONVERT = {"utc": utc_cell, "local": local_cell}


def write_table(sheet: Worksheet, columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> None:
    """Header in row 1, then one row per record; frozen, filtered, sized and set up for A4 printing."""
    append_row(sheet, [c.heading for c in columns])
    convert = [_CONVERT.get(c.kind) for c in columns]
    for row in rows:  # every cell through the one guard: a report field is text, never a live formula
        append_row(sheet, [f(v) if f else plain(v) for f, v in zip(convert, row, strict=True)])
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="EEEEEE")
    for cell in sheet[1]:
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        if column.kind in _CONVERT:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = DATE_TIME_FORMAT
        sheet.column_dimensions[letter].width = _width(sheet, index, column)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(sheet.max_row, 1)}"
    sheet.print_title_rows = "1:1"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)


def _width(sheet: Worksheet, index: int, column: Column) -> float:
    if column.kind in _CONVERT:
        return max(20, min(WIDEST, len(column.heading) + 2))
    longest = max(
        (len(str(cell.value)) for (cell,) in islice(sheet.iter_rows(min_row=2, min_col=index, max_col=index), _SAMPLE)),
        default=0,
    )
    words = max((len(w) for w in column.heading.split()), default=0)
    return float(min(WIDEST, max(longest, words, 6) + 2))


def banner(sheet: Worksheet, text: str) -> None:
    """A warning on every printed page (header and footer), out of the data."""
    header, footer = sheet.oddHeader, sheet.oddFooter
    assert header is not None and footer is not None  # openpyxl creates both with the sheet
    header.center.text = text
    header.center.color = "B00000"
    footer.center.text = text + " — &A — page &P of &N"


def about_sheet(book: Workbook, title: str, lines: Sequence[tuple[str, str]], warning: str = "") -> Worksheet:
    """The first sheet: what this workbook is, who sent it, and the banner (SYNTHETIC) in red when there is one."""
    sheet: Worksheet = book.create_sheet("About", 0)
    append_row(sheet, [title])
    sheet["A1"].font = Font(bold=True, size=13)
    if warning:
        append_row(sheet, [warning])
        sheet.cell(sheet.max_row, 1).font = Font(bold=True, color="B00000")
        banner(sheet, warning)
    sheet.append([])
    for label, value in lines:
        append_row(sheet, [label, value])
        sheet.cell(sheet.max_row, 1).font = Font(bold=True)
        sheet.cell(sheet.max_row, 2).alignment = Alignment(wrap_text=True, vertical="top")
    sheet.column_dimensions["A"].width = 28
    sheet.column_dimensions["B"].width = 100
    if len(book.worksheets) > 1:
        book.active = 1  # the workbook opens on its data; About is one click away
    return sheet
