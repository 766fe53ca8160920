"""Hostile ISP answer files (CSV and XLSX) through the real `requests answer` service, on SQLite and PostgreSQL:
each is accepted or quarantined whole with a reason (stored byte for byte either way), never a crash, never lost."""

from __future__ import annotations

import hashlib
import math
import tracemalloc
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from sqlalchemy import Engine, select

from tests.reliability.harness import FIGURES, Figures, fuzz_cases, progress_note, signature, verdict
from tests.reliability.hostile import Case, isp_answer
from tests.test_answers import FIXED, ISP_COLUMNS, asked  # noqa: F401  (the store with sent requests)
from tipfusion.errors import DocumentRejected
from tipfusion.requests.answers import ingest_answers
from tipfusion.store.tables import isp_answers, quarantine_entries, source_documents


def answer_cases() -> int:
    """A fifth of the fuzzing budget goes to answers (each needs no batch around it)."""
    return max(5, math.ceil(fuzz_cases() / 5))


def test_hostile_isp_answers_are_accepted_or_quarantined(asked: Engine, db_url: str, tmp_path: Path) -> None:  # noqa: F811
    backend = "postgresql" if db_url.startswith("postgresql") else "sqlite"
    figures = FIGURES.setdefault(f"fuzz ISP answers ({backend})", Figures())

    @settings(
        max_examples=answer_cases(),
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=isp_answer())
    def answer(case: Case) -> None:
        progress_note(f"fuzz ISP answers ({backend})", figures.line(), figures.peak_batch)
        path = tmp_path / case.name
        path.write_bytes(case.data)
        sha = hashlib.sha256(case.data).hexdigest()
        figures.batches += 1
        figures.cases += 1
        figures.by_family[case.family] += 1
        tracemalloc.reset_peak()
        held = tracemalloc.get_traced_memory()[0]  # the case itself (up to ~200 MB, held by hypothesis)
        try:
            ingest_answers(asked, "fuzzer", path, FIXED, "IN", ISP_COLUMNS)
            outcome = "accepted"
        except DocumentRejected as exc:
            outcome = "quarantined"
            figures.reasons[exc.reason] += 1
        except Exception as exc:
            figures.crashed_batches += 1
            seen = figures.crashes.setdefault(signature(exc), [])
            if len(seen) < 3:
                seen.append(case.describe()[:300])
            return
        finally:
            # less the one read of the file, which `ingest_answers` makes whole by design (it keeps every byte, up
            # to the archive limit): a case of 3,000 rows of a 100,000-character address is ~290 MB by itself
            figures.note_peak(tracemalloc.get_traced_memory()[1] - held - len(case.data), [case])
        figures.survived += 1
        with asked.connect() as conn:
            stored = conn.execute(select(source_documents.c.sha256).where(source_documents.c.sha256 == sha)).first()
            entry = conn.execute(
                select(quarantine_entries.c.reason, quarantine_entries.c.message).where(
                    quarantine_entries.c.source_sha256 == sha
                )
            ).first()
            rows = conn.execute(select(isp_answers.c.id).where(isp_answers.c.source_sha256 == sha)).first()
        if outcome == "accepted" and stored and rows:
            figures.accepted += 1
        elif outcome == "quarantined" and stored and entry and entry.reason and entry.message:
            figures.quarantined += 1
        else:
            figures.lost += 1
            figures.losses.append(f"{outcome} but not on record: {case.describe()[:300]}")

    tracemalloc.start()
    try:
        answer()
    finally:
        tracemalloc.stop()
    verdict(figures)
