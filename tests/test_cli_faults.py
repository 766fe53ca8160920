"""Faults give answers, not tracebacks: a mistyped store path, an unreadable URL, a read-only store, a full disk, a
PostgreSQL connection dropped mid-run — each one line naming the cause, a non-zero exit, and nothing half-written (a
re-run lands what the failed run did not, each report once)."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select, text

from tests.test_cli_errors import SRC, one_error, tipfusion_cli
from tipfusion.store import db as store_db
from tipfusion.store.db import make_engine
from tipfusion.store.tables import audit_events, reports


def report_rows(url: str) -> tuple[int, int]:
    """(rows, distinct report ids) in the store: equal when no report landed twice."""
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(reports)).scalar_one()
        distinct = conn.execute(select(func.count(func.distinct(reports.c.report_id)))).scalar_one()
    engine.dispose()
    return rows, distinct


def audit_count(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(audit_events)).scalar_one()
    engine.dispose()
    return count


@pytest.mark.parametrize(
    "command",
    [["status"], ["quarantine", "list"], ["audit", "list"], ["cases", "list"], ["db", "status"], ["search", "x"]],
)
def test_a_mistyped_store_path_is_named_and_no_empty_store_is_made(command: list[str], tmp_path: Path) -> None:
    result = tipfusion_cli("--database", "sqlite:///tipfuison.db", *command, cwd=tmp_path)
    one_error(result, 2, "no store at tipfuison.db", "tipfusion ingest", "--database")
    assert not list(tmp_path.iterdir())


def test_without_database_the_default_store_must_exist_for_reading(tmp_path: Path) -> None:
    one_error(tipfusion_cli("status", cwd=tmp_path), 2, "no store at tipfusion.db")
    assert not (tmp_path / "tipfusion.db").exists()


def test_ingest_and_db_upgrade_may_start_a_store(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    ingested = tipfusion_cli("--database", "sqlite:///new.db", "ingest", "empty", cwd=tmp_path)
    assert ingested.returncode == 0, ingested.stderr
    assert "created a new store at new.db" in ingested.stderr
    assert tipfusion_cli("--database", "sqlite:///new.db", "status", cwd=tmp_path).returncode == 0
    upgraded = tipfusion_cli("--database", "sqlite:///other.db", "db", "upgrade", cwd=tmp_path)
    assert upgraded.returncode == 0 and (tmp_path / "other.db").exists(), upgraded.stderr


def test_an_unreadable_url_is_one_line_without_its_password(tmp_path: Path) -> None:
    result = tipfusion_cli("--database", "postgresql://u:s3cr3t@db.example:port/x", "status", cwd=tmp_path)
    output = one_error(result, 2, "cannot be read", "postgresql://u:***@db.example:port/x")
    assert "s3cr3t" not in output


def test_a_read_only_store_is_one_line_and_unchanged(tmp_path: Path, synthetic_batch: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    first = tipfusion_cli("--database", url, "ingest", str(synthetic_batch / "reports" / "211000000.xml"), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    before, entries = report_rows(url), audit_count(url)
    read_only = f"sqlite:///file:{tmp_path / 'store.db'}?mode=ro&uri=true"
    result = tipfusion_cli("--database", read_only, "ingest", str(synthetic_batch), cwd=tmp_path)
    one_error(result, 1, "read-only", "nothing was changed")
    assert len([line for line in result.stderr.splitlines() if line.strip()]) == 1, result.stderr
    assert report_rows(url) == before and audit_count(url) == entries
    assert tipfusion_cli("--database", read_only, "status", cwd=tmp_path).returncode == 0  # reading still works


def test_a_full_disk_under_an_export_is_one_line_and_not_audited(tmp_path: Path, synthetic_batch: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    assert tipfusion_cli("--database", url, "ingest", str(synthetic_batch), cwd=tmp_path).returncode == 0
    entries = audit_count(url)
    result = tipfusion_cli("--database", url, "export", "reports", "--output", "/dev/full", cwd=tmp_path)
    one_error(result, 1, "the disk is full", "run the command again")
    assert audit_count(url) == entries  # no record of an export that did not happen


def test_a_full_disk_under_the_store_is_one_line_and_a_rerun_resumes(
    tmp_path: Path, synthetic_batch: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """SQLite's page limit stands in for a full disk: the same error ("database or disk is full") at a write."""
    from tipfusion.cli import main

    url = f"sqlite:///{tmp_path / 'store.db'}"
    assert tipfusion_cli("--database", url, "db", "upgrade", cwd=tmp_path).returncode == 0
    engine = make_engine(url)
    with engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
    engine.dispose()
    setup = store_db._sqlite_setup

    def small_disk(engine: Engine) -> None:
        setup(engine)

        @event.listens_for(engine, "connect")
        def _limit(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute(f"PRAGMA max_page_count = {pages + 40}")

    monkeypatch.setattr(store_db, "_sqlite_setup", small_disk)
    monkeypatch.setattr(sys, "argv", ["tipfusion", "--database", url, "ingest", str(synthetic_batch)])
    with pytest.raises(SystemExit) as exit_info:
        main.run()
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "the disk is full" in err and "run the command again" in err and "Traceback" not in err, err
    monkeypatch.setattr(store_db, "_sqlite_setup", setup)
    rerun = tipfusion_cli("--database", url, "ingest", str(synthetic_batch), cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    rows, distinct = report_rows(url)
    assert rows == distinct == 120


def test_a_postgresql_connection_dropped_mid_run_is_one_line_and_a_rerun_resumes(
    db_url: str, engine: Engine, tmp_path: Path, synthetic_batch: Path
) -> None:
    """The test holds a lock the ingest must wait for, drops the ingest's own connection (found by its
    application_name, so no other session is touched) while it waits, then lets go."""
    if not db_url.startswith("postgresql"):
        pytest.skip("a dropped server connection is PostgreSQL's fault to have")
    name = f"tf_drop_{uuid.uuid4().hex[:10]}"
    url = f"{db_url}&application_name={name}"
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("TIPFUSION_")}
    with engine.connect() as holder:
        holder.execute(text("LOCK TABLE reports IN ACCESS EXCLUSIVE MODE"))
        run = subprocess.Popen(
            [sys.executable, "-m", "tipfusion", "--database", url, "ingest", str(synthetic_batch)],
            cwd=tmp_path,
            env={**env, "PYTHONPATH": SRC, "COLUMNS": "100"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            waiting: list[int] = []
            deadline = time.monotonic() + 90
            with engine.connect() as watcher:
                while not waiting and time.monotonic() < deadline and run.poll() is None:
                    time.sleep(0.2)
                    waiting = list(
                        watcher.execute(
                            text(
                                "SELECT pid FROM pg_stat_activity WHERE application_name = :name "
                                "AND wait_event_type = 'Lock'"
                            ),
                            {"name": name},
                        ).scalars()
                    )
                    watcher.rollback()  # pg_stat_activity is read once per transaction: look afresh each time
                assert waiting, "the ingest never waited for the lock"
                for pid in waiting:  # this test's own ingest, nobody else's
                    watcher.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        finally:
            holder.rollback()
        stdout, stderr = run.communicate(timeout=120)
    result = subprocess.CompletedProcess(run.args, run.returncode, stdout, stderr)
    one_error(result, 1, "the store failed", "run the command again")
    assert len([line for line in stderr.splitlines() if line.strip()]) == 1, stderr
    rerun = tipfusion_cli("--database", db_url, "ingest", str(synthetic_batch), cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    rows, distinct = report_rows(db_url)
    assert rows == distinct == 120
