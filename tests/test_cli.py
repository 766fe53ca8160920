"""The command line: thin shells over the services, documented, with meaningful exit codes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from tests.conftest import FIXTURES
from tests.web_support import cli_account
from tipfusion.cli.main import app

runner = CliRunner()
README = (Path(__file__).parent.parent / "README.md").read_text()


def command_paths() -> list[str]:
    root = get_command(app)
    paths = []
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        sub = getattr(command, "commands", None)
        if sub:
            paths.extend(f"{name} {child}" for child in sub)
        else:
            paths.append(name)
    return paths


@pytest.mark.parametrize("path", command_paths())
def test_every_command_is_documented_in_the_readme(path: str) -> None:
    name, _, child = path.partition(" ")
    pattern = rf"tipfusion {re.escape(name)}\b" + (rf"[^\n]*\b{re.escape(child)}\b" if child else "")
    assert re.search(pattern, README), f"`tipfusion {path}` is not in README.md"


def test_readme_starts_with_the_two_commands() -> None:
    head = README.split("\n\n")[1]
    assert "make run" in head and "make test" in head


def test_ingest_exit_codes_and_quarantine(tmp_path: Path, db_url: str) -> None:
    good = tmp_path / "good"
    good.mkdir()
    (good / "100000042.xml").write_bytes((FIXTURES / "100000042.xml").read_bytes())
    cli_account(db_url, "analyst1")  # the audit log records the logged-in account (`--as` only checks it)
    result = runner.invoke(app, ["--database", db_url, "--as", "analyst1", "ingest", str(good)])
    assert result.exit_code == 0, result.output
    assert "reports accepted (new)" in result.output
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "100000043.xml").write_text("<report><unclosed></report>")
    result = runner.invoke(app, ["--database", db_url, "ingest", str(bad)])
    assert result.exit_code == 1
    assert "malformed_xml" in result.output and "100000043.xml:1" in result.output
    listing = runner.invoke(app, ["--database", db_url, "quarantine", "list"])
    assert listing.exit_code == 0 and "malformed_xml" in listing.output
    shown = runner.invoke(app, ["--database", db_url, "quarantine", "show", "1"])
    assert "kept byte for byte" in shown.output
    audit = runner.invoke(app, ["--database", db_url, "audit", "verify"])
    assert audit.exit_code == 0 and "intact" in audit.output
    entries = runner.invoke(app, ["--database", db_url, "audit", "list"])
    assert "analyst1" in entries.output and " IST" in entries.output


def test_ingest_names_every_reference_file_it_counts(tmp_path: Path, db_url: str) -> None:
    """`skipped N reference file(s): …` lists N names, and the run record keeps them (it listed 5 of 6)."""
    from sqlalchemy import select

    from tipfusion.store.db import make_engine
    from tipfusion.store.tables import ingest_runs

    out = tmp_path / "batch"
    assert runner.invoke(app, ["synth", "--reports", "50", "--seed", "3", "--out", str(out)]).exit_code == 0
    result = runner.invoke(app, ["--database", db_url, "ingest", str(out)])
    assert result.exit_code == 0, result.output
    found = re.search(r"skipped (\d+) reference file\(s\) \(.*?\): (.*)", result.output)
    assert found is not None, result.output
    listed = found.group(2).strip().split(", ")
    on_disk = sorted(str(p) for p in (out / "reference").iterdir())
    assert int(found.group(1)) == len(listed) == len(on_disk) and sorted(listed) == on_disk
    engine = make_engine(db_url)
    with engine.connect() as conn:
        summary = conn.execute(select(ingest_runs.c.summary)).scalar_one()
    engine.dispose()
    assert summary["reference_skipped"] == len(summary["reference_skipped_files"]) == len(on_disk)


def test_synth_then_status_says_synthetic(tmp_path: Path, db_url: str) -> None:
    out = tmp_path / "batch"
    assert runner.invoke(app, ["synth", "--reports", "15", "--seed", "3", "--out", str(out)]).exit_code == 0
    result = runner.invoke(app, ["--database", db_url, "ingest", str(out)])
    assert result.exit_code == 0, result.output
    status = runner.invoke(app, ["--database", db_url, "status"])
    assert "SYNTHETIC DATA" in status.output and "reports" in status.output
