"""Never print credentials (issue 14 §9): a database URL with a password is shown masked, or not at all, by every
command — its help, its messages, its errors (a server that refuses, a URL that cannot be read) and what it writes
(a backup's manifest, an export)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from tests.test_cli import command_paths
from tests.test_cli_errors import tipfusion_cli
from tipfusion.cli.main import app

SECRET = "Pa55-w0rd-s3cr3t"
runner = CliRunner()


@pytest.mark.parametrize("path", command_paths())
def test_no_help_shows_the_password_in_the_environment(path: str) -> None:
    url = f"postgresql://tipfusion:{SECRET}@127.0.0.1:1/unit"
    result = runner.invoke(app, [*path.split(), "--help"], env={"TIPFUSION_DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://tipfusion:{SECRET}@127.0.0.1:1/unit",  # nothing listens: refused
        f"postgresql://tipfusion:{SECRET}@127.0.0.1:notaport/unit",  # cannot be read
        f"postgresql://tipfusion:{SECRET}@127.0.0.1:1/",  # names no database
        f"mysql://tipfusion:{SECRET}@127.0.0.1/unit",  # not supported
        f"postgresql://tipfusion:{SECRET}@/unit@with-an-at",  # a password holding an @
    ],
)
@pytest.mark.parametrize("command", [["status"], ["config", "show"], ["db", "status"], ["ingest", "."]])
def test_a_failing_store_never_prints_its_password(url: str, command: list[str], tmp_path: Path) -> None:
    result = tipfusion_cli("--database", url, *command, cwd=tmp_path)
    assert SECRET not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_a_working_store_with_a_password_never_prints_it(db_url: str, tmp_path: Path) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("a SQLite URL holds no password")
    # the test server trusts local connections, so any password is accepted: the commands really run
    url = make_url(db_url).set(password=SECRET).render_as_string(hide_password=False)
    said = []
    for command in (
        ["db", "upgrade"],
        ["db", "status"],
        ["config", "show"],
        ["status"],
        ["quarantine", "list"],
        ["audit", "list"],
        ["audit", "verify"],
        ["export", "reports", "--output", str(tmp_path / "reports.csv")],
        ["backup", str(tmp_path / "backup")],
    ):
        result = tipfusion_cli("--database", url, *command, cwd=tmp_path)
        assert result.returncode == 0, (command, result.stderr)
        said.append(result.stdout + result.stderr)
    assert not [text for text in said if SECRET in text]
    assert ":***@" in said[1] and ":***@" in said[2]  # shown, masked
    written = [p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()]
    assert written and not [data for data in written if SECRET.encode() in data]
