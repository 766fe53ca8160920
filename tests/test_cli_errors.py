"""The command line never surprises: every mistake a user can make is one line naming what to fix, with exit 2 for
usage and configuration and 1 for refusals — run through the real entry point, in a subprocess, as a person would."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, text

import tipfusion
from tests.conftest import _PG_PROBLEM, POSTGRES_URL, REQUIRE_POSTGRES
from tipfusion.store.db import make_engine, upgrade
from tipfusion.store.tables import isp_requests

SRC = str(Path(tipfusion.__file__).parents[1])


def tipfusion_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m tipfusion ARGS` with this checkout first on the path and a clean TIPFUSION_* environment."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("TIPFUSION_")}
    return subprocess.run(
        [sys.executable, "-m", "tipfusion", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**base, "PYTHONPATH": SRC, "COLUMNS": "100", **(env or {})},
        timeout=120,
    )


def one_error(result: subprocess.CompletedProcess[str], code: int, *needles: str) -> str:
    """The run failed with `code`, said why in words that contain every needle, and showed no traceback.

    Usage errors come in Typer's own box, which wraps: the words are read with the box and line breaks taken out.
    """
    raw = result.stdout + result.stderr
    assert result.returncode == code, raw
    assert "Traceback" not in raw
    output = " ".join(re.sub("[│╭╮╰╯─]", " ", raw).split())
    for needle in needles:
        assert needle in output, (needle, output)
    return output


@pytest.fixture
def store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@pytest.mark.parametrize(
    ("command", "option"),
    [
        (["route", "--pins", "nosuch.csv"], "--pins"),
        (["route", "--landlines", "nosuch.csv"], "--landlines"),
        (["enrich", "--isp-table", "nosuch.csv"], "--isp-table"),
        (["enrich", "--warninglist", "nosuch.csv"], "--warninglist"),
        (["enrich", "--ip-database", "nosuch.mmdb"], "--ip-database"),
        (["enrich", "--disposable-domains", "nosuch.txt"], "--disposable-domains"),
        (["requests", "build", "-o", "letters", "--isp-table", "nosuch.csv"], "--isp-table"),
        (["requests", "answer", "nosuch.csv", "--isp", "X"], "'path'"),
        (["jurisdictions", "import", "nosuch.geojson"], "'path'"),
        (["jurisdictions", "import", "layer.geojson", "--districts-table", "nosuch.csv"], "--districts-table"),
        (["refer", "verify", "nosuch-folder"], "'folder'"),
        (["ingest", "nosuch-folder"], "'paths"),
    ],
)
def test_a_missing_input_path_is_an_error_naming_its_option(
    command: list[str], option: str, store: str, tmp_path: Path
) -> None:
    (tmp_path / "layer.geojson").write_text('{"type": "FeatureCollection", "features": []}')
    result = tipfusion_cli("--database", store, *command, cwd=tmp_path)
    one_error(result, 2, option, "nosuch", "does not exist")


@pytest.mark.parametrize(
    ("variable", "command"),
    [
        ("TIPFUSION_ISP_TABLE", ["requests", "build", "-o", "letters"]),
        ("TIPFUSION_IP_WARNINGLIST", ["enrich"]),
        ("TIPFUSION_IP_DATABASES", ["enrich"]),
        ("TIPFUSION_PIN_GAZETTEER", ["route"]),
        ("TIPFUSION_TEMPLATES_DIR", ["refer", "build", "--top", "1"]),
        ("TIPFUSION_REFERRAL_STATEMENTS", ["refer", "build", "--top", "1"]),
        ("TIPFUSION_TEMPLATES_DIR", ["operation", "report", "X", "-o", "x.pdf"]),
    ],
)
def test_a_missing_path_from_the_environment_names_its_variable(
    variable: str, command: list[str], store: str, tmp_path: Path
) -> None:
    result = tipfusion_cli("--database", store, *command, cwd=tmp_path, env={variable: "nosuch.file"})
    output = one_error(result, 2, "nosuch.file")
    assert variable in output or "--pins" in output  # Typer names the option the variable feeds


def test_a_store_in_a_missing_folder_is_refused_and_no_folder_is_made(tmp_path: Path) -> None:
    result = tipfusion_cli("--database", "sqlite:///missing-dir/x.db", "status", cwd=tmp_path)
    one_error(result, 2, "'missing-dir'", "does not exist")
    assert not (tmp_path / "missing-dir").exists()


def test_a_new_store_is_made_only_in_an_existing_folder_and_says_so(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = tipfusion_cli("--database", "sqlite:///new.db", "ingest", "empty", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "created a new store at new.db" in result.stderr
    again = tipfusion_cli("--database", "sqlite:///new.db", "status", cwd=tmp_path)
    assert again.returncode == 0 and "created a new store" not in again.stderr + again.stdout


@pytest.mark.parametrize(
    ("url", "needle"),
    [("", "cannot be read"), ("nonsense", "cannot be read"), ("mysql://u@h/db", "not supported")],
)
def test_an_empty_or_malformed_database_url_is_one_line(url: str, needle: str, tmp_path: Path) -> None:
    one_error(tipfusion_cli("--database", url, "status", cwd=tmp_path), 2, needle, "sqlite:///")


def test_an_unreachable_postgresql_names_host_and_port_and_never_the_password(tmp_path: Path) -> None:
    result = tipfusion_cli("--database", "postgresql://postgres:s3cr3t@127.0.0.1:1/x", "cases", "list", cwd=tmp_path)
    output = one_error(result, 2, "127.0.0.1:1", "cannot open the store")
    assert "s3cr3t" not in output
    assert len([line for line in result.stderr.splitlines() if line.strip()]) == 1


def test_a_missing_postgresql_database_is_named(tmp_path: Path) -> None:
    if _PG_PROBLEM is not None and not REQUIRE_POSTGRES:
        pytest.skip(f"PostgreSQL unavailable: {_PG_PROBLEM}")
    url = POSTGRES_URL.rsplit("/", 1)[0] + "/tipfusion_no_such_database"
    result = tipfusion_cli("--database", url, "status", cwd=tmp_path)
    one_error(result, 2, "tipfusion_no_such_database", "does not exist")


def test_a_store_newer_than_the_code_is_refused(store: str, tmp_path: Path) -> None:
    engine = make_engine(store)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    one_error(tipfusion_cli("--database", store, "cases", "list", cwd=tmp_path), 2, "9999", "newer")


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("TIPFUSION_FIR_DAYS", "seven", "whole number of days"),
        ("TIPFUSION_ACKNOWLEDGE_HOURS", "-3", "whole number of hours"),
        ("TIPFUSION_TIMEZONE", "IST", "IANA time zone"),
        ("TIPFUSION_INGEST_WORKERS", "many", "whole number"),
        ("TIPFUSION_CONFIG", "nosuch.toml", "cannot read it"),
        ("TIPFUSION_NOW", "last tuesday", "ISO 8601"),
    ],
)
def test_a_bad_setting_names_the_variable_and_what_is_expected(
    variable: str, value: str, expected: str, store: str, tmp_path: Path
) -> None:
    result = tipfusion_cli("--database", store, "cases", "overdue", cwd=tmp_path, env={variable: value})
    one_error(result, 2, variable, repr(value), expected)


@pytest.mark.parametrize(
    ("command", "option"),
    [
        (["cases", "overdue", "--at", "someday"], "--at"),
        (["operation", "create", "X", "--from", "31/02/2026", "--to", "today"], "--from"),
        (["operation", "create", "X", "--from", "today", "--to", "2026-13-01"], "--to"),
        (["requests", "sent", "1", "--at", "soon"], "--at"),
        (["cases", "advance", "1", "acknowledged", "--date", "1st of May"], "--date"),
    ],
)
def test_an_unparsable_date_names_the_option_and_the_forms(
    command: list[str], option: str, store: str, tmp_path: Path
) -> None:
    one_error(tipfusion_cli("--database", store, *command, cwd=tmp_path), 2, option, "YYYY-MM-DD", "DD/MM/YYYY")


def test_an_unknown_isp_in_an_answer_lists_the_known_ones(store: str, tmp_path: Path) -> None:
    engine = make_engine(store)
    with engine.begin() as conn:
        for n, isp in enumerate(["Example Broadband", "Demo Mobile", "Draft Net"]):
            conn.execute(
                insert(isp_requests).values(
                    reference=f"TF/ISP/{n}",
                    recipient=isp,
                    created_at=datetime.now(UTC),
                    status="draft" if isp == "Draft Net" else "sent",
                    items=1,
                    output_dir="letters",
                    files={},
                    actor="test",
                )
            )
    engine.dispose()
    answer = tmp_path / "answer.csv"
    answer.write_text("ip,port,time,subscriber_name\n")
    result = tipfusion_cli("--database", store, "requests", "answer", str(answer), "--isp", "Nosuch Net", cwd=tmp_path)
    one_error(result, 2, "--isp", "'Nosuch Net'", "'Demo Mobile'", "'Example Broadband'")
    unsent = tipfusion_cli("--database", store, "requests", "answer", str(answer), "--isp", "Draft Net", cwd=tmp_path)
    output = one_error(unsent, 1, "no sent request to Draft Net")  # a refusal: nothing was stored
    assert "quarantined" not in output


def test_version_and_a_refusal(store: str, tmp_path: Path) -> None:
    version = tipfusion_cli("--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.strip() == f"tipfusion {tipfusion.__version__}"
    refused = tipfusion_cli("--database", store, "cases", "advance", "1", "acknowledged", cwd=tmp_path)
    one_error(refused, 3, "1")  # no such case: not found
    bad_step = tipfusion_cli("--database", store, "queue", "pin", "suspect", "S1", "--reason", "", cwd=tmp_path)
    assert bad_step.returncode in (1, 3) and "Traceback" not in bad_step.stderr
