"""The command line acts as a named account (issue 13 §2, issue 14 §9): nobody chooses the name the audit log records.

A store without accounts records the operating-system user as `os:NAME`; a store with accounts needs `tipfusion
login`, whose session file only its owner can read; `--as` can only repeat the logged-in name — on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import stat
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from tests.conftest import FIXTURES
from tests.web_support import DEMO_PASSWORD
from tipfusion.audit.log import current_actor
from tipfusion.cli.identity import session_file
from tipfusion.cli.main import app
from tipfusion.errors import TipfusionError
from tipfusion.store.db import make_engine
from tipfusion.store.tables import audit_events

runner = CliRunner()


def tf(db_url: str, *args: str, password: str | None = None) -> tuple[int, str]:
    """(exit code, output) as `tipfusion` gives them: a TipfusionError's own code (the entry point maps it)."""
    result = runner.invoke(app, ["--database", db_url, *args], input=None if password is None else password + "\n")
    code = result.exception.exit_code if isinstance(result.exception, TipfusionError) else result.exit_code
    return code, result.output + (str(result.exception) if result.exception else "")


def actors(db_url: str, action: str) -> list[str]:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        found = list(conn.execute(select(audit_events.c.actor).where(audit_events.c.action == action)).scalars())
    engine.dispose()
    return found


def a_batch(tmp_path: Path) -> Path:
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "100000042.xml").write_bytes((FIXTURES / "100000042.xml").read_bytes())
    return folder


def test_without_accounts_the_os_user_is_recorded_and_cannot_be_renamed(db_url: str, tmp_path: Path) -> None:
    batch = a_batch(tmp_path)
    code, out = tf(db_url, "--as", "somebody-else", "ingest", str(batch))
    assert code == 2 and "no accounts" in out
    code, out = tf(db_url, "ingest", str(batch))
    assert code == 0, out
    assert current_actor().startswith("os:")
    assert set(actors(db_url, "report.ingested")) == {current_actor()}


def test_with_accounts_commands_act_as_the_logged_in_account(db_url: str, tmp_path: Path) -> None:
    batch = a_batch(tmp_path)
    code, out = tf(db_url, "users", "create", "ana", "--role", "analyst", "--password-stdin", password=DEMO_PASSWORD)
    assert code != 0 and "first account must be an admin" in out
    code, out = tf(db_url, "users", "create", "root", "--role", "admin", "--password-stdin", password=DEMO_PASSWORD)
    assert code == 0, out
    assert DEMO_PASSWORD not in out
    code, out = tf(db_url, "ingest", str(batch))
    assert code == 2 and "tipfusion login" in out  # the store has accounts now: nobody acts anonymously
    code, out = tf(db_url, "login", "-u", "root", "--password-stdin", password="wrong password!")
    assert code == 1 and "wrong username or password" in out
    code, out = tf(db_url, "login", "-u", "root", "--password-stdin", password=DEMO_PASSWORD)
    assert code == 0, out
    path = session_file(db_url)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert DEMO_PASSWORD not in path.read_text()
    code, out = tf(db_url, "--as", "mallory", "ingest", str(batch))
    assert code == 2 and "logged in as 'root'" in out
    code, out = tf(db_url, "ingest", str(batch))
    assert code == 0, out
    assert actors(db_url, "report.ingested") == ["root"]
    assert "root" in actors(db_url, "account.login")

    code, out = tf(db_url, "users", "create", "ana", "--role", "analyst", "--password-stdin", password=DEMO_PASSWORD)
    assert code == 0, out
    assert actors(db_url, "account.created")[-1] == "root"
    code, out = tf(db_url, "users", "token", "ana")
    assert code == 0 and out.strip().splitlines()[-1].startswith("tfa_")
    code, out = tf(db_url, "users", "list")
    assert code == 0 and "ana" in out and "analyst" in out

    code, out = tf(db_url, "logout")
    assert code == 0 and not path.exists()
    code, out = tf(db_url, "ingest", str(batch))
    assert code == 2 and "tipfusion login" in out
    assert "account.logout" in {a for a in _actions(db_url)}


def test_only_an_admin_manages_accounts(db_url: str) -> None:
    for name, role in (("root", "admin"), ("ana", "analyst")):
        if name == "ana":
            tf(db_url, "login", "-u", "root", "--password-stdin", password=DEMO_PASSWORD)
        code, out = tf(db_url, "users", "create", name, "--role", role, "--password-stdin", password=DEMO_PASSWORD)
        assert code == 0, out
    code, out = tf(db_url, "login", "-u", "ana", "--password-stdin", password=DEMO_PASSWORD)
    assert code == 0, out
    code, out = tf(db_url, "users", "create", "eve", "--role", "admin", "--password-stdin", password=DEMO_PASSWORD)
    assert code != 0 and "only an admin" in out
    code, out = tf(db_url, "users", "disable", "root")
    assert code != 0 and "only an admin" in out
    code, out = tf(db_url, "users", "token", "ana")  # one's own token: allowed
    assert code == 0, out


def test_a_session_file_others_can_read_is_refused(db_url: str) -> None:
    tf(db_url, "users", "create", "root", "--role", "admin", "--password-stdin", password=DEMO_PASSWORD)
    tf(db_url, "login", "-u", "root", "--password-stdin", password=DEMO_PASSWORD)
    session_file(db_url).chmod(0o644)
    code, out = tf(db_url, "users", "list")
    assert code == 2 and "readable by others" in out


def _actions(db_url: str) -> set[str]:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        found = set(conn.execute(select(audit_events.c.action)).scalars())
    engine.dispose()
    return found
