"""kill -9 at a random moment of a real command, then the same command again: nothing lost, nothing twice.

One clean pass of the pipeline (ingest → enrich → link → triage → route → requests build → refer build) on a synthetic
batch gives the baseline: a backup of the store before and after each stage (`tipfusion.store.backup`, so every run
starts from an exact copy). A run restores the store as it was before a stage, starts that stage's real command line in
its own process group, SIGKILLs the group after a random delay, runs the command again to the end, and compares: every
table must hold exactly the rows the clean pass left (a missing row is lost, an extra one duplicated; run records and
the audit log are allowed to differ), `tipfusion audit verify` must pass, and no package folder may be half-written or
look complete without being on record."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

import tipfusion
from tipfusion.store.backup import backup, restore, table_counts
from tipfusion.store.db import make_engine

if TYPE_CHECKING:
    from tests.conftest import StoreTemplates

SRC = str(Path(tipfusion.__file__).parents[1])
ROOT = str(Path(__file__).parents[2])  # the checkout: `tests` is a package of it
STAGES = ("ingest", "enrich", "link", "route", "requests", "refer")
UNCOMPARED = {"ingest_runs", "link_runs", "audit_events", "audit_checkpoints"}  # a killed run may leave its record
ENV = {"TIPFUSION_REPORTS_PER_TRANSACTION": "10", "TIPFUSION_INGEST_WORKERS": "0"}  # many transactions to die between


@dataclass
class FaultFigures:
    runs: int = 0
    killed: int = 0  # the kill landed before the command finished
    lost: int = 0
    duplicated: int = 0
    audit_failures: int = 0
    half_packages: int = 0
    rerun_failures: int = 0
    by_stage: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        stages = ", ".join(f"{stage} {n}" for stage, n in self.by_stage.items())
        return (
            f"runs {self.runs:,} ({stages}; killed mid-run {self.killed:,}), lost {self.lost:,}, duplicated "
            f"{self.duplicated:,}, audit failures {self.audit_failures:,}, half packages {self.half_packages:,}, "
            f"reruns failed {self.rerun_failures:,}"
        )


FAULT_FIGURES: dict[str, FaultFigures] = {}


def cli(url: str, args: list[str], cwd: Path) -> subprocess.Popen[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("TIPFUSION_")}
    return subprocess.Popen(
        [sys.executable, "-m", "tipfusion", "--database", url, *args],
        cwd=cwd,
        env={**base, "PYTHONPATH": SRC, "COLUMNS": "120", **ENV},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: the kill takes parser workers with it
    )


def finish(url: str, args: list[str], cwd: Path) -> tuple[int, str]:
    process = cli(url, args, cwd)
    out, _ = process.communicate(timeout=600)
    return process.returncode, out


class Pipeline:
    """The baseline pass and the runs, for one database (`url` is the working store, wiped before each run)."""

    def __init__(self, url: str, batch: Path, work: Path):
        self.url, self.batch, self.work = url, batch, work
        self.snapshots = work / "snapshots"
        self.snapshots.mkdir(parents=True)
        self.output = work / "referrals"
        self.notices = work / "notices"
        self.subjects: list[str] = []
        self.seconds: dict[str, float] = {}
        self.codes: dict[str, int] = {}
        self.counts: dict[str, dict[str, int]] = {}

    def commands(self, stage: str) -> list[list[str]]:
        ref = self.batch / "reference"
        return {
            "ingest": [["ingest", str(self.batch)]],
            "enrich": [
                [
                    "enrich",
                    "--ip-database",
                    str(ref / "demo-asn.mmdb"),
                    "--ip-database",
                    str(ref / "demo-city.mmdb"),
                    "--isp-table",
                    str(ref / "demo-isps.csv"),
                    "--warninglist",
                    str(ref / "demo-warninglist.csv"),
                ]
            ],
            "link": [["link"]],
            "prepare": [["triage"], ["jurisdictions", "import", str(ref / "demo-stations.geojson")]],
            "route": [["route", "--pins", str(ref / "demo-pins.csv")]],
            "requests": [
                ["requests", "build", "--output", str(self.notices), "--isp-table", str(ref / "demo-isps.csv")]
            ],
            "refer": [["refer", "build", *self.subjects, "--output", str(self.output)]],
        }[stage]

    # -- the clean pass ----------------------------------------------------------------------------------------
    def baseline(self, upto: str) -> None:
        self.wipe()
        for stage in ("ingest", "enrich", "link", "prepare", "route", "requests", "refer"):
            if stage in STAGES:
                self.snap(f"before-{stage}")
            if stage == "refer":
                self.subjects = self._top(3)
            started = time.monotonic()
            for args in self.commands(stage):
                code, out = finish(self.url, args, self.work)
                assert code in (0, 1), f"clean {stage} failed ({code}): {out[-2000:]}"
                self.codes[" ".join(args[:2])] = code
            self.seconds[stage] = time.monotonic() - started
            if stage in STAGES:
                self.counts[stage] = self._counts()
            if stage == upto:
                return

    def _top(self, n: int) -> list[str]:
        from tipfusion.refer.service import top_subjects

        engine = make_engine(self.url)
        try:
            return top_subjects(engine, n, include_central=True)
        finally:
            engine.dispose()

    def snap(self, name: str) -> None:
        if name == "before-ingest":
            return  # an empty store
        engine = make_engine(self.url)
        try:
            backup(engine, self.snapshots / name)
        finally:
            engine.dispose()

    def wipe(self) -> None:
        parsed = make_url(self.url)
        if parsed.get_backend_name() == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)
            return
        from tests.conftest import schema_of

        schema = schema_of(self.url)
        engine = make_engine(self.url.split("?")[0])
        try:
            with engine.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
                conn.execute(text(f"CREATE SCHEMA {schema}"))
        finally:
            engine.dispose()

    def _counts(self) -> dict[str, int]:
        engine = make_engine(self.url)
        try:
            with engine.connect() as conn:
                return {k: v for k, v in table_counts(conn).items() if k not in UNCOMPARED}
        finally:
            engine.dispose()

    # -- one run -----------------------------------------------------------------------------------------------
    def run(self, stage: str, rng: random.Random, figures: FaultFigures) -> None:
        self.wipe()
        if stage != "ingest":
            restore(self.url, self.snapshots / f"before-{stage}")
        shutil.rmtree(self.output, ignore_errors=True)
        shutil.rmtree(self.notices, ignore_errors=True)
        if stage == "refer":
            self.output.mkdir()
        figures.runs += 1
        figures.by_stage[stage] = figures.by_stage.get(stage, 0) + 1
        (args,) = self.commands(stage)
        delay = rng.uniform(0.2, self.seconds[stage] * 1.1)
        process = cli(self.url, args, self.work)
        try:
            process.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            figures.killed += 1
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
        label = f"{stage} killed at {delay:.2f}s"
        # the operator runs it again: for referrals, the subjects that have none yet
        again = args if stage != "refer" else ["refer", "build", *self._unreferred(), "--output", str(self.output)]
        if stage != "refer" or len(again) > 4:
            code, out = finish(self.url, again, self.work)
            if code != self.codes.get(" ".join(args[:2]), 0):
                figures.rerun_failures += 1
                figures.problems.append(f"{label}: the rerun exited {code}: {out.strip().splitlines()[-1:]}")
        self._compare(label, self.counts[stage], figures)
        code, out = finish(self.url, ["audit", "verify"], self.work)
        if code != 0:
            figures.audit_failures += 1
            figures.problems.append(f"{label}: audit verify exited {code}: {out.strip().splitlines()[-1:]}")
        if stage == "refer":
            self._packages(label, figures)
        if stage == "requests":
            for problem in notice_problems(self.url, self.notices):
                figures.half_packages += 1
                figures.problems.append(f"{label}: {problem}")

    def _unreferred(self) -> list[str]:
        from sqlalchemy import select

        from tipfusion.store.tables import referrals

        engine = make_engine(self.url)
        try:
            with engine.connect() as conn:
                held = set(conn.execute(select(referrals.c.subject_id)).scalars())
        finally:
            engine.dispose()
        return [s for s in self.subjects if s not in held]

    def _compare(self, label: str, expected: dict[str, int], figures: FaultFigures) -> None:
        found = self._counts()
        for name in sorted(set(expected) | set(found)):
            want, got = expected.get(name, 0), found.get(name, 0)
            if got < want:
                figures.lost += want - got
                figures.problems.append(f"{label}: {name} has {got:,} rows, the clean run {want:,} (lost)")
            elif got > want:
                figures.duplicated += got - want
                figures.problems.append(f"{label}: {name} has {got:,} rows, the clean run {want:,} (duplicated)")

    def _packages(self, label: str, figures: FaultFigures) -> None:
        """Every folder in the output is a valid bag on record; anything else is a half package."""
        for problem in package_problems(self.url, self.output):
            figures.half_packages += 1
            figures.problems.append(f"{label}: {problem}")


def package_problems(url: str, output: Path) -> list[str]:
    """Each folder in `output` (hidden ones too) that is not a valid bag the store has on record, and each referral
    on record whose package should be in `output` and is not, with why."""
    from sqlalchemy import select

    from tipfusion.documents.manifest import verify_bag
    from tipfusion.store.tables import referrals

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(referrals.c.reference, referrals.c.manifest_sha256, referrals.c.output_dir))
            recorded = {row.manifest_sha256: row for row in rows}
    finally:
        engine.dispose()
    problems = [
        f"{row.reference}: on record, but its package {Path(row.output_dir).name} is missing"
        for row in recorded.values()
        if Path(row.output_dir).parent.resolve() == output.resolve() and not Path(row.output_dir).is_dir()
    ]
    for folder in sorted(p for p in output.iterdir() if p.is_dir()):
        try:
            check = verify_bag(folder)
            whole = check.ok and check.manifest_sha256 in recorded
        except Exception as exc:  # not a bag at all
            whole, check = False, None
            reason = f"{type(exc).__name__}: {exc}"
        else:
            reason = "not a valid bag" if not check.ok else "a valid bag the store has no record of"
        if not whole:
            problems.append(f"{folder.name}: {reason}")
    return problems


def referral_store(engine: Engine, url: str, work: Path) -> list[str]:
    """A store with suspects to refer (a small synthetic batch, ingested and linked): their ids."""
    from sqlalchemy import select

    from tipfusion.config import Settings
    from tipfusion.ingest import IngestService
    from tipfusion.link.service import LinkService
    from tipfusion.store.tables import suspects
    from tipfusion.synth import generate

    batch = generate(work / "batch", 30, seed=23)
    IngestService(engine, Settings(database_url=url, ingest_workers=0), "tester").ingest_paths([batch.out])
    LinkService(engine, "tester").run()
    with engine.connect() as conn:
        return list(conn.execute(select(suspects.c.suspect_id).order_by(suspects.c.suspect_id)).scalars())


def notice_problems(url: str, output: Path) -> list[str]:
    """Each folder in `output` (hidden ones too) that is not a valid bag listing the very files of a request the store
    has under that name, and each request on record whose notice should be in `output` and is not, with why."""
    from sqlalchemy import select

    from tipfusion.documents.manifest import file_stem, verify_bag
    from tipfusion.store.tables import isp_requests

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(isp_requests.c.reference, isp_requests.c.files, isp_requests.c.output_dir))
            recorded = {file_stem(row.reference): row for row in rows}
    finally:
        engine.dispose()
    problems = [
        f"{row.reference}: on record, but its notice {name} is missing"
        for name, row in recorded.items()
        if Path(row.output_dir).parent.resolve() == output.resolve() and not (output / name).is_dir()
    ]
    for folder in sorted(p for p in output.iterdir() if p.is_dir()) if output.is_dir() else []:
        try:
            check = verify_bag(folder)
        except Exception as exc:  # not a bag at all
            problems.append(f"{folder.name}: {type(exc).__name__}: {exc}")
            continue
        row = recorded.get(folder.name)
        if not check.ok:
            problems.append(f"{folder.name}: not a valid bag")
        elif row is None or dict(row.files) != check.files:
            problems.append(f"{folder.name}: a valid bag the store has no record of")
    return problems


def request_store(engine: Engine, url: str, work: Path) -> Path:
    """A store with sightings to ask two ISPs about (the two fixture reports, enriched from the demo reference
    databases, and linked): the ISP table to build the notices with."""
    from tests.conftest import FIXTURES
    from tipfusion.config import Settings
    from tipfusion.enrich.demo import build_demo_reference
    from tipfusion.enrich.service import EnrichConfig, EnrichService
    from tipfusion.ingest import IngestService
    from tipfusion.link.service import LinkService

    reference = build_demo_reference(work / "reference")
    batch = work / "batch"
    batch.mkdir()
    for name in ("100000042.xml", "file-0a1b2c3d.xml"):
        shutil.copyfile(FIXTURES / name, batch / name)
    IngestService(engine, Settings(database_url=url, ingest_workers=0), "tester").ingest_paths([batch])
    config = EnrichConfig(tuple(reference.databases), reference.isp_table, reference.warninglist)
    EnrichService(engine, config, "tester").run()
    LinkService(engine, "tester").run()
    return reference.isp_table


@pytest.fixture
def referral_copy(db_url: str, store_templates: StoreTemplates) -> Iterator[tuple[Engine, list[str]]]:
    """The test's own copy of `referral_store`'s store, built once per worker and database (~1 s a build), and the
    suspects to refer."""
    engine, subjects = store_templates.prepare(db_url, "referral-store", referral_store)
    yield engine, subjects
    engine.dispose()


@pytest.fixture
def request_copy(db_url: str, store_templates: StoreTemplates) -> Iterator[tuple[Engine, Path]]:
    """The test's own copy of `request_store`'s store, built once per worker and database (~0.8–1.8 s a build), and
    the ISP table to build its notices with."""
    engine, isp_table = store_templates.prepare(db_url, "request-store", request_store)
    yield engine, isp_table
    engine.dispose()


def build_one(url: str, output: Path, subject: str, *options: str) -> subprocess.Popen[str]:
    """`tests/reliability/build_one.py` in a process of its own: one referral build, to kill or to run beside one."""
    return own_process("-m", "tests.reliability.build_one", url, str(output), subject, *options)


def request_one(url: str, output: Path, isp_table: Path, *options: str) -> subprocess.Popen[str]:
    """`tests/reliability/request_one.py` in a process of its own: `tipfusion requests build`, to kill midway."""
    return own_process("-m", "tests.reliability.request_one", url, str(output), str(isp_table), *options)


def own_process(*arguments: str) -> subprocess.Popen[str]:
    """`python ARGUMENTS` from the checkout, without the caller's TIPFUSION_ settings, output and errors together."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("TIPFUSION_")}
    return subprocess.Popen(
        [sys.executable, *arguments],
        cwd=ROOT,
        env={**base, "PYTHONPATH": os.pathsep.join([ROOT, SRC])},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
