"""What the command line prints from outside (file and zip member names, values, actors, error messages) reaches the
terminal as text: never read as Rich markup (a name like `a[/b].xml` crashed ingest and `quarantine list`), never
as raw control characters (an ESC sequence recoloured the terminal, a newline in an actor forged an `audit list`
line)."""

from __future__ import annotations

import zipfile
from pathlib import Path

from typer.testing import CliRunner

from tests.conftest import FIXTURES
from tipfusion.cli.context import safe
from tipfusion.cli.main import app

runner = CliRunner()
ESC = "\x1b"


def test_safe_shows_markup_and_control_characters_literally() -> None:
    assert safe("a[/b].xml") == "a\\[/b].xml"
    assert safe(f"e{ESC}[31mred.xml") == "e\\x1b[31mred.xml"
    assert safe("mallory\n 9 │ admin") == "mallory\\n 9 │ admin"
    assert safe("txt\u202egpj.xml") == "txt\\u202egpj.xml"
    assert safe(None) == "" and safe(42) == "42"


def hostile_batch(root: Path) -> Path:
    batch = root / "batch"
    (batch / "a[").mkdir(parents=True)
    (batch / "100000042.xml").write_bytes((FIXTURES / "100000042.xml").read_bytes())
    (batch / "a[" / "b].xml").write_text("<report><unclosed></report>")  # prints as batch/a[/b].xml
    (batch / f"e{ESC}[31mred.xml").write_text("<report>")
    with zipfile.ZipFile(batch / "members.zip", "w") as archive:
        archive.writestr("a[/b].xml", "<report><x")
        archive.writestr(f"z{ESC}]0;owned{ESC}\\.xml", "<report><y")
    return batch


def test_hostile_names_are_ingested_quarantined_and_listed_escaped(tmp_path: Path, db_url: str) -> None:
    batch = hostile_batch(tmp_path)
    result = runner.invoke(app, ["--database", db_url, "ingest", str(batch)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1, result.output  # quarantined, not crashed
    assert "reports accepted (new)" in result.output
    assert ESC not in result.output
    flat = "".join(result.output.split())  # the summary table may wrap long names
    assert "a[/b].xml" in flat and "e\\x1b[31mred.xml" in flat
    listing = runner.invoke(app, ["--database", db_url, "quarantine", "list"])
    assert listing.exit_code == 0, listing.output
    assert ESC not in listing.output
    flat = "".join(listing.output.split())
    assert "a[/b].xml" in flat and "e\\x1b[31mred.xml" in flat and "\\x1b]0;owned\\x1b\\.xml" in flat
    assert "4 entries" in listing.output
    for entry in ("1", "2", "3", "4"):
        shown = runner.invoke(app, ["--database", db_url, "quarantine", "show", entry])
        assert shown.exit_code == 0 and ESC not in shown.output, shown.output


def test_an_actor_with_a_newline_cannot_forge_an_audit_line(tmp_path: Path, db_url: str) -> None:
    forged = "mallory\n│ 99  │ 2026-01-01 00:00 IST │ admin │ report.viewed"
    good = tmp_path / "good"
    good.mkdir()
    (good / "100000042.xml").write_bytes((FIXTURES / "100000042.xml").read_bytes())
    result = runner.invoke(app, ["--database", db_url, "ingest", str(good)])
    assert result.exit_code == 0, result.output
    from tipfusion.audit import AuditEvent, append
    from tipfusion.store.db import make_engine

    engine = make_engine(db_url)  # an actor as stored (the CLI now refuses such a --as; older entries may hold one)
    with engine.begin() as conn:
        append(conn, forged, [AuditEvent("report.viewed", "report", "100000042", {})])
    engine.dispose()
    listing = runner.invoke(app, ["--database", db_url, "audit", "list"])
    assert listing.exit_code == 0, listing.output
    assert not any(line.lstrip().startswith("│ 99") for line in listing.output.splitlines()), listing.output
    assert "mallory\\n" in "".join(listing.output.split())
