"""Engines and the narrow seam where SQLite and PostgreSQL differ."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from tipfusion.errors import ConfigurationError

MIGRATIONS = Path(__file__).parent / "migrations"
_REVISION = re.compile(r"^revision(?::[^=]*)?=\s*[\"']([^\"']+)[\"']", re.MULTILINE)
_PASSWORD = re.compile(r"(://[^:/@]*):.*@")  # to the last @: a password may hold one
_DOWN_REVISION = re.compile(r"^down_revision(?::[^=]*)?=\s*[\"']([^\"']+)[\"']", re.MULTILINE)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with tipfusion's settings: WAL and real transactions on SQLite; psycopg 3 on PostgreSQL.

    A URL that cannot work is a ConfigurationError now, not a traceback at the first query; a SQLite store is
    created only in a folder that exists (a typo in a path must not grow a folder tree and an empty store).
    """
    parsed = parse_url(url)
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            folder = Path(database).parent
            if not folder.is_dir():
                raise ConfigurationError(
                    f"database {safe_url(url)}: the folder {str(folder)!r} does not exist "
                    "(create it first, or point --database / TIPFUSION_DATABASE_URL at an existing folder)"
                )
        engine = create_engine(parsed, **kwargs)
        _sqlite_setup(engine)
        return engine
    if parsed.get_backend_name() == "postgresql":
        kwargs.setdefault("connect_args", {}).setdefault("connect_timeout", 10)
    return create_engine(parsed, **kwargs)


def parse_url(url: str) -> URL:
    """A SQLAlchemy URL for one of the two stores tipfusion supports, or a ConfigurationError saying what is."""
    expected = "expected sqlite:///PATH/FILE.db or postgresql://USER@HOST[:PORT]/DATABASE"
    try:
        parsed = make_url(url.strip())
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise ConfigurationError(f"database URL {safe_url(url)} cannot be read: {expected}") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigurationError(
            f"database URL {safe_url(url)}: {parsed.get_backend_name()!r} is not supported; {expected}"
        )
    if parsed.get_backend_name() == "postgresql" and not parsed.database:
        raise ConfigurationError(f"database URL {safe_url(url)} names no database; {expected}")
    return parsed


def safe_url(url: str) -> str:
    """The URL as it may be printed: never with its password."""
    try:
        return make_url(url.strip()).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # unreadable: still never its password
        return repr(_PASSWORD.sub(r"\1:***@", url))


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names (None for PostgreSQL, an in-memory store or a `file:` URI)."""
    parsed = parse_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


STORE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def store_files(url: str) -> list[Path]:
    """The files a SQLite store is made of (the database, its WAL, shared memory and rollback journal), as absolute
    paths; none for PostgreSQL. Nothing may write over them, and a batch that contains them does not ingest them."""
    try:
        parsed = make_url(url.strip())
    except ArgumentError:
        return []
    database = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        return []
    base = Path(database).absolute()
    return [Path(f"{base}{suffix}") for suffix in STORE_COMPANIONS]


def where(url: str) -> str:
    """The store as a person names it: the SQLite file, or the PostgreSQL host, port and database."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return str(parsed.database)
    return f"PostgreSQL database {parsed.database!r} at {parsed.host or 'localhost'}:{parsed.port or 5432}"


def _sqlite_setup(engine: Engine) -> None:
    """pysqlite's own transaction handling breaks savepoints; take control of BEGIN (SQLAlchemy's recipe).

    Writers use BEGIN IMMEDIATE so two processes never both believe they hold the write lock.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(_SNAPSHOT) else "BEGIN IMMEDIATE")


_SNAPSHOT = "tipfusion_snapshot"


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A transaction whose reads all see the store at one moment, for work that reads it in several statements.

    Link reads the reports, then their identifiers, files and answers: an ingest committing in between must not add
    identifiers of reports it has not read. PostgreSQL: REPEATABLE READ (one snapshot from the first read);
    SQLite: a deferred BEGIN, which in WAL mode reads one snapshot too and, unlike BEGIN IMMEDIATE, lets the
    ingest go on writing meanwhile. Only for reading: the work writes in a transaction of its own.
    """
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        else:
            conn.execution_options(**{_SNAPSHOT: True})
        with conn.begin():
            yield conn


@contextmanager
def one_statement(engine: Engine) -> Iterator[Connection]:
    """A connection for a read of one statement (it sees one snapshot on its own). On PostgreSQL it runs outside a
    transaction (autocommit): one round trip instead of three (BEGIN, the statement, ROLLBACK on return) — the
    session lookup every page makes. SQLite: an ordinary connection."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT")
        yield conn


def is_sqlite(conn: Connection) -> bool:
    return conn.dialect.name == "sqlite"


ADVISORY_LOCKS = {"audit chain": 7427110001, "referral builds": 7427110002, "request builds": 7427110003}


def serialise(conn: Connection, what: str) -> None:
    """Hold `what` (a key of ADVISORY_LOCKS) for the rest of the transaction: others wait for the commit.

    SQLite already holds the database write lock (BEGIN IMMEDIATE); PostgreSQL takes a transaction-level advisory
    lock, released at commit or rollback and by a session that dies.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCKS[what]})


def lock_audit_chain(conn: Connection) -> None:
    """Serialise writers of the audit chain, so two sessions never append after the same head."""
    serialise(conn, "audit chain")


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run Alembic migrations up to `revision` on this engine."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def known_revisions() -> dict[str, str | None]:
    """Each migration's revision and the one it follows, read from the files without loading Alembic (which costs
    a fifth of a second on every command)."""
    found: dict[str, str | None] = {}
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        revision, down = _REVISION.search(source), _DOWN_REVISION.search(source)
        if revision:
            found[revision.group(1)] = down.group(1) if down else None
    return found


def stored_revision(engine: Engine) -> str | None:
    """The schema revision the store holds (None for a new, empty store); plain SQL, no Alembic."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def ensure_schema(engine: Engine) -> str | None:
    """Bring the schema to head if it is behind; commands that need the store call this first.

    Returns the revision the store had before (None: it was new). A store whose schema is newer than this
    code knows is refused: writing to it could lose what a newer version keeps.
    """
    current = stored_revision(engine)
    known = known_revisions()
    heads = set(known) - {down for down in known.values() if down}
    if current is not None and current not in known:
        raise ConfigurationError(
            f"the store {where(str(engine.url))} has schema revision {current}, newer than this tipfusion knows "
            f"(latest {', '.join(sorted(heads))}): use the newer tipfusion that wrote it"
        )
    if current not in heads:
        upgrade(engine)
    return current
