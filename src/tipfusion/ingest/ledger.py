"""Pass 1's record of a batch, kept on disk: the reports to land, in order, and the fileDetails found for each.

Held as objects, a batch cost ~2.6 KB of memory a report (its document and reader, its piece, its fileDetails):
3.4 GB at a million reports, so a national batch of ten million would not fit. The ledger writes each as a row of
plain values (`tipfusion.store.scratch`: a temporary database SQLite deletes as it opens it) and makes the same
objects again when pass 2 reads them, so ingest's memory does not grow with the batch. What cannot be read again
from a path (a zip member, read from its archive's bytes; a piece of a split document, which carries its own payload)
stays in memory as it was: the bytes it stands for are held by then anyway (an archive is kept whole, to be stored).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Set
from dataclasses import dataclass, field
from typing import Any

from tipfusion.ingest import registry
from tipfusion.ingest.registry import Format, Piece
from tipfusion.ingest.sources import Document, FileReader, LoadedDocument
from tipfusion.store.scratch import LedgerRows

WINDOW = 20_000  # report ids read at a time when the batch's ids are asked about in order


@dataclass(slots=True)
class FileRef:
    """A fileDetails document: from this batch (doc), or already held (stored sha only)."""

    file_id: str
    sha256: str
    name: str
    format: str
    doc: Document | None = None
    container: str | None = None
    orphan_entry: int | None = None


@dataclass(slots=True)
class Unit:
    """One report to land: a piece of a report document (`format` set), or fileDetails for a held report (not)."""

    report_id: int
    name: str
    format: Format | None = None
    piece: Piece | None = None
    # a whole-document piece keeps the document (read again when it lands); a smaller piece keeps its document's
    # bytes, which are stored with it
    doc: Document | LoadedDocument | None = None
    files: dict[str, FileRef] = field(default_factory=dict)


def _file_document(doc: Document | LoadedDocument | None) -> tuple[str, str, int, int | None] | None:
    """(name, real path, size limit, size) of a document read from a file of its own; None for anything else."""
    if isinstance(doc, Document) and isinstance(doc.load, FileReader) and doc.container is None:
        reader = doc.load
        if reader.label == doc.name:
            return doc.name, reader.real, reader.cap, doc.size_hint
    return None


def _unless(value: str, same: str) -> str | None:
    """`value`, or None where it is `same` (written once)."""
    return None if value == same else value


def _document(name: str | None, real: str | None, cap: int | None, size: int | None) -> Document | None:
    if name is None or real is None or cap is None:
        return None
    return Document(name, FileReader(real, name, cap), size_hint=size)


class Ledger:
    """Append units and fileDetails in pass 1; read them back, in the order pass 2 lands them, once."""

    def __init__(self) -> None:
        self._rows = LedgerRows()
        self._held_units: dict[int, Unit] = {}
        self._held_files: dict[tuple[int, str], FileRef] = {}
        self._seq = 0

    @property
    def held(self) -> int:
        """How many units and fileDetails are held in memory rather than on disk (none for a batch of files)."""
        return len(self._held_units) + len(self._held_files)

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._rows.close()

    # -- pass 1 ------------------------------------------------------------------------------------------------
    def add_unit(self, unit: Unit) -> None:
        """A piece of a report document, in the order the batch gave it."""
        self._seq += 1
        piece = unit.piece
        assert piece is not None and unit.format is not None, "pass 1 records pieces of report documents"
        whole = int(piece.pointer is None)
        on_disk = _file_document(unit.doc) if piece.payload is None and not unit.files else None
        if on_disk is None:
            self._held_units[self._seq] = unit
            self._rows.add_unit((self._seq, unit.report_id, whole, 1, *([None] * 10)))
        else:
            named = on_disk[0]  # the document's name, kept once: a unit and its piece are named after it
            self._rows.add_unit(
                (
                    self._seq,
                    unit.report_id,
                    whole,
                    0,
                    _unless(unit.name, named),
                    unit.format.name,
                    _unless(piece.name, named),
                    piece.pointer,
                    piece.part_sha256,
                    piece.key,
                    *on_disk,
                )
            )

    def add_file(self, report_id: int, ref: FileRef) -> None:
        """A fileDetails document for `report_id`, by its document hash: the same document again replaces it (its rows
        are read in order, the last one kept)."""
        key = (report_id, ref.sha256)
        self._held_files.pop(key, None)
        on_disk = _file_document(ref.doc) if ref.container is None else None
        if ref.orphan_entry is not None or (ref.doc is not None and on_disk is None):
            self._held_files[key] = ref
            self._rows.add_file((report_id, ref.sha256, 1, *([None] * 8)))
        else:
            name = _unless(ref.name, on_disk[0]) if on_disk else ref.name
            self._rows.add_file(
                (report_id, ref.sha256, 0, ref.file_id, name, ref.format, ref.container, *(on_disk or [None] * 4))
            )

    # -- what pass 1 found ---------------------------------------------------------------------------------------
    def counts(self) -> tuple[int, int, int]:
        """(pieces of report documents, fileDetails documents, reports that only fileDetails came for)."""
        self._rows.ready()
        return (*self._rows.counts(), self._rows.files_only_count())

    def report_ids(self) -> Set[int]:
        """Every report the batch brings (a piece of it, or fileDetails for it), looked up on disk."""
        self._rows.ready()
        return _ReportIds(self._rows)

    # -- pass 2 ------------------------------------------------------------------------------------------------
    def units(self) -> Iterator[Unit]:
        """The units in the batch's order, each report's fileDetails with its first whole document (a report sent
        as a document of its own), then one unit per report that only fileDetails came for, by report id."""
        self._rows.ready()
        for row in self._rows.units():
            seq, report_id, _whole, held, name, fmt, piece_name, pointer, part_sha, key, *doc, first_whole = row
            if held:
                unit = self._held_units.pop(seq)
            else:
                unit = Unit(
                    report_id,
                    doc[0] if name is None else name,
                    registry.get(fmt),
                    Piece(report_id, doc[0] if piece_name is None else piece_name, pointer, part_sha, None, key),
                    _document(*doc),
                )
            if first_whole:
                unit.files.update(self._refs(self._rows.files_of(report_id)))
            yield unit
        for report_id in self._rows.files_only():
            refs = self._refs(self._rows.files_of(report_id))
            yield Unit(report_id, f"fileDetails for report {report_id}", files=refs)

    def _refs(self, rows: list[tuple[Any, ...]]) -> dict[str, FileRef]:
        """A report's fileDetails rows, in the order they were added → by document hash, the last one kept."""
        refs: dict[str, FileRef | None] = {}
        for report_id, sha, held, file_id, name, fmt, container, *doc in rows:
            if held:  # None when a later row for the same document took its place: it comes, and fills the slot
                refs[sha] = self._held_files.get((report_id, sha))
            else:
                refs[sha] = FileRef(file_id, sha, doc[0] if name is None else name, fmt, _document(*doc), container)
        return {sha: ref for sha, ref in refs.items() if ref is not None}


class _ReportIds(Set[int]):
    """The batch's report ids as a set, answered from the ledger's file (ten million ids are never held as objects).

    Asked in ascending order (the store's reports, page by page: `repo.report_outside`), it reads the ids a window at
    a time: a query per id cost 2–3 s of a 100 k-report ingest."""

    def __init__(self, rows: LedgerRows) -> None:
        self._rows = rows
        self._window: tuple[int, int, set[int]] = (1, 0, set())  # [low, high] and the ids in it

    def __contains__(self, report_id: object) -> bool:
        if not isinstance(report_id, int):
            return False
        low, high, ids = self._window
        if not low <= report_id <= high:
            low, high, ids = self._window = self._read_window(report_id)
        return report_id in ids

    def _read_window(self, low: int) -> tuple[int, int, set[int]]:
        """The ids from `low` up to as far as one read of each table (by its report_id index) reaches."""
        high = sys.maxsize
        ids: set[int] = set()
        for found in self._rows.ids_from(low, WINDOW):
            if len(found) == WINDOW:  # rows past the last one were not read
                high = min(high, found[-1])
            ids.update(found)
        return low, high, {i for i in ids if i <= high}

    def __iter__(self) -> Iterator[int]:
        return self._rows.report_ids()

    def __len__(self) -> int:
        return self._rows.report_count()
