"""CSV: a table for a spreadsheet or a log search, through the one writer that neutralises formulas."""

from __future__ import annotations

from pathlib import Path

from tipfusion.exports.content import Table
from tipfusion.exports.registry import Renderer

ORDER = 1


def render(content: Table, output: Path, _synthetic: bool) -> None:
    """Header in the first line (no banner row: readers expect the header there); mappings and lists as JSON."""
    from tipfusion.exports.spreadsheet import write_csv

    write_csv(output, content.fields, content.rows)


RENDERER = Renderer("csv", frozenset({"table"}), ".csv", "comma-separated, header first", render)
