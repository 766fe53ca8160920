"""kill -9 in the middle of ingest, enrich, link, route and referral build, through the real command line on SQLite
and PostgreSQL; the same command again; then nothing lost or duplicated, the audit log verifies, and no package
folder is half-written or complete without a record (see `faults.py`). `make test` runs three of these; `make
check-reliability` (marker `reliability_full`) runs 30 on SQLite and 20 on PostgreSQL."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.reliability.faults import FAULT_FIGURES, STAGES, FaultFigures, Pipeline
from tests.reliability.harness import progress_note
from tipfusion.synth import generate

REPORTS = 60


@pytest.fixture(scope="module")
def fault_batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("faults") / "batch"
    generate(out, REPORTS, seed=21)
    return out


def _runs(db_url: str, fault_batch: Path, tmp_path: Path, plan: list[str], seed: int) -> None:
    backend = "postgresql" if db_url.startswith("postgresql") else "sqlite"
    figures = FAULT_FIGURES.setdefault(f"faults ({backend})", FaultFigures())
    url = f"sqlite:///{tmp_path / 'work.db'}" if backend == "sqlite" else db_url
    pipeline = Pipeline(url, fault_batch, tmp_path / "work")
    furthest = max(plan, key=STAGES.index)
    pipeline.baseline(furthest)
    rng = random.Random(seed)
    for stage in plan:
        pipeline.run(stage, rng, figures)
        progress_note(f"faults ({backend})", figures.line())
    assert not figures.problems, f"{figures.line()}\n" + "\n".join(figures.problems[:30])


def test_kill_during_ingest_then_rerun(db_url: str, fault_batch: Path, tmp_path: Path) -> None:
    """The reduced form: ingest killed and rerun (twice on SQLite, once on PostgreSQL)."""
    plan = ["ingest", "ingest"] if db_url.startswith("sqlite") else ["ingest"]
    _runs(db_url, fault_batch, tmp_path, plan, seed=1)


@pytest.mark.reliability_full
def test_kill_every_stage_many_times(db_url: str, fault_batch: Path, tmp_path: Path) -> None:
    per_stage = 6 if db_url.startswith("sqlite") else 4  # 30 runs on SQLite, 20 on PostgreSQL
    plan = [stage for _ in range(per_stage) for stage in STAGES]
    _runs(db_url, fault_batch, tmp_path, plan, seed=7)
