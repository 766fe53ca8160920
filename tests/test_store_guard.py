"""No command can destroy, pollute or swallow the store (issue 14 §2): outputs over the store or its WAL/SHM/journal
are refused by one guard, the demo keeps to its own store and folder, and ingest skips the store's own files."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tests.conftest import FIXTURES
from tipfusion.cli.main import app
from tipfusion.config import Settings
from tipfusion.ingest import IngestService
from tipfusion.store.db import make_engine, store_files, upgrade

runner = CliRunner()


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A SQLite store holding one report, closed."""
    database = tmp_path / "unit" / "tipfusion.db"
    database.parent.mkdir()
    url = f"sqlite:///{database}"
    engine = make_engine(url)
    upgrade(engine)
    IngestService(engine, Settings(database_url=url), "tester").ingest_paths([FIXTURES / "100000042.xml"])
    engine.dispose()  # closed now, not by the garbage collector half-way through a test (a WAL checkpoint)
    return database


def fingerprint(database: Path) -> dict[str, str]:
    """The store's bytes, and which of its companion files exist (none while it is closed)."""
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest() if p == database else "exists"
        for p in store_files(f"sqlite:///{database}")
        if p.exists()
    }


def commands(target: Path) -> list[list[str]]:
    """Every command that writes a file or folder the user names, pointed at `target`."""
    return [
        ["export", "reports", "--output", str(target)],
        ["export", "suspects", "--output", str(target)],
        ["export", "networks", "--output", str(target)],
        ["export", "ips", "--output", str(target)],
        ["export", "routing", "--output", str(target)],
        ["leads", "hits", "--output", str(target)],
        ["keys", "export", "--out", str(target)],
        ["keys", "create", "--out", str(target)],
        ["synth", "--reports", "1", "--out", str(target)],
        ["demo", "--reports", "10", "--out", str(target)],
        ["refer", "build", "--output", str(target), "S-1"],
        ["export", "referral", "S-1", "--output", str(target)],
        ["export", "chart", "--output", str(target)],
        ["backup", str(target)],
        ["requests", "build", "--output", str(target)],
        ["jurisdictions", "demo", "--out", str(target)],
        ["operation", "report", "DRIVE", "--output", str(target)],
    ]


@pytest.mark.parametrize("companion", ["", "-wal", "-shm", "-journal"])
@pytest.mark.parametrize("command", range(len(commands(Path()))))
def test_no_output_over_the_store(store: Path, companion: str, command: int) -> None:
    before = fingerprint(store)
    target = Path(f"{store}{companion}")
    args = commands(target)[command]
    result = runner.invoke(app, ["--database", f"sqlite:///{store}", *args])
    if result.exit_code == 2 and "No such command" in result.output:
        pytest.skip(f"no command {' '.join(args[:2])} in this version")
    assert result.exit_code != 0, result.output
    assert "the store's own file" in said(result), said(result)
    assert fingerprint(store) == before


def said(result: Result) -> str:
    """What the command said: its output, or the refusal the entry point (`tipfusion.cli.main.run`) prints."""
    return result.output + (str(result.exception) if result.exception else "")


def test_another_name_for_the_store_is_refused(store: Path, tmp_path: Path) -> None:
    alias = tmp_path / "innocent.csv"
    os.symlink(store, alias)
    before = fingerprint(store)
    result = runner.invoke(app, ["--database", f"sqlite:///{store}", "export", "reports", "--output", str(alias)])
    assert result.exit_code != 0 and "the store's own file" in said(result)
    assert fingerprint(store) == before


def test_ingest_skips_the_store_beside_the_batch(tmp_path: Path) -> None:
    """`ingest .` next to a SQLite store used to ingest the store and its WAL into itself (copies grew every run)."""
    batch = tmp_path / "batch"
    batch.mkdir()
    (batch / "100000042.xml").write_bytes((FIXTURES / "100000042.xml").read_bytes())
    url = f"sqlite:///{batch / 'tipfusion.db'}"
    engine = make_engine(url)
    upgrade(engine)
    service = IngestService(engine, Settings(database_url=url), "tester")
    with engine.connect():  # the store is open: its WAL and shared-memory files sit in the batch too
        summary = service.ingest_paths([batch])
    assert summary.accepted == 1 and summary.quarantined == 0 and summary.documents == 1
    assert sorted(Path(line.split(": ")[0]).name for line in summary.skipped) == [
        "tipfusion.db",
        "tipfusion.db-shm",
        "tipfusion.db-wal",
    ]
    assert all("the store's own file" in line for line in summary.skipped)
    with engine.connect():
        again = service.ingest_paths([batch])
    assert (again.new_documents, again.duplicates) == (0, 1)
    engine.dispose()


def test_demo_refuses_a_folder_it_did_not_make(store: Path) -> None:
    """`demo --out .` beside a real store deleted ./tipfusion.db and replaced ./batch."""
    folder = store.parent
    (folder / "batch").mkdir()
    (folder / "batch" / "evidence.xml").write_bytes(b"<report/>")
    before = fingerprint(store)
    result = runner.invoke(app, ["demo", "--reports", "10", "--out", str(folder)])
    assert result.exit_code != 0 and "was not made by tipfusion demo" in said(result), said(result)
    assert fingerprint(store) == before and (folder / "batch" / "evidence.xml").read_bytes() == b"<report/>"


def test_demo_keeps_to_its_own_store_and_folder(store: Path, tmp_path: Path) -> None:
    """The configured store is never touched; the demo's folder says it is the demo's and a rerun may replace it."""
    before = fingerprint(store)
    out = tmp_path / "demo"
    result = runner.invoke(app, ["--database", f"sqlite:///{store}", "demo", "--reports", "10", "--out", str(out)])
    assert result.exit_code in (0, 1), result.output
    assert fingerprint(store) == before
    assert (out / "tipfusion.db").is_file() and (out / "TIPFUSION-DEMO.txt").is_file()
    assert str(out / "tipfusion.db") in result.output.replace("\n", "")


def test_the_store_is_made_of_four_files_on_sqlite_and_none_on_postgresql(tmp_path: Path) -> None:
    names = [p.name for p in store_files(f"sqlite:///{tmp_path / 'unit.db'}")]
    assert names == ["unit.db", "unit.db-wal", "unit.db-shm", "unit.db-journal"]
    assert store_files("postgresql://postgres@127.0.0.1/test") == [] and store_files("sqlite://") == []
