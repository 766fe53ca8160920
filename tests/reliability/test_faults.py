"""kill -9 in the middle of ingest, enrich, link, route and referral build, through the real command line on SQLite
and PostgreSQL; the same command again; then nothing lost or duplicated, the audit log verifies, and no package
folder is half-written or complete without a record (see `faults.py`). `make test` runs three of these; `make
check-reliability` (marker `reliability_full`) runs 30 on SQLite and 20 on PostgreSQL. A referral build is also
killed at chosen points (parts written, bag sealed, referral committed) through `build_one.py`, on both stores."""

from __future__ import annotations

import random
import signal
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from tests.reliability.faults import (
    FAULT_FIGURES,
    STAGES,
    FaultFigures,
    Pipeline,
    build_one,
    package_problems,
    referral_store,
)
from tests.reliability.harness import progress_note
from tipfusion.cli.main import app
from tipfusion.documents.manifest import MANIFEST, digest_of, file_stem
from tipfusion.refer.staging import PREFIX, Staging, clear_leftovers
from tipfusion.store.tables import referrals
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


@pytest.mark.parametrize("point", ["parts", pytest.param("sealed", marks=pytest.mark.reliability_full), "committed"])
def test_a_referral_build_killed_midway_then_rerun_gives_one_complete_package(
    engine: Engine, db_url: str, tmp_path: Path, point: str
) -> None:
    """kill -9 while the parts are written, after the bag is sealed and the referral inserted (not committed), and
    after the commit before the package is in place; then the operator builds what has no referral yet (and one more
    subject): each subject has exactly one referral and one whole package, nothing half-written is left, and the
    killed subject's package verifies as issued by the store."""
    first, second = referral_store(engine, db_url, tmp_path)[:2]
    output = tmp_path / "referrals"
    killed = build_one(db_url, output, first, "--die-at", point)
    said, _ = killed.communicate(timeout=300)
    assert killed.returncode == -signal.SIGKILL, said
    # nothing under a package's name looks complete without being on record (a hidden work folder may be left)
    shown = [p for p in package_problems(db_url, output) if not p.startswith(".") and not p.endswith("is missing")]
    assert shown == []
    with engine.connect() as conn:
        held = set(conn.execute(select(referrals.c.subject_id)).scalars())
    assert (first in held) == (point == "committed")
    again = [s for s in (first, second) if s not in held]
    rerun = CliRunner().invoke(app, ["--database", db_url, "refer", "build", *again, "--output", str(output)])
    assert rerun.exit_code == 0, rerun.output
    assert package_problems(db_url, output) == []
    with engine.connect() as conn:
        built = {row.subject_id: row.reference for row in conn.execute(select(referrals))}
    assert sorted(built) == sorted([first, second])
    assert sorted(p.name for p in output.iterdir()) == sorted(file_stem(r) for r in built.values())
    verify = CliRunner().invoke(app, ["--database", db_url, "refer", "verify", str(output / file_stem(built[first]))])
    assert verify.exit_code == 0 and "issued by this store" in verify.output, verify.output


def test_a_work_folder_is_cleared_only_when_its_builder_is_gone(tmp_path: Path) -> None:
    """An error in the block removes the work folder; a live builder's folder is left alone; a dead builder's is
    moved to its name when the store recorded its manifest, and removed when it did not."""
    output = tmp_path / "referrals"
    with pytest.raises(RuntimeError), Staging() as failed:
        (failed.begin(output / "TF-REF-2026-000001") / "part.pdf").write_bytes(b"%PDF")
        raise RuntimeError("the commit failed")
    assert not output.exists() or list(output.iterdir()) == []
    recorded: set[str] = set()
    with Staging() as live:
        work = live.begin(output / "TF-REF-2026-000002")
        (work / MANIFEST).write_text("abc  data/part.pdf\n")
        assert clear_leftovers(output, recorded.__contains__) == [] and work.is_dir()  # its builder holds it
        live.path = None  # the builder dies here, after its commit: its folder stays, unlocked
    recorded.add(digest_of(work / MANIFEST))
    dead = output / f"{PREFIX}TF-REF-2026-000003-0badf00d"
    dead.mkdir()
    (dead / "part.pdf").write_bytes(b"%PDF")  # killed before sealing
    assert clear_leftovers(output, recorded.__contains__) == [output / "TF-REF-2026-000002"]
    assert sorted(p.name for p in output.iterdir()) == ["TF-REF-2026-000002"]
