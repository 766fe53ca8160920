"""Pass 1's ledger gives back what pass 1 gave it, in the order ingest always landed it, while a batch of files is held
on disk and not in memory (issue 15: ingest's memory flat in the batch size)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest.mock import patch

from hypothesis import given
from hypothesis import strategies as st

from tipfusion.config import XmlLimits
from tipfusion.ingest import ledger as ledger_module
from tipfusion.ingest import registry
from tipfusion.ingest.ledger import FileRef, Ledger, Unit
from tipfusion.ingest.registry import Piece
from tipfusion.ingest.sources import Document, FileReader, LoadedDocument, iter_documents
from tipfusion.synth import generate

REPORT = registry.get("esp_report")
JSON_REPORT = registry.get("ncmec_json")


def _reference(ops: list[tuple[str, int, Any]]) -> list[Unit]:
    """What ingest did before the ledger, with everything in memory: units in order, each report's fileDetails (by
    document, the last one kept) with its first whole document, then the reports only fileDetails came for."""
    units: list[Unit] = []
    file_refs: dict[int, dict[str, FileRef]] = {}
    for op, report_id, item in ops:
        if op == "unit":
            units.append(item)
        else:
            file_refs.setdefault(report_id, {})[item.sha256] = item
    first_whole: dict[int, Unit] = {}
    for unit in units:
        if unit.piece is not None and unit.piece.pointer is None:
            first_whole.setdefault(unit.report_id, unit)
    for report_id, refs in sorted(file_refs.items()):
        if report_id in first_whole:
            first_whole[report_id].files.update(refs)
        else:
            units.append(Unit(report_id, f"fileDetails for report {report_id}", files=refs))
    return units


def _doc(doc: Document | LoadedDocument | None) -> Any:
    if isinstance(doc, Document) and isinstance(doc.load, FileReader):
        return ("file", doc.name, doc.load.real, doc.load.label, doc.load.cap, doc.size_hint, doc.container)
    return ("held", id(doc))  # held in memory: the very object pass 1 gave


def _describe(unit: Unit) -> Any:
    piece = unit.piece
    return (
        unit.report_id,
        unit.name,
        unit.format.name if unit.format else None,
        None if piece is None else (piece.report_id, piece.name, piece.pointer, piece.part_sha256, id(piece.payload)),
        None if piece is None else piece.key,
        _doc(unit.doc),
        [(sha, r.file_id, r.sha256, r.name, r.format, _doc(r.doc), r.container) for sha, r in unit.files.items()],
    )


@st.composite
def _operations(draw: st.DrawFn) -> list[tuple[str, int, Any]]:
    """Units and fileDetails for a few reports, in any order: whole documents read from files, pieces of a JSON list
    (their payload with them), zip members (read from the archive's bytes), the same fileDetails document twice."""
    ops: list[tuple[str, int, Any]] = []
    payload = object()
    for n in range(draw(st.integers(0, 30))):
        report_id = draw(st.integers(1, 6))
        how = draw(st.sampled_from(["file", "zip", "piece"]))
        name = f"/batch/{n}.xml"
        if draw(st.booleans()):
            if how == "piece":
                doc: Document | LoadedDocument = LoadedDocument(name, b"[]", "f" * 64)
                piece = Piece(report_id, f"{name}#{n}", str(n), f"{n:064x}", payload)
                ops.append(("unit", report_id, Unit(report_id, piece.name, JSON_REPORT, piece, doc)))
                continue
            if how == "zip":
                doc = Document(f"/batch/b.zip!{n}.xml", lambda: b"", container="c" * 64, size_hint=9)
            else:
                doc = Document(name, FileReader(f"/real{name}", name, 1 << 20), size_hint=n)
            # a unit and its piece are named after their document, or not (the ledger writes a name once if so)
            piece = Piece(report_id, draw(st.sampled_from([doc.name, f"{doc.name}#piece"])))
            named = draw(st.sampled_from([doc.name, f"{doc.name} (unit)"]))
            ops.append(("unit", report_id, Unit(report_id, named, REPORT, piece, doc)))
        else:
            sha = draw(st.sampled_from(["a", "b", "c"])) * 64
            if how == "zip":
                doc = Document(f"/batch/b.zip!f{n}.xml", lambda: b"", container="c" * 64)
                ref = FileRef(f"file{n}", sha, doc.name, "esp_file_details", doc, "c" * 64)
            else:
                doc = Document(f"/batch/f{n}.xml", FileReader(f"/real/f{n}.xml", f"/batch/f{n}.xml", 5), size_hint=1)
                named = draw(st.sampled_from([doc.name, f"{doc.name} (ref)"]))
                ref = FileRef(f"file{n}", sha, named, "esp_file_details", doc)
            ops.append(("file", report_id, ref))
    return ops


@given(_operations(), st.lists(st.integers(0, 8)), st.integers(1, 4))
def test_the_ledger_gives_back_what_pass_1_gave_in_the_order_ingest_lands_it(
    ops: list[tuple[str, int, Any]], asked: list[int], window: int
) -> None:
    with Ledger() as ledger:
        for op, report_id, item in ops:
            if op == "unit":
                ledger.add_unit(item)
            else:
                ledger.add_file(report_id, item)
        counted = ledger.counts()
        got = [_describe(unit) for unit in ledger.units()]
        brought = {report_id for _, report_id, _ in ops}
        assert set(ledger.report_ids()) == brought and len(ledger.report_ids()) == len(brought)
        with patch.object(ledger_module, "WINDOW", window):  # read a few ids at a time: the windows' edges are met
            ids = ledger.report_ids()
            for report_id in sorted(asked) + asked:  # in order (as the store's pages ask), then in any order
                assert (report_id in ids) == (report_id in brought), report_id
    expected = _reference([(op, rid, item) for op, rid, item in ops])
    assert got == [_describe(unit) for unit in expected]
    pieces = sum(op == "unit" for op, _, _ in ops)
    files = len({(rid, item.sha256) for op, rid, item in ops if op == "file"})
    assert counted == (pieces, files, len(expected) - pieces)  # what the progress bar counts, and the units to land


def test_a_batch_of_files_is_held_on_disk_not_in_memory(tmp_path: Path) -> None:
    """Every report and fileDetails of a generated batch read from its folder: the ledger holds none of them as
    objects, and gives each back readable, byte for byte."""
    generate(tmp_path / "batch", 30, seed=5)
    with Ledger() as ledger:
        expected: dict[str, bytes] = {}
        for item in iter_documents([tmp_path / "batch"], XmlLimits()):
            if not (isinstance(item, Document) and item.name.endswith(".xml")):
                continue
            expected[item.name] = item.load()
            if "/files/" in item.name:
                sha = f"{len(expected):064x}"
                ledger.add_file(1, FileRef(item.name, sha, item.name, "esp_file_details", item))
            else:
                ledger.add_unit(Unit(len(expected), item.name, REPORT, Piece(len(expected), item.name), item))
        assert ledger.held == 0 and len(expected) > 30
        read: dict[str, bytes] = {}
        for unit in ledger.units():
            if unit.doc is not None:
                assert isinstance(unit.doc, Document)
                read[unit.doc.name] = unit.doc.load()
            for ref in unit.files.values():
                assert ref.doc is not None and isinstance(ref.doc, Document)
                read[ref.doc.name] = ref.doc.load()
        assert read == expected


def test_ingest_lands_a_batch_of_files_through_the_ledger(tmp_path: Path, monkeypatch: Any) -> None:
    """The ingest service keeps pass 1's units in the ledger, not in memory: when pass 2 starts reading them, none is
    held as an object, and every report of the batch lands with its fileDetails."""
    from tipfusion.config import Settings
    from tipfusion.ingest import IngestService
    from tipfusion.store.db import make_engine

    generate(tmp_path / "batch", 25, seed=9)
    held_at_pass_2: list[int] = []
    units = Ledger.units

    def watched(self: Ledger) -> Any:
        held_at_pass_2.append(self.held)
        return units(self)

    monkeypatch.setattr(Ledger, "units", watched)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    summary = IngestService(make_engine(url), Settings(database_url=url), "tester").ingest_paths([tmp_path / "batch"])
    assert held_at_pass_2 == [0]
    assert summary.accepted == 25 and summary.quarantined == 0 and summary.waiting_file_details == 0
    assert summary.new_documents > 25  # the reports' own documents and their fileDetails
