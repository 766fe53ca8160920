"""Exports: a report whose fields start like spreadsheet formulas reaches no CSV or XLSX the project writes as a live
formula (CWE-1236) — every `export`, the ISP and platform notice annexes, the referral annex, the operation report."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from tests.conftest import FIXTURES
from tipfusion.cli.main import app
from tipfusion.config import Settings
from tipfusion.enrich.demo import build_demo_reference
from tipfusion.enrich.service import EnrichConfig, EnrichService
from tipfusion.errors import ConfigurationError, InputRefused
from tipfusion.exports.registry import renderers
from tipfusion.exports.sources import SOURCES
from tipfusion.exports.spreadsheet import append_row, csv_cell, write_csv
from tipfusion.ingest import IngestService
from tipfusion.link.service import LinkService
from tipfusion.refer.service import build_referral
from tipfusion.requests.service import build_platform_requests, build_requests
from tipfusion.store.tables import networks, suspects
from tipfusion.triage.service import TriageService

HYPERLINK = '=HYPERLINK("http://x","y")'
# (what the fixture report says, what the payload report says instead)
PAYLOADS = [
    ("<screenName>quietfox87</screenName>", f"<screenName>{HYPERLINK}</screenName>"),
    ("<displayName>Q. Fox</displayName>", "<displayName>-2+3+cmd|' /C calc'!A0</displayName>"),
    ("<groupIdentifier>group-4471</groupIdentifier>", "<groupIdentifier>@SUM(1+1)*cmd</groupIdentifier>"),
    ("<chatRoomName>group-4471</chatRoomName>", "<chatRoomName>+SUM(1)</chatRoomName>"),
    (">ExamplePay<", ">=1+2<"),
    ("<city>Exampleton</city>", '<city>=HYPERLINK("http://city")</city>'),
    ("<screenName>sunny_day_22</screenName>", "<screenName>@victim</screenName>"),
]
HOSTING = "Example Hosting (synthetic)"
HOSTING_PAYLOAD = '=HYPERLINK("http://isp","isp")'


def live(value: str) -> bool:
    """A CSV cell a spreadsheet would evaluate: `=`, `+`, `@`, tab, CR, or `-` not starting a number."""
    if value.startswith(("=", "+", "@", "\t", "\r")):
        return True
    return value.startswith("-") and not value[1:2].isdigit()


def test_the_writers_neutralise_formulas(tmp_path: Path) -> None:
    assert csv_cell(HYPERLINK) == "'" + HYPERLINK
    assert [csv_cell(v) for v in ("+1", "-x", "@a", "\tx", "\rx")] == ["'+1", "'-x", "'@a", "'\tx", "'\rx"]
    assert csv_cell(-5) == -5 and csv_cell("a=b") == "a=b" and csv_cell(None) is None
    assert csv_cell({"b": "=x", "a": 1}) == '{"a": 1, "b": "=x"}'  # JSON text starts with a brace: inert
    out = tmp_path / "t.csv"
    assert write_csv(out, ["a", "b"], [{"a": HYPERLINK, "b": 3}], preamble=["SYNTHETIC"]) == 1
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "# SYNTHETIC" and list(csv.reader(io.StringIO(lines[2]))) == [["'" + HYPERLINK, "3"]]
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    append_row(sheet, [HYPERLINK, "@x", 2, "plain"])
    book.save(tmp_path / "t.xlsx")
    cells = next(iter(load_workbook(tmp_path / "t.xlsx").active.iter_rows()))  # type: ignore[union-attr]
    assert [(c.value, c.data_type) for c in cells] == [(HYPERLINK, "s"), ("@x", "s"), (2, "n"), ("plain", "s")]
    assert cells[0].quotePrefix and not cells[3].quotePrefix


@pytest.fixture
def payload_store(engine: Engine, db_url: str, tmp_path: Path) -> tuple[Engine, Settings, Path]:
    """The fixture report with formula payloads in its fields, its ISP named by a formula, through routing."""
    reference = build_demo_reference(tmp_path / "reference")
    quoted = '"' + HOSTING_PAYLOAD.replace('"', '""') + '"'
    reference.isp_table.write_text(reference.isp_table.read_text(encoding="utf-8").replace(HOSTING, quoted))
    assert HOSTING_PAYLOAD in {row["name"] for row in csv.DictReader(reference.isp_table.open(encoding="utf-8"))}
    batch = tmp_path / "batch"
    batch.mkdir()
    xml = (FIXTURES / "100000042.xml").read_text(encoding="utf-8")
    for before, after in PAYLOADS:
        assert before in xml, before
        xml = xml.replace(before, after)
    (batch / "100000042.xml").write_text(xml, encoding="utf-8")
    (batch / "file-0a1b2c3d.xml").write_bytes((FIXTURES / "file-0a1b2c3d.xml").read_bytes())
    settings = Settings(database_url=db_url)
    result = IngestService(engine, settings, "tester").ingest_paths([batch])
    assert not result.quarantined, result
    EnrichService(
        engine, EnrichConfig(tuple(reference.databases), reference.isp_table, reference.warninglist), "tester"
    ).run()
    LinkService(engine, "tester").run()
    TriageService(engine, "tester").run()
    return engine, settings, reference.isp_table


def _csv_cells(path: Path) -> list[str]:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines(keepends=True) if not line.startswith("#")]
    return [cell for row in csv.reader(io.StringIO("".join(lines))) for cell in row]


def _xlsx_cells(path: Path) -> list[tuple[object, str]]:
    book = load_workbook(path)
    return [(cell.value, cell.data_type) for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def test_no_export_carries_a_live_formula(payload_store: tuple[Engine, Settings, Path], tmp_path: Path) -> None:
    engine, settings, isp_table = payload_store
    out = tmp_path / "out"
    runner = CliRunner()
    db = ["--database", settings.database_url]
    for what in ("ips", "reports", "suspects", "networks", "routing"):
        for fmt in ("csv", "xlsx"):
            done = runner.invoke(app, [*db, "export", what, "--format", fmt, "--output", str(out / f"{what}.{fmt}")])
            assert done.exit_code == 0, done.output
    build_requests(engine, settings, "tester", out / "notices", isp_table)
    build_platform_requests(engine, settings, "tester", out / "platforms")
    with engine.connect() as conn:
        suspect = conn.execute(select(suspects.c.suspect_id).order_by(suspects.c.reports.desc())).scalars().first()
    assert suspect is not None
    build_referral(engine, settings, "tester", suspect, out / "referrals")
    assert (
        runner.invoke(app, [*db, "operation", "create", "DRIVE", "--from", "2020-01-01", "--to", "today"]).exit_code
        == 0
    )
    for suffix in ("csv", "xlsx"):
        made = runner.invoke(app, [*db, "operation", "report", "DRIVE", "-o", str(out / f"drive.{suffix}")])
        assert made.exit_code == 0, made.output

    written = sorted(p for p in out.rglob("*") if p.suffix in {".csv", ".xlsx"})
    names = {p.name for p in written}
    assert {"ips.csv", "reports.csv", "suspects.csv", "networks.csv", "routing.csv", "drive.csv", "drive.xlsx"} <= names
    assert sum(p.name.endswith("-annex.csv") for p in written) >= 2  # an ISP notice and a platform notice
    assert sum(p.name.endswith("-annex.xlsx") for p in written) >= 3  # their annexes and the referral's
    neutralised: dict[str, int] = {}
    for path in written:
        if path.suffix == ".csv":
            cells = _csv_cells(path)
            assert not [c for c in cells if live(c)], path
            neutralised[path.name] = sum(c.startswith(("'=", "'+", "'-", "'@")) for c in cells)
        else:
            values = _xlsx_cells(path)
            assert not [v for v, kind in values if kind == "f"], path
            neutralised[path.name] = sum(isinstance(v, str) and v.startswith(("=", "+", "@")) for v, _ in values)
    # the payloads did reach the files that show them, as text
    for name in ("ips.csv", "suspects.csv", "ips.xlsx", "suspects.xlsx"):  # one report makes no network
        assert neutralised[name] > 0, (name, neutralised)
    assert any(n.endswith("-annex.xlsx") and neutralised[n] >= 3 for n in names), neutralised
    platform_csv = next(p for p in written if p.name.endswith("-annex.csv") and "PLATFORM" in p.name)
    assert "'" + HYPERLINK in _csv_cells(platform_csv)


def test_export_help_lists_what_and_formats() -> None:
    shown = CliRunner().invoke(app, ["export", "--help"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0
    for source in SOURCES.values():
        assert f"{source.name}: {', '.join(source.formats)}" in shown.output
    assert SOURCES["ips"].formats == ["csv", "json", "xlsx", "parquet"]  # a table is also a Parquet file
    assert SOURCES["observations"].formats == ["parquet"]  # a snapshot folder, for the Spark engine
    assert SOURCES["chart"].formats == ["json", "graphml"] and SOURCES["referral"].formats == ["misp", "stix"]


def test_a_format_an_export_does_not_have_names_the_ones_it_has(tmp_path: Path) -> None:
    done = CliRunner().invoke(app, ["export", "ips", "--format", "graphml", "--output", str(tmp_path / "x")])
    assert isinstance(done.exception, ConfigurationError)
    assert "csv, json, xlsx" in str(done.exception) and not (tmp_path / "x").exists()


@pytest.mark.usefixtures("engine")
def test_adding_a_format_is_one_module(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A module dropped into the formats package is offered for every source whose content it accepts (on an empty
    store, which the `engine` fixture creates: a read command does not create one)."""
    from tipfusion.exports import formats

    folder = tmp_path / "more"
    folder.mkdir()
    (folder / "tsv.py").write_text(
        "from tipfusion.exports.registry import Renderer\n"
        "def render(content, output, synthetic):\n"
        "    output.write_text('\\n'.join('\\t'.join(map(str, r.values())) for r in content.rows))\n"
        "RENDERER = Renderer('tsv', frozenset({'table'}), '.tsv', 'tab-separated', render)\n"
    )
    monkeypatch.setattr(formats, "__path__", [*formats.__path__, str(folder)])
    renderers.cache_clear()
    try:
        assert "tsv" in SOURCES["reports"].formats and "tsv" not in SOURCES["chart"].formats
        done = CliRunner().invoke(
            app, ["--database", db_url, "export", "reports", "--format", "tsv", "-o", str(tmp_path / "r.tsv")]
        )
        assert done.exit_code == 0, done.output
        assert (tmp_path / "r.tsv").read_text() == ""  # an empty store: no rows
    finally:
        monkeypatch.undo()
        renderers.cache_clear()
    assert "tsv" not in SOURCES["reports"].formats


@pytest.fixture
def linked(engine: Engine, db_url: str, synthetic_batch: Path) -> tuple[Engine, str]:
    IngestService(engine, Settings(database_url=db_url, reports_per_transaction=50), "tester").ingest_paths(
        [synthetic_batch]
    )
    LinkService(engine, "tester").run()
    return engine, db_url


def test_link_chart_as_graphml_reads_back_in_stdlib_xml_and_igraph(linked: tuple[Engine, str], tmp_path: Path) -> None:
    from xml.etree import ElementTree as ET

    import igraph

    engine, db_url = linked
    with engine.connect() as conn:
        in_networks = conn.execute(select(suspects.c.suspect_id).where(suspects.c.network_id.is_not(None))).all()
        network = conn.execute(select(networks.c.network_id).order_by(networks.c.suspects.desc())).scalars().first()
        members = conn.execute(select(suspects.c.suspect_id).where(suspects.c.network_id == network)).scalars().all()
    assert network is not None and len(members) >= 2
    runner = CliRunner()
    whole, one = tmp_path / "all.graphml", tmp_path / "one.graphml"
    assert runner.invoke(app, ["--database", db_url, "export", "chart", "-o", str(whole)]).exit_code == 0
    done = runner.invoke(app, ["--database", db_url, "export", "chart", network, "-o", str(one)])
    assert done.exit_code == 0, done.output
    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    root = ET.parse(one).getroot()
    nodes = {n.get("id") for n in root.iterfind("g:graph/g:node", ns)}
    edges = [(e.get("source"), e.get("target")) for e in root.iterfind("g:graph/g:edge", ns)]
    assert nodes == set(members) and edges and all(a in nodes and b in nodes for a, b in edges)
    keys = {k.get("attr.name"): k.get("attr.type") for k in root.iterfind("g:key", ns)}
    assert keys["weight"] == "double" and keys["reports"] == "long" and keys["kinds"] == "string"
    graph = igraph.Graph.Read_GraphML(str(one))
    assert sorted(graph.vs["id"]) == sorted(members) and graph.ecount() == len(edges)
    assert all(w > 0 for w in graph.es["weight"]) and all(graph.es["kinds"])
    everything = igraph.Graph.Read_GraphML(str(whole))
    assert everything.vcount() == len(in_networks)
    as_json = tmp_path / "one.json"
    assert (
        runner.invoke(
            app, ["--database", db_url, "export", "chart", network, "--format", "json", "-o", str(as_json)]
        ).exit_code
        == 0
    )
    document = json.loads(as_json.read_text())
    assert {n["id"] for n in document["nodes"]} == set(members) and len(document["links"]) == len(edges)


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm"])
def test_an_export_over_the_store_is_refused(suffix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`export … --output tipfusion.db` would truncate the store: refused before anything is opened for writing."""
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert runner.invoke(app, ["--database", "sqlite:///tipfusion.db", "db", "upgrade"]).exit_code == 0
    store = tmp_path / "tipfusion.db"
    size = store.stat().st_size
    for args in (
        ["export", "reports", "-o", f"tipfusion.db{suffix}"],
        ["operation", "report", "X", "-o", "tipfusion.db"],
    ):
        done = runner.invoke(app, ["--database", "sqlite:///tipfusion.db", *args])
        assert isinstance(done.exception, InputRefused) and "the store" in str(done.exception), done.output
    assert store.stat().st_size >= size  # not truncated (a WAL checkpoint may change bytes of its header)
    with sqlite3.connect(store) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)
