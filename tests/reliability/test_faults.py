"""kill -9 in the middle of ingest, enrich, link, route, ISP request build and referral build, through the real command
line on SQLite and PostgreSQL; the same command again; then nothing lost or duplicated, the audit log verifies, and no
package folder is half-written or complete without a record (see `faults.py`). `make test` runs three of these; `make
check-reliability` (marker `reliability_full`) runs 36 on SQLite and 24 on PostgreSQL. A referral build is also killed
at chosen points (parts written, bag sealed, referral committed) through `build_one.py`, and `tipfusion requests build`
at the same points of its first or second notice through `request_one.py`, on both stores."""

from __future__ import annotations

import random
import signal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from tests.reliability.faults import (
    FAULT_FIGURES,
    STAGES,
    FaultFigures,
    Pipeline,
    build_one,
    notice_problems,
    own_process,
    package_problems,
    request_one,
)
from tests.reliability.harness import progress_note
from tipfusion.cli.main import app
from tipfusion.documents.manifest import MANIFEST, digest_of, file_stem
from tipfusion.documents.staging import PREFIX, Staging, clear_leftovers, staged_file
from tipfusion.store.tables import isp_request_items, isp_requests, referrals
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
    per_stage = 6 if db_url.startswith("sqlite") else 4  # 36 runs on SQLite, 24 on PostgreSQL
    plan = [stage for _ in range(per_stage) for stage in STAGES]
    _runs(db_url, fault_batch, tmp_path, plan, seed=7)


@pytest.mark.parametrize("point", ["parts", pytest.param("sealed", marks=pytest.mark.reliability_full), "committed"])
def test_a_referral_build_killed_midway_then_rerun_gives_one_complete_package(
    referral_copy: tuple[Engine, list[str]], db_url: str, tmp_path: Path, point: str
) -> None:
    """kill -9 while the parts are written, after the bag is sealed and the referral inserted (not committed), and
    after the commit before the package is in place; then the operator builds what has no referral yet (and one more
    subject): each subject has exactly one referral and one whole package, nothing half-written is left, and the
    killed subject's package verifies as issued by the store."""
    engine, subjects = referral_copy
    first, second = subjects[:2]
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


@pytest.mark.parametrize(
    ("point", "call"),
    [("parts", 1), ("parts", 2), pytest.param("sealed", 2, marks=pytest.mark.reliability_full), ("committed", 1)],
)
def test_a_requests_build_killed_midway_then_rerun_gives_one_complete_notice_per_isp(
    request_copy: tuple[Engine, Path], db_url: str, tmp_path: Path, point: str, call: int
) -> None:
    """`tipfusion requests build` killed (kill -9) while the first or the second ISP's notice is being written (annex
    and Word letter written, PDF not), after the second is sealed and stored (not committed), and after the first is
    committed but before it is in place; then the same command again: one whole, verifiable notice per ISP under its
    name, nothing half-written left (hidden or not), the store's requests and items exactly match the folders, and
    the audit log verifies."""
    engine, isp_table = request_copy
    output = tmp_path / "notices"
    killed = request_one(db_url, output, isp_table, "--die-at", point, "--call", str(call))
    said, _ = killed.communicate(timeout=300)
    assert killed.returncode == -signal.SIGKILL, said
    left = notice_problems(db_url, output)
    assert [p for p in left if not p.startswith(".") and not p.endswith("is missing")] == []  # nothing shown half
    assert any(p.startswith(PREFIX) for p in left)  # the kill landed midway: a work folder is left
    command = ["--database", db_url, "requests", "build", "--output", str(output), "--isp-table", str(isp_table)]
    rerun = CliRunner().invoke(app, command)
    assert rerun.exit_code == 0, rerun.output
    assert notice_problems(db_url, output) == []
    with engine.connect() as conn:
        rows = conn.execute(select(isp_requests).order_by(isp_requests.c.id)).all()
        per_request = select(isp_request_items.c.request_id, func.count()).group_by(isp_request_items.c.request_id)
        items = {request_id: count for request_id, count in conn.execute(per_request)}
    assert sorted(r.recipient for r in rows) == ["Example Fixed Broadband (synthetic)", "Example Hosting (synthetic)"]
    assert {r.id: r.items for r in rows} == items
    assert sorted(p.name for p in output.iterdir()) == sorted(file_stem(r.reference) for r in rows)
    assert CliRunner().invoke(app, command).exit_code == 0
    assert sorted(p.name for p in output.iterdir()) == sorted(file_stem(r.reference) for r in rows)  # nothing new
    audit = CliRunner().invoke(app, ["--database", db_url, "audit", "verify"])
    assert audit.exit_code == 0, audit.output


def test_a_work_folder_is_cleared_only_when_its_builder_is_gone(tmp_path: Path) -> None:
    """An error in the block removes the work folder; a live builder's folder is left alone; a dead builder's is
    moved to its name when the store recorded its manifest, and removed when it did not."""
    output = tmp_path / "referrals"
    with pytest.raises(RuntimeError), Staging() as failed:
        (failed.begin(output / "TF-REF-2026-000001") / "part.pdf").write_bytes(b"%PDF")
        raise RuntimeError("the commit failed")
    assert not output.exists() or list(output.iterdir()) == []
    recorded: set[str] = set()

    def on_record(work: Path, _name: str) -> bool:
        return digest_of(work / MANIFEST) in recorded

    with Staging() as live:
        work = live.begin(output / "TF-REF-2026-000002")
        (work / MANIFEST).write_text("abc  data/part.pdf\n")
        assert clear_leftovers(output, on_record) == [] and work.is_dir()  # its builder holds it
        live.path = None  # the builder dies here, after its commit: its folder stays, unlocked
    recorded.add(digest_of(work / MANIFEST))
    dead = output / f"{PREFIX}TF-REF-2026-000003-0badf00d"
    dead.mkdir()
    (dead / "part.pdf").write_bytes(b"%PDF")  # killed before sealing
    assert clear_leftovers(output, on_record) == [output / "TF-REF-2026-000002"]
    assert sorted(p.name for p in output.iterdir()) == ["TF-REF-2026-000002"]


# `tipfusion ARGS…` killed (kill -9) when it appends to the audit log: an export is written, not yet audited
EXPORT_KILLED_AT_AUDIT = (
    "import os, signal, sys\n"
    "import tipfusion.audit.unit\n"
    "tipfusion.audit.unit.append = lambda *_a, **_k: os.kill(os.getpid(), signal.SIGKILL)\n"
    "from tipfusion.cli.main import app\n"
    "app(sys.argv[1:], prog_name='tipfusion')\n"
)


@pytest.mark.parametrize("what", ["reports", "ips"])
@pytest.mark.usefixtures("request_copy")  # a store with something to export
def test_an_export_killed_before_it_is_audited_leaves_nothing_under_its_name(
    db_url: str, tmp_path: Path, what: str
) -> None:
    """An export killed after writing its file and before its audit entry commits: no file under its name (an
    earlier one stays whole), and the same command again writes it and clears what the killed one left."""
    output = tmp_path / "out" / f"{what}.csv"
    output.parent.mkdir()
    output.write_text("an earlier export\n")
    command = ["--database", db_url, "export", what, "--output", str(output)]
    killed = own_process("-c", EXPORT_KILLED_AT_AUDIT, *command)
    said, _ = killed.communicate(timeout=300)
    assert killed.returncode == -signal.SIGKILL, said
    assert output.read_text() == "an earlier export\n"
    (left,) = [p for p in output.parent.iterdir() if p.name.startswith(PREFIX)]  # written whole, never named
    header = left.read_text().splitlines()[0]
    assert left.suffix == ".csv" and "," in header
    done = CliRunner().invoke(app, command)
    assert done.exit_code == 0, done.output
    assert [p.name for p in output.parent.iterdir()] == [output.name]
    assert output.read_text().splitlines()[0] == header
    audit = CliRunner().invoke(app, ["--database", db_url, "audit", "verify"])
    assert audit.exit_code == 0, audit.output


def test_a_staged_file_is_named_only_when_its_block_succeeds(tmp_path: Path) -> None:
    """An error keeps the earlier file and removes the work file; a live writer's work file is left alone by another
    writer of the same name; a dead writer's is removed."""
    final = tmp_path / "out" / "report.xlsx"
    with staged_file(final) as work:
        assert work.suffix == ".xlsx" and work.name.startswith(PREFIX)
        work.write_text("first")
    assert final.read_text() == "first"
    with pytest.raises(RuntimeError), staged_file(final) as work:
        work.write_text("half")
        raise RuntimeError("the audit commit failed")
    assert final.read_text() == "first" and sorted(p.name for p in final.parent.iterdir()) == ["report.xlsx"]
    dead = final.parent / f"{PREFIX}report.xlsx-0badf00d.xlsx"
    dead.write_text("killed midway")
    with staged_file(final) as live:
        live.write_text("second")
        with staged_file(final) as other:
            assert live.is_file() and not dead.exists()  # the live writer's file stays, the dead one's is gone
            other.write_text("third")
    assert final.read_text() == "second"  # the last to finish names the file
    assert sorted(p.name for p in final.parent.iterdir()) == ["report.xlsx"]
