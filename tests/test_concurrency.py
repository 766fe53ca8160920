"""Processes and concurrency: parser workers die with a killed ingest; a retry killed midway leaves no entry hidden
in `retrying`; link reads one snapshot while an ingest commits; two referral builds at once serialise."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from tests.reliability.faults import (
    build_one,
    notice_problems,
    package_problems,
    request_one,
)
from tipfusion.cli.main import app
from tipfusion.config import Settings
from tipfusion.documents.manifest import file_stem
from tipfusion.ingest import IngestService
from tipfusion.ingest import quarantine as quarantine_service
from tipfusion.link.service import LinkService
from tipfusion.store import link_inputs
from tipfusion.store.tables import isp_request_items, isp_requests, quarantine_entries, referrals, report_links, reports
from tipfusion.synth import generate

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


def test_link_reads_one_snapshot_while_an_ingest_commits(
    engine: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ingest that commits between link's first read (the reports) and its next ones (their identifiers) must not
    reach link: it links the store as it was when it began, and the next run takes in the new reports."""
    settings = Settings(database_url=db_url, ingest_workers=0)
    first, second = generate(tmp_path / "first", 30, seed=31), generate(tmp_path / "second", 30, seed=32)
    IngestService(engine, settings, "tester").ingest_paths([first.out])
    before = _count(engine, reports)
    reads = 0
    ingest = threading.Thread(target=IngestService(engine, settings, "other").ingest_paths, args=([second.out],))

    def interleaved(conn: Any, sql: str, *args: Any) -> Any:
        nonlocal reads
        reads += 1
        if reads == 2:  # after link has read the reports, before it reads anything about them
            ingest.start()
            ingest.join(timeout=60)  # on SQLite a writer may have to wait for link's reads to end: let it
        return original(conn, sql, *args)

    original = link_inputs.rows_of
    monkeypatch.setattr(link_inputs, "rows_of", interleaved)
    summary = LinkService(engine, "tester").run()
    monkeypatch.undo()
    ingest.join(timeout=120)
    assert not ingest.is_alive() and reads > 2
    assert _count(engine, reports) == before + 30  # the ingest did land in the middle of link's reads
    assert summary.reports == before and _count(engine, report_links) == before
    again = LinkService(engine, "tester").run()
    assert again.reports == before + 30 and _count(engine, report_links) == before + 30


def _count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


@pytest.mark.parametrize("same", [False, True], ids=["two subjects", "one subject"])
def test_two_referral_builds_at_once_serialise(
    referral_copy: tuple[Engine, list[str]], db_url: str, tmp_path: Path, same: bool
) -> None:
    """Two `refer build` processes that reach the package together: for two subjects both succeed with their own
    references and packages; for one subject the second finds the first's open case and says so. Either way every
    folder is a whole package on record (no unique violation, no orphan folder)."""
    engine, subjects = referral_copy
    first, second = subjects[:2]
    output, meeting = tmp_path / "referrals", tmp_path / "meet"
    meeting.mkdir()
    runs = [build_one(db_url, output, s, "--meet", str(meeting)) for s in ([first, first] if same else [first, second])]
    results = sorted((run.wait(timeout=300), run.communicate()[0]) for run in runs)
    if same:
        assert [code for code, _ in results] == [0, 1], results
        assert "already has an open case" in results[1][1], results
    else:
        assert [code for code, _ in results] == [0, 0], results
    with engine.connect() as conn:
        built = list(conn.execute(select(referrals.c.reference)).scalars())
    assert len(built) == len(set(built)) == (1 if same else 2)
    assert package_problems(db_url, output) == []
    assert sorted(p.name for p in output.iterdir()) == sorted(file_stem(r) for r in built)


def test_two_request_builds_at_once_ask_each_sighting_once(
    request_copy: tuple[Engine, Path], db_url: str, tmp_path: Path
) -> None:
    """Two `requests build` processes that both read the sightings before either stores a notice: both succeed, the
    notices are numbered in order, no sighting is asked twice, and every folder is a whole notice on record."""
    engine, isp_table = request_copy
    output, meeting = tmp_path / "notices", tmp_path / "meet"
    meeting.mkdir()
    runs = [request_one(db_url, output, isp_table, "--meet", str(meeting)) for _ in range(2)]
    results = [(run.wait(timeout=300), run.communicate()[0]) for run in runs]
    assert [code for code, _ in results] == [0, 0], results
    assert len(list(meeting.iterdir())) == 2  # both had read the sightings before either asked
    with engine.connect() as conn:
        asked = conn.execute(select(isp_request_items.c.ip, isp_request_items.c.port, isp_request_items.c.observed_at))
        keys = [tuple(row) for row in asked]
        built = list(conn.execute(select(isp_requests.c.reference)).scalars())
    assert len(keys) == len(set(keys)) == 2 and len(built) == 2
    assert notice_problems(db_url, output) == []
    assert sorted(p.name for p in output.iterdir()) == sorted(file_stem(r) for r in built)
