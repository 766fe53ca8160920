"""Hash lists in the store, on SQLite and PostgreSQL: import with bad rows by line, re-import a no-op, every import
audited; exact and PDQ matches of generated reports (distances 0, 31 and 32); linking takes known files as
circulating, with the list in the reason; triage raises files on no list, with its reason."""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from tests.test_hashlists import flipped
from tipfusion.config import Settings
from tipfusion.enrich.hashlists.service import import_file, refresh
from tipfusion.errors import DocumentRejected
from tipfusion.ingest import IngestService
from tipfusion.link.extract import load_input
from tipfusion.link.networks import find_networks
from tipfusion.link.records import LinkInput
from tipfusion.link.service import LinkService
from tipfusion.link.settings import LinkSettings
from tipfusion.store.bulk import rows_of
from tipfusion.store.hashlists import matches_of_report, rejects_of, summaries
from tipfusion.store.report_detail import report_detail
from tipfusion.store.tables import audit_events, hash_list_entries, hash_list_imports
from tipfusion.synth import generate
from tipfusion.triage.service import TriageService, queue


def pdq_of(md5: str) -> str:
    """A stand-in PDQ hash for a generated file (64 hex digits derived from its MD5), upper case as some ESPs send."""
    return hashlib.sha256(md5.encode()).hexdigest().upper()


@pytest.fixture(scope="module")
def pdq_batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated batch whose fileDetails also carry a PDQ hash."""
    out = tmp_path_factory.mktemp("hashlists") / "batch"
    generate(out, 60, seed=17)
    for path in sorted((out / "files").glob("*.xml")):
        text = path.read_text()
        md5 = re.search(r'hashType="MD5">([0-9a-f]{32})<', text)
        assert md5 is not None
        text = text.replace(
            "</originalFileHash>",
            f'</originalFileHash><originalFileHash hashType="PDQ">{pdq_of(md5.group(1))}</originalFileHash>',
            1,
        )
        path.write_text(text)
    return out


def files_by_report(engine: Engine) -> tuple[dict[int, dict[int, str]], dict[str, set[int]]]:
    """report → file ordinal → MD5, and MD5 → reports holding it."""
    files: dict[int, dict[int, str]] = defaultdict(dict)
    holders: dict[str, set[int]] = defaultdict(set)
    sql = (
        "SELECT report_id, file_ordinal, canonical FROM identifier_observations WHERE kind = 'file_hash' "
        "AND is_current AND file_ordinal IS NOT NULL AND canonical LIKE 'md5:%'"
    )
    with engine.connect() as conn:
        for report, ordinal, canonical in rows_of(conn, sql):
            files[report][ordinal] = canonical[4:]
            holders[canonical[4:]].add(report)
    return files, holders


def test_import_match_link_and_triage(engine: Engine, db_url: str, pdq_batch: Path, tmp_path: Path) -> None:
    IngestService(engine, Settings(database_url=db_url), "tester").ingest_paths([pdq_batch])
    files, holders = files_by_report(engine)
    own = sorted(r for r, fs in files.items() if all(len(holders[m]) == 1 for m in fs.values()))
    a, b, c, d = own[:4]  # reports whose files no other report holds
    lines = ["# the unit's list", "MD5 Hash,PDQ,Category,Source"]
    lines += [f",{pdq_of(md5)},1,Example hotline" for md5 in files[a].values()]  # A: every file, PDQ exact
    b_file, b_md5 = next(iter(files[b].items()))
    c_md5 = next(iter(files[c].values()))
    d_file, d_md5 = next(iter(files[d].items()))
    lines.append(f",{flipped(pdq_of(b_md5).lower(), 31)},2,")  # B: 31 bits away, a match
    lines.append("not-a-hash,,1,Example hotline")  # a bad row
    bad_line = len(lines)
    lines.append(f",{flipped(pdq_of(c_md5).lower(), 32)},2,")  # C: 32 bits away, no match
    lines.append(f"{d_md5.upper()},,3,Example hotline")  # D: MD5 exact
    listed = tmp_path / "unit-list.csv"
    listed.write_text("\n".join(lines) + "\n")

    summary = import_file(engine, listed, "Unit list", "csv", "analyst", source="the unit")
    assert summary.entries_added == len(files[a]) + 3 and not summary.already_imported
    assert summary.rejected == [
        f"{listed}:{bad_line}: md5: md5 'not-a-hash' is not hexadecimal (expected 32 hex digits)"
    ]
    with engine.connect() as conn:
        assert [(r["line"], r["field"]) for r in rejects_of(conn, "Unit list")] == [(bad_line, "md5")]
        by_report = {r: matches_of_report(conn, r) for r in (a, b, c, d)}
        detail = report_detail(conn, d)
    assert {(m["file_ordinal"], m["distance"]) for m in by_report[a]} == {(f, 0) for f in files[a]}
    assert [(m["file_ordinal"], m["distance"], m["source"]) for m in by_report[b]] == [(b_file, 31, "the unit")]
    assert by_report[c] == []
    assert [(m["file_ordinal"], m["file_hash"], m["distance"]) for m in by_report[d]] == [(d_file, f"md5:{d_md5}", 0)]
    assert detail["known_content"] == by_report[d]  # `tipfusion report show --format json` shows them

    again = import_file(engine, listed, "Unit list", "csv", "analyst")
    assert again.already_imported and again.entries_added == 0
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(hash_list_entries)).scalar_one() == len(files[a]) + 3
        assert conn.execute(select(func.count()).select_from(hash_list_imports)).scalar_one() == 1
        audited = [
            json.loads(row.details) if isinstance(row.details, str) else row.details
            for row in conn.execute(select(audit_events).where(audit_events.c.action == "hashlist.imported"))
        ]
        (listed_now,) = summaries(conn)
    assert [x["already_imported"] for x in audited] == [False, True] and audited[0]["rejected"] == 1
    assert listed_now["entries"] == {"md5": 1, "pdq": len(files[a]) + 2} and listed_now["rejected"] == 1
    assert not refresh(engine, "tester").rebuilt  # nothing changed since the import matched

    LinkService(engine, "tester").run()
    with engine.connect() as conn:
        data = load_input(conn)
    # a file's key is its smallest hash (md5:… before pdq:… and sha1:…)
    assert "Unit list" in data.known_files[f"md5:{d_md5}"] and "category 3" in data.known_files[f"md5:{d_md5}"]
    assert "PDQ 31 bits" in data.known_files[f"md5:{b_md5}"]
    assert f"md5:{c_md5}" not in data.known_files and f"md5:{c_md5}" in {key for _, key, _ in data.files}

    TriageService(engine, "tester").run()
    with engine.connect() as conn:
        factors = {int(row["id"]): row["factors"] for row in queue(conn, "report", 1000)}
    unknown = {r: [f for f in fs if f[0] == "unknown_content"] for r, fs in factors.items()}
    assert unknown[c] and "on none of the 1 known-content hash list(s)" in unknown[c][0][2]
    assert "possibly ongoing abuse" in unknown[c][0][2]
    assert unknown[a] == []  # every file of A is on the list


def test_a_file_that_cannot_be_read_lands_nothing_and_is_audited(engine: Engine, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"value": [{"MD5": "aa"}, ')
    with pytest.raises(DocumentRejected, match=r"broken\.json"):
        import_file(engine, broken, "VIC", "vics", "analyst")
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(hash_list_entries)).scalar_one() == 0
        actions = list(conn.execute(select(audit_events.c.action)).scalars())
    assert actions == ["hashlist.import_refused"]


def test_vics_import_lands_hashes_only(engine: Engine, tmp_path: Path) -> None:
    md5 = hashlib.md5(b"SYNTHETIC not a file").hexdigest()
    document = {
        "@odata.context": "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media",
        "value": [
            {"MediaID": 1, "Category": 1, "MD5": md5.upper(), "Miniature": "/9j/4AAQ", "Comments": "SECRET-NOTE"},
            {"MediaID": 2, "Category": 1, "MD5": "short"},
        ],
    }
    path = tmp_path / "vic.json"
    path.write_text(json.dumps(document, indent=1))
    lines = path.read_text().splitlines()
    opening = next(i for i, line in enumerate(lines) if '"MediaID": 2' in line)  # 1-based: the `{` line above
    summary = import_file(engine, path, "Project VIC", "vics", "analyst", source="Project VIC export")
    assert summary.entries_added == 1 and summary.rejected == [
        f"{path}:{opening}: MD5: md5 'short' is not hexadecimal (expected 32 hex digits)"
    ]
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(hash_list_entries))]
    assert rows[0]["canonical"] == f"md5:{md5}" and rows[0]["media_ref"] == "MediaID 1"
    assert "/9j/" not in repr(rows) and "SECRET" not in repr(rows)


def test_known_content_is_circulating_for_networks() -> None:
    """Two suspects sharing two rare files form a network; the same two files on a hash list link nobody, and the
    suppressed value names the list."""
    data = LinkInput([1, 2], [(1, "esp_user", "esp/1"), (2, "esp_user", "esp/2")])
    data.files = [(r, key, False) for r in (1, 2) for key in ("md5:a", "md5:b")]
    assert find_networks(data, {1: 1, 2: 2}, LinkSettings())[0].label_of == {1: 1, 2: 1}
    data.known_files = {"md5:a": "on known-content list 'Unit list'", "md5:b": "on known-content list 'Unit list'"}
    clustering, _ = find_networks(data, {1: 1, 2: 2}, LinkSettings())
    assert clustering.label_of == {}
    assert {s.value: s.reason for s in clustering.suppressed} == {
        key: "on known-content list 'Unit list': known circulating content, not a ring's own"
        for key in ("md5:a", "md5:b")
    }


def test_the_command_line(db_url: str, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from tests.conftest import FIXTURES
    from tipfusion.cli.main import app

    runner = CliRunner()
    batch = tmp_path / "batch"
    batch.mkdir()
    (batch / "100000042.xml").write_bytes((FIXTURES / "100000042.xml").read_bytes())
    (batch / "file.xml").write_bytes((FIXTURES / "file-0a1b2c3d.xml").read_bytes())
    assert runner.invoke(app, ["--database", db_url, "ingest", str(batch)]).exit_code == 0
    listed = tmp_path / "unit.csv"
    listed.write_text("MD5,Category,Source\n214F03192322F8B05AADF3414B1E186E,1,Example hotline\nxyz,1,\n")

    def cli(*words: str) -> str:
        result = runner.invoke(app, ["--database", db_url, *words])
        assert result.exit_code == 0, result.output
        return " ".join(result.output.split())

    said = cli("hashlist", "import", str(listed), "--name", "Unit list", "--format", "csv")
    assert "1 hash(es) added" in said and "1 row(s) rejected" in said and "unit.csv:3: md5" in said
    assert "1 file(s) on a list" in said
    assert "nothing changed" in cli("hashlist", "import", str(listed), "--name", "Unit list", "--format", "csv")
    assert "Unit list" in cli("hashlist", "list") and "md5 1" in cli("hashlist", "list")
    assert "not hexadecimal" in cli("hashlist", "rejects", "Unit list")
    shown = cli("hashlist", "matches", "100000042")
    assert "Unit list" in shown and "exact" in shown and "Example hotline" in shown
    detail = json.loads(cli("report", "show", "100000042", "--format", "json"))
    assert [m["list"] for m in detail["known_content"]] == ["Unit list"]
    broken = tmp_path / "broken.csv"
    broken.write_text("category,source\n1,x\n")
    result = runner.invoke(app, ["--database", db_url, "hashlist", "import", str(broken), "--name", "X", "--format",
                                 "csv"])  # fmt: skip
    # `tipfusion` (cli.main.run) prints it as one line and exits 1: it names the file, the line and what is missing
    assert isinstance(result.exception, DocumentRejected) and result.exception.exit_code == 1
    assert str(result.exception).startswith(f"{broken}:1: no hash column")


def test_a_second_file_into_a_list_adds_only_new_hashes(engine: Engine, tmp_path: Path) -> None:
    one, two, three = (hashlib.md5(f"SYNTHETIC {i}".encode()).hexdigest() for i in range(3))
    first = tmp_path / "first.csv"
    first.write_text(f"md5,category\n{one},1\n{two},1\n{one},2\n")  # the same hash twice: the first row wins
    second = tmp_path / "second.csv"
    second.write_text(f"md5,category\n{two},9\n{three},1\n")
    assert import_file(engine, first, "L", "csv", "analyst").entries_added == 2
    later = import_file(engine, second, "L", "csv", "analyst")
    assert (later.entries_added, later.duplicates) == (1, 1)
    with engine.connect() as conn:
        held = {r.canonical: r.category for r in conn.execute(select(hash_list_entries))}
    assert held == {f"md5:{one}": "1", f"md5:{two}": "1", f"md5:{three}": "1"}
