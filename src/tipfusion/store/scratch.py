"""Ingest's scratch rows: pass 1's findings on disk (what `tipfusion.ingest.ledger` writes and reads back).

Not the store: SQLite's private temporary database (an empty file name), ~2 MB of pages in memory and the rest in a
file in the system's temporary folder (`SQLITE_TMPDIR`, else `TMPDIR`) that SQLite deletes as it opens it, so nothing
is left behind, even by a killed run. Rows are plain values; what they mean is the ledger's.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any

ROWS_PER_WRITE = 5000

UNIT_COLUMNS = (
    "seq, report_id, whole, held, name, format, piece_name, pointer, part_sha256, piece_key, "
    "doc_name, doc_real, doc_cap, doc_size"
)
FILE_COLUMNS = "report_id, sha256, held, file_id, name, format, container, doc_name, doc_real, doc_cap, doc_size"
_SCHEMA = """
CREATE TABLE units (
    seq INTEGER PRIMARY KEY, report_id INTEGER NOT NULL, whole INTEGER NOT NULL, held INTEGER NOT NULL,
    name TEXT, format TEXT, piece_name TEXT, pointer TEXT, part_sha256 TEXT, piece_key TEXT,
    doc_name TEXT, doc_real TEXT, doc_cap INTEGER, doc_size INTEGER
);
CREATE TABLE files (
    report_id INTEGER NOT NULL, sha256 TEXT NOT NULL, held INTEGER NOT NULL,
    file_id TEXT, name TEXT, format TEXT, container TEXT,
    doc_name TEXT, doc_real TEXT, doc_cap INTEGER, doc_size INTEGER
);
"""
# built once pass 1 is done (an index filled row by row cost more than the rows)
_INDEXES = "CREATE INDEX units_whole ON units (report_id, whole, seq); CREATE INDEX files_report ON files (report_id);"


class LedgerRows:
    """Units (pieces of report documents, by position) and fileDetails rows (by report), appended then read."""

    def __init__(self) -> None:
        self._db = sqlite3.connect("", isolation_level=None)
        self._db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA temp_store=FILE;" + _SCHEMA)
        self._units: list[tuple[Any, ...]] = []
        self._files: list[tuple[Any, ...]] = []
        self._indexed = False

    def close(self) -> None:
        self._db.close()

    def add_unit(self, row: tuple[Any, ...]) -> None:
        self._units.append(row)
        if len(self._units) >= ROWS_PER_WRITE:
            self._flush()

    def add_file(self, row: tuple[Any, ...]) -> None:
        self._files.append(row)
        if len(self._files) >= ROWS_PER_WRITE:
            self._flush()

    def _flush(self) -> None:
        self._db.execute("BEGIN")  # one transaction: each row would otherwise commit on its own (4× the time)
        if self._units:
            self._db.executemany(f"INSERT INTO units ({UNIT_COLUMNS}) VALUES ({', '.join('?' * 14)})", self._units)
            self._units.clear()
        if self._files:
            self._db.executemany(f"INSERT INTO files ({FILE_COLUMNS}) VALUES ({', '.join('?' * 11)})", self._files)
            self._files.clear()
        self._db.execute("COMMIT")

    def ready(self) -> None:
        """Everything appended written, and the indexes the reads use built (once)."""
        self._flush()
        if not self._indexed:
            self._db.executescript(_INDEXES)
            self._indexed = True

    def counts(self) -> tuple[int, int]:
        """(unit rows, distinct (report, document) fileDetails)."""
        units = self._db.execute("SELECT count(*) FROM units").fetchone()[0]
        files = self._db.execute("SELECT count(*) FROM (SELECT DISTINCT report_id, sha256 FROM files)").fetchone()[0]
        return int(units), int(files)

    def units(self) -> Iterator[tuple[Any, ...]]:
        """Unit rows by position, each with whether it is its report's first whole document (its fileDetails join
        it there)."""
        yield from self._db.execute(
            f"SELECT {UNIT_COLUMNS}, u.whole AND u.seq = (SELECT min(w.seq) FROM units w "
            "WHERE w.report_id = u.report_id AND w.whole) FROM units u ORDER BY u.seq"
        )

    def files_of(self, report_id: int) -> list[tuple[Any, ...]]:
        """A report's fileDetails rows in the order they were added."""
        query = f"SELECT {FILE_COLUMNS} FROM files WHERE report_id = ? ORDER BY rowid"
        return self._db.execute(query, (report_id,)).fetchall()

    _FILES_ONLY = (
        "SELECT DISTINCT f.report_id FROM files f WHERE NOT EXISTS "
        "(SELECT 1 FROM units u WHERE u.report_id = f.report_id AND u.whole)"
    )

    def files_only(self) -> Iterator[int]:
        """The reports that fileDetails came for and no whole document did, in order."""
        for (report_id,) in self._db.cursor().execute(f"{self._FILES_ONLY} ORDER BY 1"):
            yield int(report_id)

    def files_only_count(self) -> int:
        return int(self._db.execute(f"SELECT count(*) FROM ({self._FILES_ONLY})").fetchone()[0])

    def ids_from(self, low: int, limit: int) -> Iterable[list[int]]:
        """For units, then fileDetails: the report ids of up to `limit` rows from `low` up, in order (one index read
        each)."""
        for table in ("units", "files"):
            query = f"SELECT report_id FROM {table} WHERE report_id >= ? ORDER BY report_id LIMIT ?"
            yield [int(r) for (r,) in self._db.execute(query, (low, limit))]

    def report_ids(self) -> Iterator[int]:
        query = "SELECT report_id FROM units UNION SELECT report_id FROM files ORDER BY 1"
        for (report_id,) in self._db.cursor().execute(query):
            yield int(report_id)

    def report_count(self) -> int:
        query = "SELECT count(*) FROM (SELECT report_id FROM units UNION SELECT report_id FROM files)"
        return int(self._db.execute(query).fetchone()[0])
