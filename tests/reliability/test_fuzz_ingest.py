"""Hostile input through the real ingest, in batches with good reports, on SQLite and PostgreSQL: the process
survives, every case is accepted, quarantined with a reason or skipped by name, the good reports land, nothing is
lost, and memory stays bounded. `TIPFUSION_FUZZ_EXAMPLES` is the number of hostile cases per database (reduced in
`make test`; `make check-reliability` runs 10,000 on SQLite and 1,000 on PostgreSQL)."""

from __future__ import annotations

import math
import tracemalloc
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from tests.reliability.harness import FIGURES, Figures, fuzz_cases, progress_note, run_batch, verdict
from tests.reliability.hostile import Case, good_case, hostile_case

CASES_PER_BATCH = 5


def test_hostile_batches_never_sink_the_good_ones(engine: Engine, db_url: str, tmp_path: Path) -> None:
    backend = "postgresql" if db_url.startswith("postgresql") else "sqlite"
    figures = FIGURES.setdefault(f"fuzz ingest ({backend})", Figures())
    batches = max(1, math.ceil(fuzz_cases() / CASES_PER_BATCH))

    @settings(
        max_examples=batches,
        deadline=None,
        database=None,
        phases=[Phase.generate],  # no shrinking: a crash is isolated to its case, described in words
        suppress_health_check=list(HealthCheck),
    )
    @given(
        cases=st.lists(hostile_case(), min_size=CASES_PER_BATCH, max_size=CASES_PER_BATCH),
        good=st.lists(good_case(), min_size=1, max_size=2),
    )
    def batch(cases: list[Case], good: list[Case]) -> None:
        run_batch(engine, db_url, tmp_path / "batch", cases, good, figures)
        progress_note(f"fuzz ingest ({backend})", figures.line(), figures.peak_batch)

    tracemalloc.start()
    try:
        batch()
    finally:
        tracemalloc.stop()
    verdict(figures)
