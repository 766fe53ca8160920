"""A Parquet snapshot of what linking reads (`store.link_inputs`), for the Spark engine: one file per input.

Written by `tipfusion export observations --format parquet --output DIR`, read by
`tipfusion link --engine spark --snapshot DIR`. The values are the ones the embedded engine reads, made
independent of the database they came from: times are UTC timestamps (SQLite hands back text), flags are booleans
(SQLite: 0/1), JSON is text. Rows are streamed in batches, so a store of any size fits through. A `manifest.json`,
written last, records the store's state the rows were read in, so a snapshot the store has moved on from is refused
instead of linked (the result replaces the store's whole linking: the newer reports would be left without a suspect).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from sqlalchemy import Engine

from tipfusion.errors import ConfigurationError
from tipfusion.store.link_inputs import INPUTS, Input, rows, snapshot_path
from tipfusion.store.links import linking_inputs_mark
from tipfusion.store.repository import get_flag

BATCH = 50_000
MANIFEST = "manifest.json"


def check_snapshot(engine: Engine, location: str) -> None:
    """Refuse a snapshot the store has moved on from: linking from it would leave the reports that came since
    without a suspect (the result replaces the store's whole linking). A URI (hdfs://, s3a://) is not looked into
    here (a file:// one is): its writer copied it there from a folder this check passed."""
    if location.startswith("file://"):
        location = unquote(urlparse(location).path)
    elif "://" in location:
        return
    manifest = Path(location) / MANIFEST
    if not manifest.is_file():
        raise ConfigurationError(
            f"{manifest}: missing, so the snapshot's age is unknown; write it again with "
            f"`tipfusion export observations --format parquet --output {location}`"
        )
    written = json.loads(manifest.read_text())["store"]
    with engine.connect() as conn:
        now = linking_inputs_mark(conn)
    changed = sorted(name for name in now if written.get(name) != now[name])
    if changed:
        raise ConfigurationError(
            f"{location}: the store has changed since this snapshot was written ({', '.join(changed)}); write it "
            f"again with `tipfusion export observations --format parquet --output {location}`, then link"
        )


def _when(value: Any) -> datetime | None:
    if value is None:
        return None
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _flag(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _json_text(value: Any) -> str | None:
    return value if value is None or isinstance(value, str) else json.dumps(value)


CONVERT: dict[str, Callable[[Any], Any]] = {"timestamp": _when, "bool": _flag, "json": _json_text}


def _arrow_schema(item: Input) -> Any:
    from tipfusion.store.columnar import arrow_schema

    return arrow_schema(item.columns)


def _batches(engine: Engine, item: Input) -> Iterator[list[tuple[Any, ...]]]:
    converters = [(i, CONVERT[kind]) for i, (_, kind) in enumerate(item.columns) if kind in CONVERT]
    with engine.connect() as conn:
        batch: list[tuple[Any, ...]] = []
        for row in rows(conn, item, BATCH):
            if converters:
                values = list(row)
                for i, convert in converters:
                    values[i] = convert(values[i])
                row = tuple(values)
            batch.append(row)
            if len(batch) >= BATCH:
                yield batch
                batch = []
        yield batch


def write_snapshot(engine: Engine, directory: Path) -> dict[str, int]:
    """Every linking input to `directory/<input>.parquet`; returns the rows written per input."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    directory.mkdir(parents=True, exist_ok=True)
    (directory / MANIFEST).unlink(missing_ok=True)  # a snapshot written halfway has none, so it is never used
    with engine.connect() as conn:
        mark = linking_inputs_mark(conn)  # before the rows: a change while they are written makes the snapshot stale
        synthetic = get_flag(conn, "synthetic") == "true"  # a snapshot of a synthetic store says so, as the store does
    counts: dict[str, int] = {}
    for item in INPUTS:
        schema = _arrow_schema(item)
        path = snapshot_path(directory, item)
        partial = path.with_name(path.name + ".partial")
        counts[item.name] = 0
        with pq.ParquetWriter(partial, schema) as writer:
            for batch in _batches(engine, item):
                columns: list[Any] = list(zip(*batch, strict=True)) if batch else [[] for _ in item.columns]
                writer.write_table(pa.Table.from_arrays([list(c) for c in columns], schema=schema))
                counts[item.name] += len(batch)
        partial.replace(path)  # a half-written file never passes for a snapshot
    manifest = {"synthetic": synthetic, "store": mark, "rows": counts}
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    return counts
