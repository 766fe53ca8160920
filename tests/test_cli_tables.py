"""Tables that fit: at 80 columns every id, reference and path a user must copy is printed whole (the tables turn
into one block per row rather than cut them), and times are shown in the unit's zone. Layout only: one SQLite
store is enough (the store tests run on both databases elsewhere)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import tipfusion
from tipfusion.config import Settings
from tipfusion.pipeline import through_routing
from tipfusion.refer.service import top_subjects
from tipfusion.store.db import make_engine
from tipfusion.synth import generate

SRC = str(Path(tipfusion.__file__).parents[1])
LONG_FOLDER = "a-folder-name-long-enough-that-no-eighty-column-table-could-hold-it-whole"


@pytest.fixture(scope="module")
def walked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with a quarantined document, requests to ISPs, referrals and cases (built through the real CLI)."""
    folder = tmp_path_factory.mktemp("tables")
    batch = generate(folder / "batch", 60, seed=5)
    settings = Settings(database_url=f"sqlite:///{folder / 'tipfusion.db'}")
    engine = make_engine(settings.database_url)
    through_routing(engine, settings, "test", batch)
    subject = top_subjects(engine, 1)[0]
    engine.dispose()
    bad = folder / LONG_FOLDER / "broken-report-with-a-long-name.xml"
    bad.parent.mkdir()
    bad.write_text("<report><incidentSummary>")
    cli(folder, "ingest", str(bad))
    isps = str(folder / "batch" / "reference" / "demo-isps.csv")
    code, requests = cli(folder, "requests", "build", "-o", str(folder / LONG_FOLDER / "letters"), "--isp-table", isps)
    assert code == 0
    code, referrals = cli(folder, "refer", "build", subject, "-o", str(folder / LONG_FOLDER / "referrals"))
    assert code == 0
    (folder / "built.txt").write_text(requests + referrals)
    return folder


def cli(folder: Path, *args: str) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIPFUSION_")}
    result = subprocess.run(
        [sys.executable, "-m", "tipfusion", "--database", f"sqlite:///{folder / 'tipfusion.db'}", *args],
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": SRC, "COLUMNS": "80"},
        timeout=300,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stdout


def rows(folder: Path, sql: str) -> list[str]:
    with sqlite3.connect(folder / "tipfusion.db") as conn:
        return [str(value) for (value,) in conn.execute(sql)]


@pytest.mark.parametrize(
    ("command", "sql"),
    [
        (["quarantine", "list"], "SELECT source_name FROM quarantine_entries"),
        (["refer", "list"], "SELECT reference FROM referrals"),
        (["refer", "list"], "SELECT subject_id FROM referrals"),
        (["requests", "list"], "SELECT reference FROM isp_requests"),
        (["cases", "list"], "SELECT r.reference FROM cases c JOIN referrals r ON r.id = c.referral_id"),
    ],
)
def test_ids_and_paths_are_whole_at_80_columns(walked: Path, command: list[str], sql: str) -> None:
    code, output = cli(walked, *command)
    assert code == 0
    values = rows(walked, sql)
    assert values
    for value in values:
        assert value in output, (value, output)
    assert max(len(line) for line in output.splitlines()) <= 80 or any(len(v) > 70 for v in values)


def test_built_folders_are_printed_whole(walked: Path) -> None:
    folders = rows(walked, "SELECT output_dir FROM referrals") + rows(walked, "SELECT output_dir FROM isp_requests")
    assert folders and all(LONG_FOLDER in f for f in folders)
    output = (walked / "built.txt").read_text()  # what `requests build` and `refer build` printed at 80 columns
    for folder in folders:
        assert folder in output, (folder, output)


def test_times_are_in_the_units_zone_to_the_minute(walked: Path) -> None:
    for command in (["cases", "list"], ["audit", "list"], ["quarantine", "list"], ["refer", "list"]):
        code, output = cli(walked, *command)
        assert code == 0 and " IST" in output, (command, output)
