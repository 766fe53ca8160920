"""The command line acts as a named account (issue 13 §2, issue 14 §9): nobody chooses the name the audit log records,
and the account's role allows the same commands as the web (`accounts.policy`); a refusal is one line and audited.

A store without accounts records the operating-system user as `os:NAME`; a store with accounts needs `tipfusion
login`, whose session file only its owner can read; `--as` can only repeat the logged-in name — on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

from sqlalchemy import select
from typer.testing import CliRunner

from tests.conftest import FIXTURES
from tests.web_support import DEMO_PASSWORD
from tipfusion.accounts.policy import COMMANDS
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


# -- roles: the same rights in a terminal as in the browser (accounts.policy) ----------------------------------------
def _leaf_commands() -> set[str]:
    import typer

    found: set[str] = set()

    def walk(command: Any, path: str) -> None:
        children = getattr(command, "commands", {})
        if path and (not children or getattr(command, "invoke_without_command", False)):
            found.add(path)
        for name, sub in children.items():
            walk(sub, f"{path} {name}".strip())

    walk(typer.main.get_command(app), "")
    return found


def test_every_command_has_a_role_rule_and_no_rule_is_stale() -> None:
    assert _leaf_commands() == set(COMMANDS)


def test_the_web_checks_the_same_role_sets() -> None:
    from tipfusion.workplace import admin, analysis, auditing, cases, intake, scope

    assert COMMANDS["ingest"] == intake.INGESTING_ROLES
    assert analysis.OVERRIDING_ROLES == COMMANDS["override noise"] == COMMANDS["refer build"]
    assert COMMANDS["cases transfer"] == cases.CENTRAL_ACTORS
    assert COMMANDS["cases advance"] == scope.ACTING_ROLES and COMMANDS["cases list"] == scope.READING_ROLES
    assert COMMANDS["audit list"] == auditing.AUDIT_READERS and COMMANDS["users create"] == admin.ADMINS


def _accounts(db_url: str, tmp_path: Path) -> None:
    """root (admin) and one account per other role, the station and district from the SYNTHETIC demo layer."""
    tf(db_url, "users", "create", "root", "--role", "admin", "--password-stdin", password=DEMO_PASSWORD)
    tf(db_url, "login", "-u", "root", "--password-stdin", password=DEMO_PASSWORD)
    code, out = tf(db_url, "jurisdictions", "demo", "--out", str(tmp_path / "layer"))
    assert code == 0, out
    for name, role, *scope in (
        ("ana", "analyst"),
        ("sup", "supervisor"),
        ("aud", "auditor"),
        ("dis", "district", "--district", "Exampleton"),
        ("sta", "station", "--station", "PS Exampleton 1"),
    ):
        code, out = tf(
            db_url, "users", "create", name, "--role", role, *scope, "--password-stdin", password=DEMO_PASSWORD
        )
        assert code == 0, out


def _as(db_url: str, name: str) -> None:
    code, out = tf(db_url, "login", "-u", name, "--password-stdin", password=DEMO_PASSWORD)
    assert code == 0, out


def _denied(db_url: str) -> list[tuple[str, str]]:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        found = [
            (row.actor, row.object_id)
            for row in conn.execute(select(audit_events).where(audit_events.c.action == "access.denied"))
        ]
    engine.dispose()
    return found


def test_each_role_runs_only_its_commands_and_a_refusal_is_audited(db_url: str, tmp_path: Path) -> None:
    batch = a_batch(tmp_path)
    _accounts(db_url, tmp_path)
    refer_out = str(tmp_path / "referrals")

    _as(db_url, "sta")  # a station officer: no intake, linking or referrals; no whole-store reads; no audit log
    for args in (("ingest", str(batch)), ("link",), ("refer", "build", "--output", refer_out), ("audit", "list")):
        code, out = tf(db_url, *args)
        command = " ".join(a for a in args if not a.startswith(("/", "-")) and a != refer_out)
        assert code == 1, out
        assert (
            f"`tipfusion {command}` refused: only " in out
            and "you are sta, a station officer of PS Exampleton 1" in out
        )
        assert len(out.strip().splitlines()) == 1  # one line, no traceback
    assert _denied(db_url) == [("sta", "ingest"), ("sta", "link"), ("sta", "refer build"), ("sta", "audit list")]
    assert "report.ingested" not in _actions(db_url) and not (tmp_path / "referrals").exists()
    code, out = tf(db_url, "search", "+919811012345")
    assert code == 1 and "only an admin or an analyst or a supervisor may run it" in out
    code, out = tf(db_url, "cases", "list")  # its own cases: allowed (none yet)
    assert code == 0, out
    code, out = tf(db_url, "cases", "list", "--station", "PS Exampleton 2")  # another station's: not found, audited
    assert code == 3, out
    assert _denied(db_url)[-1] == ("sta", "cases list")

    _as(db_url, "aud")  # the auditor reads the audit log and nothing else
    code, out = tf(db_url, "audit", "list")
    assert code == 0 and "access.denied" in out, out
    code, out = tf(db_url, "verify")
    assert code == 0, out
    code, out = tf(db_url, "cases", "list")
    assert code == 1 and "you are aud, an auditor" in out

    _as(db_url, "sup")  # the supervisor reads, changes nothing
    code, out = tf(db_url, "cases", "advance", "1", "acknowledged")
    assert code == 1 and "`tipfusion cases advance` refused" in out
    code, out = tf(db_url, "status")
    assert code == 0, out

    _as(db_url, "dis")
    code, out = tf(db_url, "cases", "overdue", "--district", "Sampleganj")
    assert code == 3, out
    code, out = tf(db_url, "cases", "show", "1")  # no such case, or not theirs: the same not-found
    assert code == 3, out

    _as(db_url, "ana")  # the analyst does the central unit's work, but not the admin's
    code, out = tf(db_url, "ingest", str(batch))
    assert code == 0, out
    code, out = tf(db_url, "link")
    assert code == 0, out
    assert actors(db_url, "report.ingested") == ["ana"]
    code, out = tf(db_url, "backup", str(tmp_path / "copy"))
    assert code == 1 and "only an admin may run it" in out
    assert {actor for actor, _ in _denied(db_url)} == {"sta", "aud", "sup", "dis", "ana"}
