"""Backup, restore and retention, through the real command line on SQLite and PostgreSQL: a backup restores into an
empty store with every row, the evidence re-hashes and the audit log verifies; a restore never goes over data; an
altered backup is refused; a purge removes source bytes but not the record, and evidence says purged, not altered."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url

from tests.conftest import schema_of
from tests.test_cli_errors import one_error, tipfusion_cli
from tipfusion.config import Settings
from tipfusion.ingest import IngestService
from tipfusion.store.backup import table_counts
from tipfusion.store.db import make_engine
from tipfusion.store.tables import audit_events, source_blobs, source_documents, source_purges


def _empty_target(db_url: str, engine: Engine, tmp_path: Path) -> str:
    """An empty store to restore into: a new SQLite file, or the same PostgreSQL schema dropped and made again."""
    if db_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'restored' / 'store.db'}"
    schema = schema_of(db_url)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    return db_url


def test_backup_restore_purge(engine: Engine, db_url: str, synthetic_batch: Path, tmp_path: Path) -> None:
    IngestService(engine, Settings(database_url=db_url), "tester").ingest_paths([synthetic_batch])
    with engine.connect() as conn:
        before = table_counts(conn)
    assert before["reports"] == 120 and before["source_blobs"] > 0
    dest = tmp_path / "backups" / "first"
    dest.parent.mkdir()

    done = tipfusion_cli("--database", db_url, "backup", str(dest), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    manifest = json.loads((dest / "backup.json").read_text())
    assert manifest["counts"]["reports"] == 120 and manifest["documents"] == before["source_documents"]
    assert stat.S_IMODE((dest / manifest["file"]).stat().st_mode) == 0o600
    assert [p.name for p in dest.parent.iterdir()] == ["first"]  # no partial folder left beside it
    with engine.connect() as conn:  # the backup is itself on record
        assert conn.execute(select(audit_events.c.action).order_by(audit_events.c.seq.desc())).first() == (
            "store.backed_up",
        )

    one_error(tipfusion_cli("--database", db_url, "backup", str(dest), cwd=tmp_path), 1, "never overwrites")
    one_error(tipfusion_cli("--database", db_url, "restore", str(dest), cwd=tmp_path), 1, "empty store only")

    # an altered backup is refused before anything is written
    altered = tmp_path / "backups" / "altered"
    altered.mkdir()
    for part in dest.iterdir():
        (altered / part.name).write_bytes(part.read_bytes())
    data = bytearray((altered / manifest["file"]).read_bytes())
    data[len(data) // 2] ^= 0x01
    (altered / manifest["file"]).write_bytes(bytes(data))
    spare = f"sqlite:///{tmp_path / 'spare.db'}" if db_url.startswith("sqlite") else db_url
    one_error(tipfusion_cli("--database", spare, "restore", str(altered), cwd=tmp_path), 5, "ALTERED")

    target = _empty_target(db_url, engine, tmp_path)
    if target.startswith("sqlite"):
        Path(make_url(target).database or "").parent.mkdir()
    done = tipfusion_cli("--database", target, "restore", str(dest), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "every table's rows as the backup recorded" in done.stdout
    restored = make_engine(target)
    try:
        with restored.connect() as conn:
            after = table_counts(conn)
            last = conn.execute(select(audit_events.c.action).order_by(audit_events.c.seq.desc())).scalar()
        assert {k: v for k, v in after.items() if not k.startswith("audit_")} == {
            k: v for k, v in manifest["counts"].items() if not k.startswith("audit_")
        }
        assert after["audit_events"] == manifest["counts"]["audit_events"] + 1 and last == "store.restored"
        done = tipfusion_cli("--database", target, "verify", "--evidence", cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr

        # retention: the bytes go, the record stays, evidence says purged
        done = tipfusion_cli(
            "--database", target, "purge", "--before", "tomorrow", "--reason", "retention rule 7", cwd=tmp_path
        )
        assert done.returncode == 0, done.stdout + done.stderr
        with restored.connect() as conn:
            documents = conn.execute(select(func.count()).select_from(source_documents)).scalar_one()
            purged = conn.execute(select(func.count()).select_from(source_purges)).scalar_one()
            blobs = conn.execute(select(func.count()).select_from(source_blobs)).scalar_one()
            event = conn.execute(
                select(audit_events.c.action, audit_events.c.details).order_by(audit_events.c.seq.desc())
            ).first()
        assert documents == before["source_documents"] and purged == documents and blobs == 0
        assert event is not None and event.action == "sources.purged" and event.details["reason"] == "retention rule 7"
        done = tipfusion_cli("--database", target, "verify", "--evidence", cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"{documents:,} purged by retention" in done.stdout
        # a purged store backs up and restores too
        second = tmp_path / "backups" / "second"
        done = tipfusion_cli("--database", target, "backup", str(second), cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert json.loads((second / "backup.json").read_text())["purged_documents"] == documents
    finally:
        restored.dispose()


@pytest.mark.usefixtures("engine")
def test_purge_needs_a_reason(db_url: str, tmp_path: Path) -> None:
    one_error(
        tipfusion_cli("--database", db_url, "purge", "--before", "today", "--reason", " ", cwd=tmp_path), 1, "reason"
    )


def test_a_bare_purge_with_open_quarantine_keeps_those_bytes(engine: Engine, db_url: str, tmp_path: Path) -> None:
    batch = tmp_path / "batch"
    batch.mkdir()
    (batch / "100000001.xml").write_bytes(b"<report><broken>")
    IngestService(engine, Settings(database_url=db_url), "tester").ingest_paths([batch])
    done = tipfusion_cli("--database", db_url, "purge", "--before", "tomorrow", "--reason", "policy", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 waiting in quarantine kept their bytes" in done.stdout
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(source_blobs)).scalar_one() == 1


@pytest.mark.usefixtures("engine")  # the store's schema, to dump
def test_pg_dump_gets_the_real_password_in_its_environment_never_on_its_command_line(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`str(engine.url)` prints the password as *** in SQLAlchemy 2, and `URL.set(password=None)` keeps it: pg_dump
    got *** (a store with a password could not be backed up) and the conninfo on its command line (seen by `ps`)."""
    from tipfusion.store import backup as backup_module

    if not db_url.startswith("postgresql"):
        assert backup_module._libpq("postgresql://u:s3cr3t@h/d")[1]["PGPASSWORD"] == "s3cr3t"
        return
    calls: list[tuple[list[str], dict[str, str]]] = []

    def run(command: list[str], env: dict[str, str], _what: str) -> str:
        calls.append((command, env))
        for part in command:
            if part.startswith("--file="):
                Path(part.removeprefix("--file=")).write_bytes(b"dump")
        return ""

    monkeypatch.setattr(backup_module, "_run", run)
    with_password = make_engine(make_url(db_url).set(password="s3cr3t").render_as_string(hide_password=False))
    try:
        backup_module._backup_postgres(with_password, tmp_path, [])
    finally:
        with_password.dispose()
    assert calls and all(env.get("PGPASSWORD") == "s3cr3t" for _, env in calls)
    assert not [part for command, _ in calls for part in command if "s3cr3t" in part or "***" in part]
