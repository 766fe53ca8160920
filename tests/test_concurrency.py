"""Processes and concurrency: parser workers die with a killed ingest; a retry killed midway leaves no entry hidden
in `retrying`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from tipfusion.cli.main import app
from tipfusion.config import Settings
from tipfusion.ingest import IngestService
from tipfusion.ingest import quarantine as quarantine_service
from tipfusion.store.tables import quarantine_entries

SRC = str(Path(__file__).parents[1] / "src")
PARENT = """
import os, sys, time
from tipfusion.ingest.parsing import worker_pool

if __name__ == "__main__":
    pool = worker_pool(2)
    busy = [pool.submit(time.sleep, 600) for _ in range(2)]
    while len(pool._processes) < 2:
        time.sleep(0.05)
    print(" ".join(str(pid) for pid in pool._processes), flush=True)
    time.sleep(600)
"""


def alive(pid: int) -> bool:
    """The process runs (a zombie waiting for its reaper has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_parser_workers_die_with_a_killed_ingest(tmp_path: Path) -> None:
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    parent = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": SRC}
    )
    workers: list[int] = []
    try:
        assert parent.stdout is not None
        workers = [int(pid) for pid in parent.stdout.readline().split()]
        assert len(workers) == 2 and all(alive(pid) for pid in workers)
        os.kill(parent.pid, signal.SIGKILL)  # kill -9 of the ingest: no chance to stop its pool
        parent.wait(timeout=30)
        deadline = time.monotonic() + 30
        while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(alive(pid) for pid in workers), "parser workers outlived their parent"
    finally:
        for pid in [parent.pid, *workers]:  # only the processes this test started
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_retry_killed_midway_leaves_the_entry_listed_and_retryable(
    engine: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(database_url=db_url)
    batch = tmp_path / "batch"
    batch.mkdir()
    (batch / "100000042.xml").write_text("<report><unclosed></report>")
    IngestService(engine, settings, "tester").ingest_paths([batch])
    (entry,) = quarantine_service.list_entries(engine)

    def killed(*_args: Any, **_kwargs: Any) -> None:
        raise KeyboardInterrupt  # Ctrl-C (or kill) between marking the entry and finishing the retry

    monkeypatch.setattr(IngestService, "run", killed)
    with pytest.raises(KeyboardInterrupt):
        quarantine_service.retry(engine, settings, "tester", [entry.id])
    monkeypatch.undo()
    with engine.connect() as conn:
        assert conn.execute(select(quarantine_entries.c.status)).scalar_one() == "retrying"
    listing = CliRunner().invoke(app, ["--database", db_url, "quarantine", "list"])
    assert listing.exit_code == 0 and "retrying" in listing.output and "1 entry" in listing.output, listing.output
    (entry,) = quarantine_service.list_entries(engine)
    (result,) = quarantine_service.retry(engine, settings, "tester", [entry.id])
    assert result.outcome == "still_rejected"  # tried again (the bytes are still bad), not skipped as busy
    assert [row.status for row in quarantine_service.list_entries(engine, None)] == ["superseded", "open"]
