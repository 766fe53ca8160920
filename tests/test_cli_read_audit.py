"""The read commands that wrote nothing to the audit log now do (issue 14 §9): `status`, `quarantine list` and
`audit list` each record a `view.list` entry (as the web does for the same lists) with the acting account, on SQLite
and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from tests.conftest import FIXTURES
from tests.test_cli_errors import tipfusion_cli
from tests.web_support import cli_account
from tipfusion.cli.main import app
from tipfusion.store.db import make_engine
from tipfusion.store.tables import audit_events

runner = CliRunner()


def views(db_url: str) -> list[tuple[str, str, dict[str, object]]]:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            query = select(audit_events.c.actor, audit_events.c.object_id, audit_events.c.details).where(
                audit_events.c.action == "view.list"
            )
            return [(r.actor, r.object_id, r.details) for r in conn.execute(query.order_by(audit_events.c.seq))]
    finally:
        engine.dispose()


def test_status_quarantine_list_and_audit_list_are_audited_with_the_actor(db_url: str, tmp_path: Path) -> None:
    cli_account(db_url, "analyst1")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "100000043.xml").write_text("<report><unclosed></report>")
    runner.invoke(app, ["--database", db_url, "ingest", str(bad)])
    for command in (["status"], ["quarantine", "list"], ["quarantine", "list", "--all"], ["audit", "list"]):
        result = runner.invoke(app, ["--database", db_url, *command])
        assert result.exit_code == 0, result.output
    assert [(actor, listing) for actor, listing, _ in views(db_url)] == [
        ("analyst1", "status"),
        ("analyst1", "quarantine"),
        ("analyst1", "quarantine"),
        ("analyst1", "audit log"),
    ]
    details = [d for _, _, d in views(db_url)]
    assert details[1] == {"status": "open", "rows": 1} and details[2] == {"status": "all", "rows": 1}
    assert details[3]["limit"] == 20


def test_status_of_a_read_only_store_still_answers_and_says_it_is_not_recorded(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    report = str(FIXTURES / "100000042.xml")
    assert tipfusion_cli("--database", url, "ingest", report, cwd=tmp_path).returncode == 0
    read_only = f"sqlite:///file:{tmp_path / 'store.db'}?mode=ro&uri=true"
    result = tipfusion_cli("--database", read_only, "status", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "read-only, so this view is not in its audit log" in result.stderr and "reports" in result.stdout
    assert views(url) == []
    refused = tipfusion_cli(
        "--database", read_only, "audit", "list", cwd=tmp_path
    )  # names and actors: recorded or not shown
    assert refused.returncode == 1 and "read-only" in refused.stderr and "Traceback" not in refused.stderr
