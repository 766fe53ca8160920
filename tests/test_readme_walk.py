"""The README's walk through the pipeline works as written, on any day: its commands are read from the README,
run with the real entry point in a fresh folder, with the clock moved to another day (TIPFUSION_NOW) — just after
midnight in the unit's zone, when the UTC date is still the day before."""

from __future__ import annotations

import json
import os
import re
import shlex
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

import tipfusion

README = Path(__file__).resolve().parents[1] / "README.md"
SRC = str(Path(tipfusion.__file__).parents[1])
MOMENT = "2027-03-10T00:20:00+05:30"  # 9 March in UTC, 10 March in India
REPORTS = "150"


def walk_commands(readme: str) -> list[str]:
    """The `.venv/bin/tipfusion …` lines of the walk's code block, continuation lines joined."""
    section = readme.split("## A walk through the pipeline", 1)[1]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    joined = re.sub(r"\\\n\s*", " ", block)
    return [line.strip() for line in joined.splitlines() if line.strip().startswith(".venv/bin/tipfusion")]


def test_the_walk_is_read_from_the_readme() -> None:
    commands = walk_commands(README.read_text(encoding="utf-8"))
    assert len(commands) > 25
    assert commands[0].startswith(".venv/bin/tipfusion synth")
    assert not [c for c in commands if re.search(r"\b20\d\d-\d\d-\d\d\b", c)], "fixed dates break on other days"


def _placeholders(command: str, folder: Path, year: int) -> str:
    """Real ids for the README's placeholders, from the store the walk has built so far."""
    command = command.replace("$(date +%Y)", str(year))
    if "NETWORK_ID" in command:
        networks = json.loads((folder / "networks.json").read_text(encoding="utf-8"))
        command = command.replace("NETWORK_ID", networks[0]["network_id"])
    if "REPORT_ID" in command:
        with sqlite3.connect(folder / "tipfusion.db") as conn:
            (report_id,) = conn.execute("SELECT min(report_id) FROM reports").fetchone()
        command = command.replace("REPORT_ID", str(report_id))
    if "SUSPECT_ID" in command:
        with sqlite3.connect(folder / "tipfusion.db") as conn:
            (suspect_id,) = conn.execute("SELECT min(suspect_id) FROM suspects").fetchone()
        command = command.replace("SUSPECT_ID", str(suspect_id))
    return command


@pytest.mark.slow
def test_the_readme_walk_runs_on_another_day(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIPFUSION_")}
    env.update({"PYTHONPATH": SRC, "TIPFUSION_NOW": MOMENT, "COLUMNS": "120"})
    year = datetime.fromisoformat(MOMENT).year
    for line in walk_commands(README.read_text(encoding="utf-8")):
        args = shlex.split(_placeholders(line, tmp_path, year), comments=True)[1:]
        if args[0] == "synth":
            args[args.index("--reports") + 1] = REPORTS
        result = subprocess.run(
            [sys.executable, "-m", "tipfusion", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        output = result.stdout + result.stderr
        allowed = {0, 1} if args[0] == "ingest" else {0}  # ingest exits 1 when it quarantined something
        assert result.returncode in allowed, f"{line}\n{output}"
        assert "Traceback" not in output, f"{line}\n{output}"
        if args[:2] == ["operation", "report"]:
            assert "Unit-wide in the period: 150 reports received" in output  # ingested today, in the drive
            assert (tmp_path / "masoom.pdf").stat().st_size > 0
        if args[:2] == ["requests", "list"]:
            assert "2027-03-10 00:" in output and "IST" in output  # sent now, shown in the unit's zone
    with sqlite3.connect(tmp_path / "tipfusion.db") as conn:
        built = conn.execute("SELECT count(*) FROM referrals WHERE operation = 'MASOOM'").fetchone()[0]
    assert built == 5  # every referral of the walk falls in the drive's days, counted in the unit's zone
