"""Fixtures: every store test runs on SQLite and on PostgreSQL; batches come from the project's own generator."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from tipfusion.config import Settings
from tipfusion.store.db import make_engine, upgrade
from tipfusion.synth import generate

pytest_plugins = ["tests.web_support"]  # the web application's fixtures (web_store, client_for, browser_page)

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
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    upgrade(engine)
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
