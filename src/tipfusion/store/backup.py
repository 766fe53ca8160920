"""Backup and restore of the whole store, each proved by what it copied: row counts, the evidence re-hashed, the audit
chain and its checkpoints verified.

The source documents live inside the store (`source_blobs`, byte for byte under their SHA-256), so one consistent copy
of the database is the whole archive: reports, their sources, the audit log. SQLite is copied with its online backup
API (a consistent snapshot while others keep working); PostgreSQL with `pg_dump --format=custom`, run inside an
exported snapshot so that the counts and checks written beside the dump describe exactly what it holds.

A backup is written to a hidden folder beside DEST and renamed into place only once it is complete and checked: a
folder named DEST is always a whole backup. A restore goes into an empty store only (never over data), and checks the
restored store against the counts the backup recorded.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, func, inspect, select, text
from sqlalchemy.engine import URL, make_url

from tipfusion import clock
from tipfusion.audit.checkpoints import CheckpointReport, verify_checkpoints
from tipfusion.audit.evidence import EvidenceReport, rehash_sources
from tipfusion.audit.log import ChainReport, verify
from tipfusion.errors import ConfigurationError, InputRefused, IntegrityFailure
from tipfusion.private import FILE_MODE
from tipfusion.store.db import parse_url, safe_url, stored_revision
from tipfusion.store.tables import metadata

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

FORMAT = "tipfusion backup 1"
MANIFEST = "backup.json"
SQLITE_FILE = "tipfusion.db"
PG_FILE = "tipfusion.pgdump"
_SEARCH_PATH = re.compile(r"search_path\s*=\s*([A-Za-z_][A-Za-z0-9_$]*)")


@dataclass
class StoreCheck:
    """What a copy of the store holds and whether it is whole: the counts, the chain, the checkpoints, the bytes."""

    revision: str | None
    counts: dict[str, int]
    chain: ChainReport
    checkpoints: CheckpointReport
    evidence: EvidenceReport
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "revision": self.revision,
            "counts": self.counts,
            "audit_entries": self.chain.count,
            "audit_head": self.chain.head_hash,
            "checkpoints": self.checkpoints.checkpoints,
            "documents": self.evidence.documents,
            "document_bytes": self.evidence.bytes,
            "purged_documents": self.evidence.purged,
        }


@dataclass
class BackupResult:
    folder: Path
    file: Path
    sha256: str
    size: int
    check: StoreCheck


@dataclass
class RestoreResult:
    target: str
    manifest: dict[str, Any]
    check: StoreCheck


# -- checking a store ------------------------------------------------------------------------------------------
def table_counts(conn: Connection) -> dict[str, int]:
    """Rows in every table of the schema, by name (what a copy must reproduce exactly)."""
    held = set(inspect(conn).get_table_names())
    return {
        table.name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
        for table in metadata.sorted_tables
        if table.name in held
    }


def check_store(conn: Connection, keys: Sequence[Ed25519PublicKey] = ()) -> StoreCheck:
    """Count, verify the audit chain against its checkpoints, and re-hash every stored source document."""
    revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    chain = verify(conn)
    points = verify_checkpoints(conn, list(keys))
    evidence = rehash_sources(conn)
    check = StoreCheck(revision, table_counts(conn), chain, points, evidence)
    if not chain.ok:
        check.problems.append(f"audit chain broken at entry {chain.first_broken}: {chain.problem}")
    check.problems += points.problems
    check.problems += [f"source document {d.name} ({d.sha256}): {d.reason}" for d in evidence.differ]
    return check


def compare_counts(expected: dict[str, int], found: dict[str, int]) -> list[str]:
    """Every table whose row count differs from what the backup recorded."""
    return [
        f"table {name}: {expected.get(name, 0):,} row(s) in the backup, {found.get(name, 0):,} restored"
        for name in sorted(set(expected) | set(found))
        if expected.get(name, 0) != found.get(name, 0)
    ]


# -- backup ------------------------------------------------------------------------------------------------
def backup(engine: Engine, dest: Path, keys: Sequence[Ed25519PublicKey] = ()) -> BackupResult:
    """Copy the store into the new folder DEST (backup file + backup.json); refuse if DEST holds anything."""
    dest = dest.absolute()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise InputRefused(f"{dest}: exists and is not an empty folder; a backup never overwrites anything", "DEST")
    if not dest.parent.is_dir():
        raise InputRefused(f"{dest.parent}: no such folder (create it first)", "DEST")
    if stored_revision(engine) is None:
        raise InputRefused("the store is empty: nothing to back up", "--database")
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.partial-", dir=dest.parent))  # mode 0700
    try:
        if engine.dialect.name == "sqlite":
            file, check = _backup_sqlite(engine, work, keys)
        else:
            file, check = _backup_postgres(engine, work, keys)
        if not check.ok:
            raise IntegrityFailure(
                "the store fails its checks, so no backup was written: " + "; ".join(check.problems[:10])
            )
        digest, size = _digest(file)
        manifest = {
            "format": FORMAT,
            "created_at": clock.now().isoformat(),
            "backend": engine.dialect.name,
            "source": safe_url(str(engine.url)),
            "file": file.name,
            "sha256": digest,
            "size": size,
            **check.as_dict(),
        }
        if engine.dialect.name == "postgresql":
            manifest["schema"] = _schema(engine)
        _write_private(work / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode())
        if dest.exists():
            dest.rmdir()  # empty, checked above
        os.replace(work, dest)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return BackupResult(dest, dest / file.name, digest, size, check)


def _backup_sqlite(engine: Engine, work: Path, keys: Sequence[Ed25519PublicKey]) -> tuple[Path, StoreCheck]:
    source = _sqlite_path(str(engine.url))
    target = work / SQLITE_FILE
    _touch_private(target)
    src = sqlite3.connect(source)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)  # the online backup API: a consistent snapshot, writers may carry on
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        finally:
            dst.close()
    finally:
        src.close()
    copy = _read_only_sqlite(target)
    try:
        with copy.connect() as conn:
            return target, check_store(conn, keys)
    finally:
        copy.dispose()


def _backup_postgres(engine: Engine, work: Path, keys: Sequence[Ed25519PublicKey]) -> tuple[Path, StoreCheck]:
    target = work / PG_FILE
    schema = _schema(engine)
    conninfo, env = _libpq(engine.url)  # not str(): SQLAlchemy 2 prints the password as ***
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
        # the dump and the checks read the same snapshot: the counts written beside the dump are the dump's
        snapshot = str(conn.execute(text("SELECT pg_export_snapshot()")).scalar_one())
        _run(
            [
                _tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--snapshot={snapshot}",
                f"--schema={schema}",
                f"--file={target}",
                f"--dbname={conninfo}",
            ],
            env,
            "pg_dump",
        )
        check = check_store(conn, keys)
    os.chmod(target, FILE_MODE)
    _run([_tool("pg_restore"), "--list", str(target)], env, "pg_restore --list")  # the dump reads back
    return target, check


# -- restore -----------------------------------------------------------------------------------------------
def read_manifest(folder: Path) -> dict[str, Any]:
    """The backup's description, and its file checked against the SHA-256 recorded when it was written."""
    path = folder / MANIFEST
    if not path.is_file():
        raise InputRefused(f"{folder}: not a tipfusion backup (no {MANIFEST})", "SRC")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise IntegrityFailure(f"{path}: cannot be read ({exc})") from None
    if manifest.get("format") != FORMAT:
        raise InputRefused(f"{path}: format {manifest.get('format')!r}, expected {FORMAT!r}", "SRC")
    file = folder / str(manifest.get("file"))
    if not file.is_file() or file.parent != folder:
        raise IntegrityFailure(f"{folder}: the backup file {manifest.get('file')!r} is missing")
    digest, size = _digest(file)
    if digest != manifest.get("sha256") or size != manifest.get("size"):
        raise IntegrityFailure(
            f"{file}: ALTERED — its SHA-256 is {digest} ({size:,} bytes), the backup recorded "
            f"{manifest.get('sha256')} ({manifest.get('size')} bytes)"
        )
    return manifest


def restore(url: str, source: Path, keys: Sequence[Ed25519PublicKey] = ()) -> RestoreResult:
    """Restore the backup in `source` into the empty store at `url`; check it against the backup's own record."""
    from tipfusion.store.db import make_engine

    manifest = read_manifest(source)
    backend = parse_url(url).get_backend_name()
    if manifest.get("backend") != backend:
        raise InputRefused(
            f"{source} is a {manifest.get('backend')} backup; the store {safe_url(url)} is {backend}", "--database"
        )
    if backend == "sqlite":
        _restore_sqlite(url, source / str(manifest["file"]))
    else:
        _restore_postgres(url, source / str(manifest["file"]), str(manifest.get("schema") or "public"))
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            check = check_store(conn, keys)
    finally:
        engine.dispose()
    if check.revision != manifest.get("revision"):
        check.problems.append(f"schema revision {check.revision}, the backup recorded {manifest.get('revision')}")
    check.problems += compare_counts(manifest.get("counts") or {}, check.counts)
    if check.chain.head_hash != manifest.get("audit_head"):
        check.problems.append(
            f"audit head {check.chain.head_hash}, the backup recorded {manifest.get('audit_head')} "
            f"at entry {manifest.get('audit_entries')}"
        )
    return RestoreResult(safe_url(url), manifest, check)


def _restore_sqlite(url: str, file: Path) -> None:
    target = Path(_sqlite_path(url))
    if not target.parent.is_dir():
        raise ConfigurationError(f"{target.parent}: no such folder (create it first)")
    if target.exists() and _sqlite_has_tables(target):
        raise InputRefused(
            f"{target} holds a store: restore goes into an empty store only, never over data", "--database"
        )
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.restore-", dir=target.parent))
    try:
        staged = work / target.name
        _touch_private(staged)
        src = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
        try:
            dst = sqlite3.connect(staged)
            try:
                src.backup(dst)
            finally:
                dst.close()
        finally:
            src.close()
        for suffix in ("-wal", "-shm"):  # an empty store's journal files must not be replayed over the restore
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        os.replace(staged, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _restore_postgres(url: str, file: Path, schema: str) -> None:
    from tipfusion.store.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            current = conn.execute(text("SELECT current_schema()")).scalar()
            exists = bool(
                conn.execute(
                    text("SELECT count(*) FROM pg_namespace WHERE nspname = :name"), {"name": schema}
                ).scalar_one()
            )
            tables = inspect(conn).get_table_names(schema=schema) if exists else []
    finally:
        engine.dispose()
    if tables:
        raise InputRefused(
            f"schema {schema!r} of {safe_url(url)} holds {len(tables)} table(s): restore goes into an empty store "
            "only, never over data",
            "--database",
        )
    if current not in (None, schema):
        raise InputRefused(
            f"the backup holds schema {schema!r}, but {safe_url(url)} works in schema {current!r}: point the store "
            f"at {schema!r} (search_path) to restore it",
            "--database",
        )
    conninfo, env = _libpq(url)
    listing = _run([_tool("pg_restore"), "--list", str(file)], env, "pg_restore --list")
    keep = [line for line in listing.splitlines() if not (exists and re.search(r"\bSCHEMA - ", line))]
    with tempfile.NamedTemporaryFile("w", suffix=".list", delete=False) as handle:
        handle.write("\n".join(keep) + "\n")
    try:
        _run(
            [
                _tool("pg_restore"),
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",  # all of it or nothing
                f"--use-list={handle.name}",
                f"--dbname={conninfo}",
                str(file),
            ],
            env,
            "pg_restore",
        )
    finally:
        os.unlink(handle.name)


# -- helpers ------------------------------------------------------------------------------------------------
def _sqlite_path(url: str) -> str:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise ConfigurationError(f"{safe_url(url)}: backup and restore need a SQLite store in a file")
    return database


def _read_only_sqlite(path: Path) -> Engine:
    return create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")


def _sqlite_has_tables(path: Path) -> bool:
    if path.stat().st_size == 0:
        return False
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return bool(conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0])
    except sqlite3.DatabaseError:
        return True  # not a database we can read: certainly not ours to replace
    finally:
        conn.close()


def _schema(engine: Engine) -> str:
    """The schema the store works in (the search_path the URL sets, else the server's current schema)."""
    options = make_url(str(engine.url)).query.get("options")
    found = _SEARCH_PATH.search(options if isinstance(options, str) else " ".join(options or ()))
    if found:
        return found.group(1)
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT current_schema()")).scalar_one())


def _libpq(url: str | URL) -> tuple[str, dict[str, str]]:
    """A libpq URI for pg_dump/pg_restore without the password (it goes in PGPASSWORD, never on a command line)."""
    parsed = make_url(url).set(drivername="postgresql")
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
        parsed = parsed._replace(password=None)  # URL.set(password=None) would keep it
    return parsed.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise ConfigurationError(f"{name} not found on PATH: install the PostgreSQL client tools (postgresql-client)")
    return found


def _run(command: list[str], env: dict[str, str], what: str) -> str:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise ConfigurationError(f"{what} failed (exit {done.returncode}): {detail[0] if detail else 'no message'}")
    return done.stdout


def _digest(path: Path) -> tuple[str, int]:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest(), path.stat().st_size


def _touch_private(path: Path) -> None:
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))


def _write_private(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
