"""Who can read it (issue 14 §9): the store (SQLite file, WAL, shared memory), exports, referral packages and backups
are created readable by this account only — 0600 files, 0700 folders — whatever umask the shell had, on SQLite and
PostgreSQL."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tipfusion.cli.main import app
from tipfusion.config import Settings
from tipfusion.pipeline import through_routing
from tipfusion.refer.service import top_subjects
from tipfusion.store.db import make_engine, sqlite_file, store_files
from tipfusion.synth import generate

runner = CliRunner()


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A workstation's usual umask (022): without tipfusion's own, every file it writes would be 0644."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def cli(db_url: str, *args: str) -> str:
    result = runner.invoke(app, ["--database", db_url, *args], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def modes(*roots: Path) -> dict[str, str]:
    """Every file and folder under (and including) each root, by path, with its permission bits."""
    found = {}
    for root in roots:
        for path in [root, *root.rglob("*")] if root.is_dir() else [root]:
            found[str(path)] = oct(stat.S_IMODE(path.lstat().st_mode))
    return found


@pytest.mark.usefixtures("open_umask")
def test_the_store_exports_packages_and_backups_are_private(db_url: str, tmp_path: Path) -> None:
    batch = generate(tmp_path / "batch", 40, seed=5)
    cli(db_url, "ingest", str(batch.out / "reports"))  # the command line starts the store
    engine = make_engine(db_url)
    through_routing(engine, Settings(database_url=db_url), "tester", batch)
    subject = top_subjects(engine, 1)[0]
    engine.dispose()
    out = tmp_path / "out"
    out.mkdir(mode=0o755)
    cli(db_url, "export", "reports", "--output", str(out / "reports.csv"))
    cli(db_url, "export", "reports", "--format", "json", "--output", str(out / "exports" / "reports.json"))
    cli(db_url, "refer", "build", subject, "-o", str(out / "referrals"))
    cli(db_url, "backup", str(out / "backup"))
    written = modes(out / "reports.csv", out / "exports", out / "referrals", out / "backup")
    assert len(written) >= 8 and (out / "referrals").is_dir()
    store = sqlite_file(db_url)
    if store is not None:  # SQLite: the store's own files (the WAL and shared memory take the database file's mode)
        cli(db_url, "status")
        parts = [p for p in store_files(db_url) if p.exists()]
        assert store in parts and len(parts) >= 2, parts
        written |= modes(*parts)
    wrong = {path: mode for path, mode in written.items() if mode != ("0o700" if Path(path).is_dir() else "0o600")}
    assert not wrong, wrong


@pytest.mark.usefixtures("open_umask")
def test_the_umask_is_the_command_s_own(tmp_path: Path) -> None:
    """Set for the command and given back after (a test runner or a caller of `run` keeps its own)."""
    result = runner.invoke(app, ["--database", f"sqlite:///{tmp_path / 'none.db'}", "config", "show"])
    assert result.exit_code == 0, result.output
    assert os.umask(0o022) == 0o022
