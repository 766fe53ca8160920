"""Issue 14, "lost": the PostgreSQL fuzz run lost a fileDetails for report 1 whose industryClassification was
'-9223372036854775809'. Alone it waited for its report; after report 1 had landed, PostgreSQL refused the new
version (the value is wider than the column), the refusal was charged to the held report, and the fileDetails was
stored but neither a part nor quarantined. SQLite kept the value. The same sequences, deterministic, on both
databases, in separate batches as the fuzzer ran them, accounted for by the fuzzer's own harness."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from tests.reliability.harness import Figures, run_batch
from tests.reliability.hostile import FILE_DETAILS_XML, REPORT_XML, Case, _swap, _xml_text
from tipfusion.ingest import enums
from tipfusion.store.tables import quarantine_entries, report_version_parts

REPORT_ID = "00000000000000000000000001"  # hostile.ODD_IDS: report 1, with leading zeros
PLAIN = FILE_DETAILS_XML.replace(b"<reportId>100000042</reportId>", f"<reportId>{REPORT_ID}</reportId>".encode())
MUTATED = _swap(PLAIN, b"B2", _xml_text("-9223372036854775809"))
DOCS = {
    "R": Case(f"{REPORT_ID}.xml", REPORT_XML.replace(b"u-7f3a91c2", b"u-314000001"), "esp_xml"),
    "P": Case("file.xml", PLAIN, "file_details"),
    "M": Case("\x1b]0;title\x07.xml", MUTATED, "file_details", ["B2→'-9223372036854775809'"]),
}
MUTATED_SHA = hashlib.sha256(MUTATED).hexdigest()


def _entries(engine: Engine, sha: str) -> dict[str, tuple[str, str | None]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(quarantine_entries.c.reason, quarantine_entries.c.status, quarantine_entries.c.resolution).where(
                quarantine_entries.c.source_sha256 == sha
            )
        ).all()
    return {reason: (status, resolution) for reason, status, resolution in rows}


def _parts(engine: Engine, sha: str) -> set[tuple[int, int]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(report_version_parts.c.report_id, report_version_parts.c.version).where(
                report_version_parts.c.source_sha256 == sha
            )
        ).all()
    return {(int(r), int(v)) for r, v in rows}


@pytest.mark.parametrize("order", ["RM", "RPM", "MR", "PRM", "PMR"])
def test_wide_classification_is_quarantined_by_name_in_any_order(
    engine: Engine, db_url: str, tmp_path: Path, order: str
) -> None:
    figures = Figures()
    for step, key in enumerate(order + "M"):  # the last batch sends the bad one again: a no-op
        run_batch(engine, db_url, tmp_path / f"b{step}", [DOCS[key]], [], figures)
    assert figures.lost == 0, figures.losses
    assert figures.quarantined + figures.accepted == len(order) + 1
    entries = _entries(engine, MUTATED_SHA)
    assert entries["value_too_long"] == ("open", None), entries  # same on SQLite and PostgreSQL, element named
    assert _parts(engine, MUTATED_SHA) == set()
    if order.index("M") < order.index("R"):  # it waited; its report's arrival refused it, not attached it
        assert entries["orphan_file_details"][0] == "resolved"
        assert "refused" in (entries["orphan_file_details"][1] or "")
    report_sha = hashlib.sha256(DOCS["R"].data).hexdigest()
    assert _entries(engine, report_sha) == {}  # the report itself is fine and landed
    assert (1, 1) in _parts(engine, report_sha)
    if "P" in order:
        assert _parts(engine, hashlib.sha256(PLAIN).hexdigest())


def test_store_refusal_of_an_update_quarantines_the_new_file_details_not_the_held_report(
    engine: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the parse-time width check, a value only the store refuses: the version adding this fileDetails to
    held report 1 is refused; the fileDetails is quarantined by name (store_error), the held report stays clean."""
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite does not enforce column widths: nothing refuses the version")
    monkeypatch.setattr(enums, "INDUSTRY_CLASSIFICATION_WIDTH", None)
    figures = Figures()
    for step, key in enumerate("RPMM"):
        run_batch(engine, db_url, tmp_path / f"b{step}", [DOCS[key]], [], figures)
    assert figures.lost == 0, figures.losses
    assert set(_entries(engine, MUTATED_SHA)) == {"store_error"}
    assert _parts(engine, MUTATED_SHA) == set()
    report_sha = hashlib.sha256(DOCS["R"].data).hexdigest()
    assert _entries(engine, report_sha) == {}
    assert _parts(engine, report_sha) == {(1, 1), (1, 2)}  # version 2 (the plain fileDetails) still stands
