"""Parquet: columnar files for machines — a snapshot folder for the Spark linking engine, or one table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tipfusion.exports.content import Snapshot, Table
from tipfusion.exports.registry import Renderer

ORDER = 7


def render(content: Any, output: Path, _synthetic: bool) -> None:
    """A snapshot is a folder of files, one per table; a table is one file (mappings and lists as JSON text)."""
    if isinstance(content, Snapshot):
        content.counts.update(content.write(output))
        return
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    assert isinstance(content, Table)

    def plain(value: Any) -> Any:
        return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value

    columns = {name: [plain(row.get(name)) for row in content.rows] for name in content.fields}
    pq.write_table(pa.table(columns), output)


RENDERER = Renderer(
    "parquet", frozenset({"snapshot", "table"}), ".parquet", "Apache Parquet (a folder for snapshots)", render
)
