"""Fixtures: every store test runs on SQLite and on PostgreSQL; batches come from the project's own generator."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, make_url, text

# pytest-xdist's workers run with COLUMNS=80 whatever the controller had, and tipfusion.cli.context fixes the
# width of its tables at import from COLUMNS: give each worker the controller's value (or none), so a table the
# tests read is wrapped as in a serial run. Set before anything imports tipfusion.cli.
if "PYTEST_XDIST_WORKER" in os.environ:
    _controller_columns = os.environ.get("TIPFUSION_TEST_COLUMNS", "")
    if _controller_columns:
        os.environ["COLUMNS"] = _controller_columns
    else:
        os.environ.pop("COLUMNS", None)
else:
    os.environ["TIPFUSION_TEST_COLUMNS"] = os.environ.get("COLUMNS", "")

from tipfusion.config import Settings
from tipfusion.memory import collect_less_often, collector_paused
from tipfusion.store.db import make_engine, upgrade
from tipfusion.synth import generate

# Hypothesis's default 200 ms per-example deadline is a timed assertion: on this shared 2-core machine one slow
# example (a cold import, a busy neighbour) fails a property that holds. Performance is measured in benchmarks/.
hypothesis_settings.register_profile("tipfusion", deadline=None)
hypothesis_settings.load_profile("tipfusion")

# the web application's fixtures (web_store, client_for, browser_page); the fault tests' prepared stores (referral_copy,
# request_copy)
pytest_plugins = ["tests.web_support", "tests.reliability.faults"]

T = TypeVar("T")
FIXTURES = Path(__file__).parent / "fixtures"
POSTGRES_URL = os.environ.get("TIPFUSION_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_POSTGRES = os.environ.get("TIPFUSION_REQUIRE_POSTGRES") == "1"


def _postgres_available() -> str | None:
    try:
        engine = make_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:
        return str(exc).splitlines()[0]


_PG_PROBLEM = _postgres_available()


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing() -> Iterator[None]:
    """argon2id with tiny cost parameters for the tests run in this process: the production hasher (64 MiB, 3 passes,
    ~0.3 s a hash or a login on a loaded 2-core machine) is the same algorithm, and most tests create accounts or log
    in, which was minutes of the suite. Hashes carry their parameters, so a command-line subprocess still verifies
    them (and, seeing weaker parameters, rehashes at the production cost, as it would after a parameter change)."""
    from argon2 import PasswordHasher

    from tipfusion.accounts import service

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(service, "_hasher", lambda: cheap)
        service._dummy_hash.cache_clear()
        yield
    service._dummy_hash.cache_clear()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, empty database URL: a SQLite file (outside the test's tmp_path), or a PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'store.db'}"
        return
    if _PG_PROBLEM is not None:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL required (TIPFUSION_REQUIRE_POSTGRES=1) but unavailable: {_PG_PROBLEM}")
        pytest.skip(f"PostgreSQL unavailable: {_PG_PROBLEM}")
    schema = f"tf_{uuid.uuid4().hex[:12]}"
    with _admin().begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    yield _in_schema(schema)
    with _admin().begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))


@cache
def _admin() -> Engine:
    """One engine per process (xdist worker) for schemas and template replays, its connections pooled and its
    commits unflushed (`_TEST_SESSION`): an engine and a connection of their own per PostgreSQL test cost ~50 ms of
    its ~200 ms setup, about 480 times a run."""
    return make_engine(_with_options(_TEST_SESSION.removeprefix("%20")))


class StoreTemplates:
    """Stores built once per session (per xdist worker) and copied into a test's own, fresh database, so that tests
    stay isolated without each paying for the build: a migrated store costs ~0.1 s of Alembic on SQLite and ~1 s on
    PostgreSQL (more on a loaded machine), hundreds of times a run.

    SQLite: the template file is copied. PostgreSQL: the template schema is dumped once (`pg_dump --inserts`, rows
    and sequence positions included) and the script replayed into the test's schema, a third of Alembic's time;
    without a usable pg_dump the build itself runs in the test's schema (slower, same store)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._built: dict[tuple[str, str], Path | str | None] = {}
        self._returned: dict[tuple[str, str], object] = {}

    def prepare(self, db_url: str, name: str, build: Callable[[Engine, str, Path], T]) -> tuple[Engine, T]:
        """A migrated store `build(engine, url, folder)` filled, copied into the empty database `db_url`, with what
        `build` returned. `build` runs once per kind of database in this process, in a database of its own, with a
        folder that lasts the session for the files it makes (rows that name them stay true in every copy)."""
        backend = make_url(db_url).get_backend_name()
        made: list[T] = []

        def migrated_then_built(engine: Engine, url: str) -> None:
            upgrade(engine)
            folder = self.folder / f"{name}-{backend}"
            folder.mkdir()
            made.append(build(engine, url, folder))

        self.fill(db_url, name, migrated_then_built)
        if made:
            self._returned[(backend, name)] = made[0]
        return make_engine(db_url), self._returned[(backend, name)]  # type: ignore[return-value]

    def fill(self, db_url: str, name: str, build: Callable[[Engine, str], None]) -> None:
        """Make the empty database `db_url` a copy of the template `name`, built on first use by `build(engine, url)`
        in a database of the same kind."""
        backend = make_url(db_url).get_backend_name()
        key = (backend, name)
        if key not in self._built:
            self._built[key] = self._build_sqlite(name, build) if backend == "sqlite" else self._build_postgres(build)
        template = self._built[key]
        if isinstance(template, Path):
            shutil.copyfile(template, make_url(db_url).database or "")
        elif isinstance(template, str):
            _replay(template.replace(_TEMPLATE_MARK, schema_of(db_url)))
        else:
            engine = make_engine(db_url)
            build(engine, db_url)
            engine.dispose()

    def _build_sqlite(self, name: str, build: Callable[[Engine, str], None]) -> Path:
        path = self.folder / f"{name}.db"
        engine = make_engine(f"sqlite:///{path}")
        build(engine, f"sqlite:///{path}")
        engine.dispose()
        with closing(sqlite3.connect(path)) as conn:  # everything into the main file: the copy takes that file alone
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return path

    def _build_postgres(self, build: Callable[[Engine, str], None]) -> str | None:
        pg_dump = shutil.which("pg_dump")
        if pg_dump is None:
            return None
        schema = f"tf_tpl_{uuid.uuid4().hex[:12]}"
        admin = _admin()
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        try:
            engine = make_engine(_in_schema(schema))
            build(engine, _in_schema(schema))
            engine.dispose()
            libpq_url = make_url(POSTGRES_URL).set(drivername="postgresql").render_as_string(hide_password=False)
            args = [pg_dump, "--no-owner", "--no-privileges", "--inserts", "--schema", schema, libpq_url]
            dumped = subprocess.run(args, capture_output=True, text=True)
        finally:
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        if dumped.returncode != 0:  # e.g. a pg_dump older than the server
            return None
        lines = [_local(line) for line in dumped.stdout.splitlines() if _replayable(line, schema)]
        return "\n".join(lines).replace(schema, _TEMPLATE_MARK)


_TEMPLATE_MARK = "tf_template_schema_mark"


def _replayable(line: str, schema: str) -> bool:
    """The dump's statements, less psql commands (\\restrict), comments and the schema's own creation (the test's
    schema exists)."""
    return not line.startswith(("\\", "--")) and line != f"CREATE SCHEMA {schema};"


def _local(line: str) -> str:
    """The dump's session settings (search_path '' and the like) for the replay's transaction only: the connection
    goes back to the pool."""
    if line.startswith("SET "):
        return "SET LOCAL " + line[4:]
    return line.replace("set_config('search_path', '', false)", "set_config('search_path', '', true)")


def _replay(script: str) -> None:
    raw = _admin().raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(script)  # no parameters: psycopg sends the statements as they are (a % stays a %)
        raw.commit()
    finally:
        raw.close()  # back to the pool


# A test's connections commit without waiting for the WAL to reach the disk (`synchronous_commit=off`, set for those
# sessions only): a commit is as visible to every other session and as atomic as before; only a crash of the
# PostgreSQL server itself could lose the last few hundred milliseconds of commits, and no test crashes the server
# (the kill -9 tests kill the client; a dropped connection is pg_terminate_backend, a clean backend exit). On this
# machine's disk a commit took ~6 ms with the flush and ~0.4 ms without.
_TEST_SESSION = "%20-csynchronous_commit%3Doff"


def _in_schema(schema: str) -> str:
    return _with_options(f"-csearch_path%3D{schema}{_TEST_SESSION}")


def _with_options(options: str) -> str:
    """The test server's URL with these libpq `options` (URL-encoded)."""
    separator = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{separator}options={options}"


def schema_of(url: str) -> str:
    """The schema a test's PostgreSQL URL puts its tables in (its `search_path` option)."""
    found = re.search(r"search_path(?:%3D|=)(\w+)", url)
    assert found, f"no schema in {url}"
    return found.group(1)


# `make test` hands out whole files to its workers (`--dist loadfile`) in collection order (`--no-loadscope-reorder`;
# xdist's own order is by the number of tests in a file, which put the Spark file, a few long tests, near the end of
# the run, with one worker left alone on it). The files that took longest (junit times, 6 December 2026) go first,
# longest first, so that the short ones fill in at the end; the rest keep their order. Only the order changes.
LONGEST_FILES = (
    "tests/test_referrals.py",
    "tests/test_link_spark.py",
    "tests/test_readme_walk.py",
    "tests/reliability/test_faults.py",
    "tests/test_cli_errors.py",
    "tests/test_concurrency.py",
    "tests/test_station_documents.py",
    "tests/test_web_admin.py",
    "tests/test_web_analyst.py",
    "tests/test_web_station.py",
    "tests/test_workplace.py",
    "tests/test_cli_credentials.py",
    "tests/test_link_determinism.py",
    "tests/test_answers.py",
    "tests/test_backup.py",
)
_ROOT = Path(__file__).resolve().parents[1]


@pytest.hookimpl(wrapper=True)
def pytest_collection() -> Iterator[None]:
    """No cycle collection while the test modules are imported (`collector_paused`): the collector walked the growing
    heap of imported libraries again and again (each worker's collection took 6.7 s with it, 4.5 s without). What is
    alive at the end is frozen (`pytest_collection_finish`, inside this hook), and collection is turned back on, in
    whichever process collects."""
    with collector_paused():
        return (yield)


def pytest_collection_finish() -> None:
    """The cycle collector, tuned as the commands tune it (`tipfusion.memory.collect_less_often`: what is alive once
    the tests are collected is frozen, the young collected every 10,000 allocations): its walks of every generation
    had cost each worker ~120 s of a ~500 s run (~280 walks of ~800,000 objects, ~0.4 s each; a `gc.callbacks`
    timer around the whole suite)."""
    collect_less_often()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: n for n, name in enumerate(LONGEST_FILES)}

    def file_rank(item: pytest.Item) -> int:
        try:
            return rank.get(item.path.resolve().relative_to(_ROOT).as_posix(), len(rank))
        except ValueError:  # a test outside the repository's tests/
            return len(rank)

    items.sort(key=file_rank)  # stable: a file's own tests keep their order


@pytest.fixture(scope="session")
def store_templates(tmp_path_factory: pytest.TempPathFactory) -> StoreTemplates:
    return StoreTemplates(tmp_path_factory.mktemp("templates"))


@pytest.fixture
def engine(db_url: str, store_templates: StoreTemplates) -> Iterator[Engine]:
    """The test's own store, migrated to the head revision (a copy of one migrated once per session)."""
    store_templates.fill(db_url, "migrated", lambda engine, _url: upgrade(engine))
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url, reports_per_transaction=25)


@pytest.fixture(scope="session")
def synthetic_batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic XML batch (with truth.csv and a lead list), generated once per session."""
    out = tmp_path_factory.mktemp("synth") / "batch"
    generate(out, 120, seed=11)
    return out


@pytest.fixture(scope="session")
def synthetic_json_batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth-json") / "batch"
    generate(out, 60, seed=12, fmt="json")
    return out


# --- the reliability suite's figures (tests/reliability), printed at the end of the run, whatever -q says ----------
# Under pytest-xdist (`make test` runs `-n auto`) the tests run in worker processes: each worker sends its figures'
# lines to the controller when it finishes, and the controller prints them all.

_WORKER_FIGURES: list[list[Any]] = []  # [name, line, *detail lines] received from xdist workers


def _figure_blocks() -> list[list[Any]]:
    """This process's figures, one block per suite and database: [name, line, *detail lines]."""
    harness = sys.modules.get("tests.reliability.harness")
    faults = sys.modules.get("tests.reliability.faults")
    blocks: list[list[Any]] = []
    for name, figures in sorted(harness.FIGURES.items() if harness else []):
        block = [name, figures.line()]
        if figures.peak_batch:
            block.append(f"peak batch: {figures.peak_batch}")
        if figures.reasons:
            reasons = ", ".join(f"{reason} ×{n}" for reason, n in figures.reasons.most_common(12))
            block.append(f"quarantine reasons: {reasons}")
        block += list(figures.problems()[:10])
        blocks.append(block)
    for name, fault_figures in sorted(faults.FAULT_FIGURES.items() if faults else []):
        blocks.append([name, fault_figures.line(), *fault_figures.problems[:10]])
    return blocks


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the figures to the controller
        workeroutput["reliability_figures"] = _figure_blocks()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any) -> None:
    """xdist controller: keep what a finished worker reported."""
    _WORKER_FIGURES.extend(getattr(node, "workeroutput", {}).get("reliability_figures", []))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    blocks = sorted([*_WORKER_FIGURES, *_figure_blocks()], key=lambda block: str(block[0]))
    if not blocks:
        return
    terminalreporter.section("reliability figures")
    for name, line, *details in blocks:
        terminalreporter.write_line(f"{name}: {line}")
        for detail in details:
            terminalreporter.write_line(f"    {detail}")
