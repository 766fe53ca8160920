"""Settings from the unit's TOML file: `[link]`, `[triage]`, `[routing]`, `[deadlines]` validated with errors that
name the key, merged over the defaults, saved with each run, and the ones the run actually used."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from tipfusion.accounts.settings import SessionSettings
from tipfusion.cli.main import app
from tipfusion.config import Settings, load_settings
from tipfusion.errors import ConfigurationError
from tipfusion.ingest import IngestService
from tipfusion.link.settings import LinkSettings
from tipfusion.route.jurisdictions import demo_jurisdiction
from tipfusion.store.tables import audit_events, link_runs
from tipfusion.triage.service import gather
from tipfusion.triage.settings import TriageSettings
from tipfusion.tuning import load_tuning

FILE = """
[link]
threshold = 7.5
[link.weights]
phone = 9
[triage]
circulating_holders = 3
[routing]
deconflict_max_holders = 4
[referrals]
fir_days = 10
"""


def test_a_file_says_only_what_it_changes_and_the_environment_wins(tmp_path: Path) -> None:
    config = tmp_path / "tipfusion.toml"
    config.write_text(FILE)
    tuning = load_tuning(str(config), {"TIPFUSION_LINK__CAPS__EMAIL": "3", "TIPFUSION_LINK__THRESHOLD": "8"})
    defaults = LinkSettings()
    assert tuning.link.weights == {**defaults.weights, "phone": 9.0}  # one kind changed, the others kept
    assert tuning.link.caps == {**defaults.caps, "email": 3} and tuning.link.threshold == 8.0
    assert tuning.triage.circulating_holders == 3 and tuning.routing.deconflict_max_holders == 4
    assert (tuning.deadlines.acknowledge_hours, tuning.deadlines.fir_days) == (48, 10)  # an older file's key
    assert tuning.origins["link.weights.phone"] == f"{config} [link] weights.phone"
    assert tuning.origins["link.threshold"] == "TIPFUSION_LINK__THRESHOLD"
    assert tuning.origins["deadlines.fir_days"] == f"{config} [referrals] fir_days"
    assert tuning.origins["link.weights.email"] == "default"
    assert load_tuning(None, {}).as_dict() == {
        "link": asdict(LinkSettings()),
        "triage": asdict(TriageSettings()),
        "routing": asdict(tuning.routing.__class__()),
        "deadlines": {"acknowledge_hours": 48, "fir_days": 7},
        "sessions": asdict(SessionSettings()),
    }
    # Settings carry the file and the variables they were loaded with
    settings = load_settings({"TIPFUSION_CONFIG": str(config), "TIPFUSION_FIR_DAYS": "5"})
    assert settings.tuning().link.weights["phone"] == 9.0 and settings.case_deadlines.fir_days == 5


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        ("[link]\nweights.phone = 'x'\n", {}, "tipfusion.toml: [link] weights.phone: expected a number, got 'x'"),
        ("[link]\nweights.phon = 3\n", {}, "tipfusion.toml: [link] weights.phon: unknown name 'phon', expected one"),
        ("[link]\nthresold = 3\n", {}, "tipfusion.toml: [link] thresold: no such key 'thresold', expected one of"),
        ("[link]\ncaps.phone = 0\n", {}, "tipfusion.toml: [link] caps.phone: expected a whole number ≥ 1, got 0"),
        ("[triage]\ncirculating_holders = 2.5\n", {}, "[triage] circulating_holders: expected a whole number, got"),
        ("[routing]\ndeconflict_kinds = 'phone'\n", {}, "[routing] deconflict_kinds: expected a list, got 'phone'"),
        (
            "[routing]\ndeconflict_kinds = ['phone', 'ip_fixed']\n",
            {},
            "[routing] deconflict_kinds: expected kinds deconfliction checks (device, display_name, email, esp_user, "
            "iccid, phone, prior_report, screen_name, subscriber_id, url), got ['phone', 'ip_fixed']",
        ),
        ("[deadlines]\nfir_days = 'a week'\n", {}, "[deadlines] fir_days: expected a whole number of days, got"),
        ("triage = 3\n", {}, "tipfusion.toml: [triage] must be a table, got 3"),
        ("", {"TIPFUSION_LINK__THRESHOLD": "high"}, "TIPFUSION_LINK__THRESHOLD='high': expected a number"),
        ("", {"TIPFUSION_ACKNOWLEDGE_HOURS": "-3"}, "TIPFUSION_ACKNOWLEDGE_HOURS='-3': expected a whole number of"),
    ],
)
def test_a_bad_value_names_its_key_and_where_it_came_from(
    text: str, env: dict[str, str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("tipfusion.toml").write_text(text)
    with pytest.raises(ConfigurationError) as refused:
        load_tuning("tipfusion.toml", env)
    assert message in str(refused.value) and "\n" not in str(refused.value)
    assert refused.value.exit_code == 2


def test_config_show_prints_each_value_and_its_origin(tmp_path: Path) -> None:
    config = tmp_path / "tipfusion.toml"
    config.write_text(FILE)
    env = {"TIPFUSION_CONFIG": str(config), "TIPFUSION_TRIAGE__ESCALATED": "35", "COLUMNS": "200"}
    shown = CliRunner().invoke(app, ["config", "show"], env=env)
    assert shown.exit_code == 0, shown.output
    lines = {" ".join(line.replace("│", " ").split()) for line in shown.output.splitlines()}
    assert f"weights.phone 9 {config} [link] weights.phone" in lines
    assert "escalated 35 TIPFUSION_TRIAGE__ESCALATED" in lines and "weights.email 8 default" in lines
    assert f"fir_days 10 {config} [referrals] fir_days" in lines
    one = CliRunner().invoke(app, ["config", "show", "routing"], env=env)
    assert "[routing]" in one.output and "[link]" not in one.output
    assert "[link]" in shown.output and "[deadlines]" in shown.output  # section titles are shown, not markup
    config.write_text("[link]\nweights.phone = 'x'\n")
    bad = CliRunner().invoke(app, ["config", "show"], env=env)
    assert isinstance(bad.exception, ConfigurationError) and "[link] weights.phone" in str(bad.exception)


@pytest.fixture
def ingested(engine: Engine, db_url: str, synthetic_batch: Path) -> tuple[Engine, str]:
    IngestService(engine, Settings(database_url=db_url, reports_per_transaction=60), "tester").ingest_paths(
        [synthetic_batch]
    )
    return engine, db_url


def test_runs_use_and_record_the_settings_of_the_file(ingested: tuple[Engine, str], tmp_path: Path) -> None:
    engine, db_url = ingested
    config = tmp_path / "tipfusion.toml"
    config.write_text(FILE)
    runner = CliRunner()
    env = {"TIPFUSION_CONFIG": str(config)}
    layer, pins = demo_jurisdiction(tmp_path / "jurisdiction")
    for args in (["link"], ["triage"], ["jurisdictions", "import", str(layer)], ["route", "--pins", str(pins)]):
        done = runner.invoke(app, ["--database", db_url, *args], env=env)
        assert done.exit_code == 0, done.output
    used = load_tuning(str(config), {})
    with engine.connect() as conn:
        recorded = conn.execute(select(link_runs.c.settings).order_by(link_runs.c.id.desc())).scalars().first()
        details = {
            action: detail
            for action, detail in conn.execute(select(audit_events.c.action, audit_events.c.details))
            if action in {"triage.completed", "route.completed"}
        }
    assert recorded == asdict(used.link) and recorded["weights"]["phone"] == 9.0 and recorded["threshold"] == 7.5
    assert details["triage.completed"]["settings"] == asdict(used.triage)
    assert details["triage.completed"]["settings"]["circulating_holders"] == 3
    assert details["route.completed"]["settings"]["deconflict_max_holders"] == 4


def test_triage_counts_circulating_files_by_its_settings(ingested: tuple[Engine, str]) -> None:
    """`circulating_holders` is the run's own, not a fresh default: the lower it is, the more files circulate."""
    engine, _ = ingested
    with engine.connect() as conn:
        strict, _, _ = gather(conn, TriageSettings(circulating_holders=1))
        default, _, _ = gather(conn, TriageSettings())
    circulating = {k: sum(f.circulating_files for f in facts.values()) for k, facts in [("1", strict), ("8", default)]}
    assert circulating["1"] > circulating["8"]
    assert all(strict[r].circulating_files >= default[r].circulating_files for r in default)
    assert sum(f.new_files for f in strict.values()) <= sum(f.new_files for f in default.values())
