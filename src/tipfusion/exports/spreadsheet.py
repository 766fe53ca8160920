"""The one CSV writer and the one XLSX cell guard: every table tipfusion writes for a spreadsheet goes through here.

Report fields are written by whoever made the account (a screen name, a group name, a platform), so a field that
starts like a formula (`=HYPERLINK("http://x","y")`, `+cmd`, `-2+3`, `@SUM(1)`) would run when an analyst or a station
opens the file in Excel or LibreOffice (CWE-1236, formula injection). Neutralising it in one place means no export,
annex or report can forget to:

- a CSV cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a single quote in front (the quote
  is what spreadsheets themselves use for "this is text"; the value is otherwise as stored);
- an XLSX cell holding such a string is written as a string (`t="inlineStr"`, data type `s`) with Excel's quote
  prefix, never as a formula — the value itself is unchanged.

Numbers stay numbers (a negative count is not a formula); only text is guarded.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell, MergedCell
    from openpyxl.worksheet.worksheet import Worksheet

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def formula_like(value: object) -> bool:
    """Text a spreadsheet would take for a formula (or a DDE command) if written as it is."""
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)


def csv_cell(value: Any) -> Any:
    """One CSV cell: mappings and lists as JSON (not Python's repr), formula-like text behind a single quote."""
    if isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    elif isinstance(value, list | tuple):
        value = json.dumps(list(value), ensure_ascii=False, default=str)
    if formula_like(value):
        return "'" + value
    return value


def csv_row(values: Iterable[Any]) -> list[Any]:
    return [csv_cell(v) for v in values]


def write_csv(
    path: Path,
    fields: Sequence[str],
    rows: Iterable[Mapping[str, Any]],
    preamble: Sequence[str] = (),
) -> int:
    """Header, then one line per row (a missing key is an empty cell); `preamble` lines go first as `# …` comments.

    Returns the number of rows written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        for line in preamble:
            handle.write(f"# {line}\n")
        writer = csv.writer(handle)
        writer.writerow(csv_row(fields))
        for row in rows:
            writer.writerow(csv_row(row.get(field) for field in fields))
            count += 1
    return count


def guard_cell(cell: Cell | MergedCell) -> None:
    """An XLSX cell whose text looks like a formula, as a string: never data type `f`, quote-prefixed for Excel."""
    if formula_like(cell.value) or cell.data_type == "f":
        cell.data_type = "s"
        cell.quotePrefix = True


def append_row(sheet: Worksheet, values: Sequence[Any]) -> None:
    """`sheet.append(values)` with every cell of the new row guarded (openpyxl turns any `=…` string into a formula)."""
    sheet.append(list(values))
    if not values:
        return
    for cell in sheet[sheet.max_row]:
        guard_cell(cell)


def guard_sheet(sheet: Worksheet) -> None:
    """Guard every cell of a sheet filled some other way (a last line of defence before saving)."""
    for row in sheet.iter_rows():
        for cell in row:
            guard_cell(cell)
