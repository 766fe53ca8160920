"""The Spark engine (`tipfusion link --engine spark`) gives the embedded engine's answers: the same suspects,
networks, component ids, explanations and suppressed values, from a Parquet snapshot of a SQLite store and over
JDBC from PostgreSQL, with known-content hash lists, analyst decisions and a second batch (the same stable names
and aliases). Its connected components (large-star/small-star) agree with SciPy's on a long path and a star.
Spark runs in local mode, small (two threads, two shuffle partitions, 1 GB driver)."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, insert, select
from typer.testing import CliRunner

from tests.test_link import _mapping, _pipeline, halves
from tipfusion.config import Settings
from tipfusion.enrich.hashlists.service import import_file
from tipfusion.link.service import LinkService, add_override
from tipfusion.store.link_inputs import INPUTS, snapshot_path
from tipfusion.store.tables import (
    lead_identifiers,
    link_aliases,
    link_explanations,
    link_runs,
    networks,
    report_links,
    suppressed_values,
    suspects,
)
from tipfusion.synth import Noise, generate

JAVA_MISSING = (
    "Java is not installed: the Spark engine needs Java 17 (make spark, or apt-get install openjdk-17-jre-headless)"
)
if shutil.which("java") is None:  # the one allowed skip: Spark needs a JVM — and never in CI (.ci/run installs it)
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"} or os.environ.get("TIPFUSION_REQUIRE_SPARK") == "1":
        pytest.fail(f"{JAVA_MISSING}; CI (CI=true or TIPFUSION_REQUIRE_SPARK=1) runs these tests", pytrace=False)
    pytest.skip(JAVA_MISSING, allow_module_level=True)


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    from tipfusion.link.spark.session import make_session

    # The tests' JVM compiles with C1 only and collects on one thread: for these small batches the C2 compiler's and
    # the parallel collector's threads were CPU spent on a run too short to repay it (this file: ~225 s of CPU
    # against ~267 s, the components test 25 s against 47 s). What Spark computes is the same; the unit's own
    # `tipfusion link --engine spark` keeps the JVM's defaults. C1 alone gets a 48 MB code cache, which these runs
    # filled ("CodeCache is full. Compiler has been disabled": the rest of the file ran interpreted): 160 MB.
    java = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:ReservedCodeCacheSize=160m"
    # Spark SQL likewise: on rows this few, compiling each plan to Java (whole-stage code generation, Janino) and
    # broadcasting every small side of a join (a Spark job per broadcast: ~550 jobs for the parity test) cost more
    # than they save. Interpreted expressions and shuffled joins compute the same rows: the parity test took ~49 s
    # instead of ~71 s (December 2026, alone on the 2-core machine).
    sql = {
        "spark.sql.codegen.wholeStage": "false",
        "spark.sql.codegen.factoryMode": "NO_CODEGEN",
        "spark.sql.autoBroadcastJoinThreshold": "-1",
    }
    session = make_session(
        "local[2]", shuffle_partitions=2, driver_memory="1g", conf={"spark.driver.extraJavaOptions": java, **sql}
    )
    yield session
    session.stop()


def _results(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Everything linking writes, minus row ids and run ids (which differ between runs by design)."""
    with engine.connect() as conn:
        return {
            "report_links": sorted(
                conn.execute(select(report_links.c.report_id, report_links.c.suspect_id, report_links.c.network_id))
            ),
            "suspects": sorted(
                conn.execute(
                    select(suspects.c.suspect_id, suspects.c.reports, suspects.c.network_id, suspects.c.component_id)
                )
            ),
            "networks": sorted(
                (r.network_id, r.suspects, r.reports, repr(r.summary)) for r in conn.execute(select(networks))
            ),
            "explanations": sorted(
                (r.level, r.owner_id, r.a, r.b, r.score, repr(r.evidence))
                for r in conn.execute(select(link_explanations))
            ),
            "suppressed": sorted(
                conn.execute(
                    select(
                        suppressed_values.c.level,
                        suppressed_values.c.kind,
                        suppressed_values.c.value,
                        suppressed_values.c.holders,
                        suppressed_values.c.reason,
                    )
                )
            ),
        }


def test_a_snapshot_missing_an_input_is_named(spark: Any, tmp_path: Path) -> None:
    from tipfusion.errors import ConfigurationError
    from tipfusion.link.spark.sources import ParquetSource

    with pytest.raises(ConfigurationError, match=r"reports\.parquet: missing from the snapshot .*export observations"):
        ParquetSource(tmp_path).read(spark)
    with pytest.raises(ConfigurationError, match=r"reports\.parquet: missing from the snapshot .*\(Spark: "):
        ParquetSource((tmp_path / "elsewhere").as_uri()).read(spark)


def test_a_snapshot_the_store_has_moved_on_from_is_refused(
    engine: Engine, db_url: str, two_batches: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """Linking from a snapshot older than the store would leave the newer reports without a suspect: refused before
    Spark starts, naming what changed; so is a snapshot without its manifest (written halfway, or by hand)."""
    from tipfusion.cli.main import app
    from tipfusion.errors import ConfigurationError
    from tipfusion.ingest import IngestService
    from tipfusion.link.snapshot import MANIFEST, check_snapshot, write_snapshot

    _, first, second = two_batches
    ingest = IngestService(engine, Settings(database_url=db_url), "tester")
    ingest.ingest_paths([first])
    folder = tmp_path / "snapshot"
    write_snapshot(engine, folder)
    check_snapshot(engine, str(folder))  # current: no complaint
    assert json.loads((folder / MANIFEST).read_text())["synthetic"] is True  # a synthetic store's snapshot says so
    ingest.ingest_paths([second])
    for location in (str(folder), folder.as_uri()):
        with pytest.raises(ConfigurationError, match=r"since this snapshot was written \(hash_lists, reports, sight"):
            check_snapshot(engine, location)
    link = ["--database", db_url, "link", "--engine", "spark", "--snapshot", str(folder)]
    result = CliRunner().invoke(app, link)  # the command line's error handler prints it (outside CliRunner)
    assert isinstance(result.exception, ConfigurationError) and "export observations" in str(result.exception)
    (folder / MANIFEST).unlink()
    with pytest.raises(ConfigurationError, match="age is unknown"):
        check_snapshot(engine, str(folder))


def test_a_spark_setting_is_key_equals_value(tmp_path: Path) -> None:
    from tipfusion.cli.main import app

    url = f"sqlite:///{tmp_path / 'store.db'}"
    result = CliRunner().invoke(
        app, ["--database", url, "link", "--engine", "spark", "--conf", "spark.executor.memory"]
    )
    assert result.exit_code == 2 and "expected KEY=VALUE" in result.output


def test_sqlite_store_is_told_to_write_a_snapshot() -> None:
    from tipfusion.errors import ConfigurationError
    from tipfusion.link.spark.sources import jdbc_of

    with pytest.raises(ConfigurationError, match="export observations --format parquet"):
        jdbc_of("sqlite:///store.db")
    url, properties = jdbc_of("postgresql://analyst:secret@db.test:6543/tips?options=-csearch_path%3Dunit")
    assert url == "jdbc:postgresql://db.test:6543/tips"
    assert properties["password"] == "secret" and properties["options"] == "-csearch_path=unit"


# -- the two engines side by side ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def two_batches(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """The reports of one generated batch arriving in two halves (each marked synthetic); the lead list comes with
    the first. Issue 17's cases are in it (display names, nameless persons, households, a shared mailbox, rings'
    stray members and strangers' moderately common files): the contradictions, the weak evidence that adds up, the
    contacts through an account known only as a recipient and the members joining through several others must come
    out the same."""
    root = tmp_path_factory.mktemp("sparkhalves")
    full = root / "full"
    noise = Noise(
        display_name_share=0.7,
        nameless_share=0.5,
        household_share=0.3,
        shared_email_share=0.3,
        stray_share=1.0,
        lone_pair_share=0.3,
    )
    generate(full, 200, seed=22, noise=noise)
    first, second = halves(full, root)
    shutil.copytree(full / "leads", first / "leads")
    for half in (first, second):  # each half is synthetic data too, and says so
        shutil.copy(full / "SYNTHETIC-DATA.json", half)
    return full, first, second


def _named_joins(engine: Engine) -> list[tuple[list[str], str]]:
    """Suspect links a shared real name adds to: (the evidence kinds in order, what the name said)."""
    with engine.connect() as conn:
        rows = conn.execute(select(link_explanations.c.evidence).where(link_explanations.c.level == "suspect"))
        return [
            ([item[0] for item in row.evidence], words)
            for row in rows
            for kind, words, _ in row.evidence
            if kind == "name" and str(words).startswith("same name, held by")
        ]


def _md5_holders(folder: Path) -> dict[str, set[int]]:
    """MD5 → the reports of a batch folder whose files carry it (read from the fileDetails documents)."""
    held: dict[str, set[int]] = {}
    for path in (folder / "files").glob("*.xml"):
        text = path.read_text()
        report = re.search(r"<reportId>(\d+)</reportId>", text)
        assert report is not None
        for md5 in re.findall(r'hashType="MD5">([0-9a-f]{32})<', text):
            held.setdefault(md5, set()).add(int(report.group(1)))
    return held


def _link_state(engine: Engine) -> dict[Any, list[dict[str, Any]]]:
    with engine.connect() as conn:
        return {
            table: [dict(r._mapping) for r in conn.execute(select(table))] for table in (report_links, link_aliases)
        }


def _restore(engine: Engine, state: dict[Any, list[dict[str, Any]]]) -> None:
    """Back to the names a run left (what the next run's aliases are worked out from)."""
    with engine.begin() as conn:
        for table, rows in state.items():
            conn.execute(delete(table))
            if rows:
                conn.execute(insert(table), rows)


def _aliases(engine: Engine) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(link_aliases.c.old_id, link_aliases.c.new_id, link_aliases.c.reason)))


def _spark_run(engine: Engine, db_url: str, spark: Any, folder: str) -> dict[str, Any]:
    """One Spark run as a unit would do it: SQLite → snapshot → Spark from the command line; PostgreSQL → JDBC. The
    run's summary, as the store keeps it."""
    if db_url.startswith("sqlite"):
        from tipfusion.cli.main import app

        runner = CliRunner()
        path = Path(folder.removeprefix("file://"))
        result = runner.invoke(
            app, ["--database", db_url, "export", "observations", "--format", "parquet", "--output", str(path)]
        )
        assert result.exit_code == 0, result.output
        assert all(snapshot_path(path, item).is_file() for item in INPUTS)
        link = ["link", "--engine", "spark", "--snapshot", folder, "--partitions", "2"]
        result = runner.invoke(app, ["--database", db_url, *link, "--conf", "spark.tipfusion.test=applied"])
        assert result.exit_code == 0, result.output
        assert "spark" in result.output and "Link summary" in result.output
        assert spark.conf.get("spark.tipfusion.test") == "applied"  # --conf reaches the session
    else:
        from tipfusion.link.spark.engine import SparkLinker
        from tipfusion.link.spark.sources import JdbcSource

        LinkService(engine, "tester").run(linker=SparkLinker(spark, JdbcSource(db_url, partitions=2)))
    return _last_summary(engine)


def _last_summary(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        summary: dict[str, Any] = (
            conn.execute(select(link_runs.c.summary).order_by(link_runs.c.id.desc())).scalars().first()
        )
    return summary


def _evidence(engine: Engine, level: str, kind: str) -> tuple[str, str]:
    """The first (kind, value) of that kind in the explanations of one level."""
    with engine.connect() as conn:
        rows = conn.execute(select(link_explanations.c.evidence).where(link_explanations.c.level == level))
        found = sorted({(k, v) for (evidence,) in rows for k, v, _ in evidence if k == kind})
    assert found, f"no {kind} evidence at the {level} level to mark noise"
    return found[0]


def test_spark_engine_gives_the_embedded_engines_answers(
    engine: Engine, db_url: str, two_batches: tuple[Path, Path, Path], spark: Any, tmp_path: Path
) -> None:
    """Each run of the Spark engine writes what the embedded engine writes (suspects, networks, component ids,
    explanations, suppressed values, aliases), from a Parquet snapshot of a SQLite store and over JDBC from
    PostgreSQL: with known-content lists (two lists naming one file: the first list gives the reason), analyst
    decisions of every kind made after the first run, and a second batch; matches for files that came after the lists
    were imported are not missed."""
    full, first, second = two_batches
    reference = full / "reference"
    _pipeline(engine, db_url, first, reference)
    LinkService(engine, "tester").run()
    before = _mapping(engine)
    old, new = _md5_holders(first), _md5_holders(second)
    # files of the first batch held by several suspects, the most widely held first (the files a known-content list
    # names circulate), and one that arrives with the second batch only
    holders = {md5: len({before[r][0] for r in held}) for md5, held in old.items()}
    spread = sorted((md5 for md5, n in holders.items() if n > 1), key=lambda md5: (-holders[md5], md5))
    # (held by several people per the batch's truth: one person's own file is held by one suspect, and listed by none)
    person = {int(r["report_id"]): r["person_id"] for r in csv.DictReader((full / "truth.csv").open())}
    people = {md5: len({person[r] for r in held}) for md5, held in new.items()}
    later = sorted((md5 for md5 in new if md5 not in old), key=lambda md5: (-people[md5], -len(new[md5]), md5))
    assert len(spread) >= 4 and people[later[0]] > 1
    unit = tmp_path / "unit.csv"
    unit.write_text("MD5 Hash,Category,Source\n" + "".join(f"{m},1,the unit\n" for m in spread[:2] + later[:1]))
    other = tmp_path / "other.csv"
    other.write_text("MD5 Hash,Category,Source\n" + "".join(f"{m.upper()},3,\n" for m in spread[1:3]))
    import_file(engine, unit, "Unit list", "csv", "analyst", source="the unit")
    import_file(engine, other, "another list", "csv", "analyst")

    def both_engines(step: str, snapshot: str) -> tuple[dict[str, list[tuple[Any, ...]]], list[tuple[str, str, str]]]:
        """A Spark run, then the embedded run from the names the previous run left: the same rows, the same aliases.
        (Spark first: its snapshot is written before any `tipfusion link` has refreshed the hash-list matches.)"""
        state = _link_state(engine)
        ran = _spark_run(engine, db_url, spark, snapshot)
        found, found_aliases = _results(engine), _aliases(engine)
        _restore(engine, state)
        LinkService(engine, "tester").run()
        expected, expected_aliases, embedded = _results(engine), _aliases(engine), _last_summary(engine)
        for table in expected:
            assert found[table] == expected[table], (step, table)
        assert found_aliases == expected_aliases, step
        assert ran["engine"] == "spark" and set(ran["seconds"]) == {"extract", "suspects", "networks", "store"}
        assert embedded["engine"] != "spark"
        for count in ("reports", "suspects", "networks", "merged_ids", "split_ids"):
            assert ran[count] == embedded[count], (step, count)
        assert embedded["suspects"] < embedded["reports"] and embedded["networks"] > 0, step  # something to compare
        return expected, expected_aliases

    first_run, _ = both_engines("first", str(tmp_path / "snapshot-first"))
    first_named = _named_joins(engine)
    known = {value: reason for _, kind, value, _, reason in first_run["suppressed"] if kind == "file"}
    assert "'Unit list'" in known[f"md5:{spread[0]}"] and "'another list'" in known[f"md5:{spread[2]}"]
    assert "category 1, source the unit" in known[f"md5:{spread[1]}"]  # on both lists: "Unit" sorts first

    # decisions on what the first run showed: split a report off, merge two loners, mark values of each kind noise
    suspects_now: dict[str, list[int]] = {}
    for report, (suspect, _) in _mapping(engine).items():
        suspects_now.setdefault(suspect, []).append(report)
    several = next(reports for _, reports in sorted(suspects_now.items()) if len(reports) > 2)
    loner_a, loner_b = [reports[0] for _, reports in sorted(suspects_now.items()) if len(reports) == 1][-2:]
    add_override(engine, "analyst", "split", "a different person per the ISP answer", report_a=max(several))
    add_override(engine, "analyst", "merge", "one handset seized", report_a=loner_a, report_b=loner_b)
    marked = [
        _evidence(engine, "suspect", "phone"),
        _evidence(engine, "network", "group"),
        ("file", f"md5:{spread[3]}"),
    ]
    with engine.connect() as conn:  # a foreign lead list (whose members may not make a network yet)
        marked.append(("lead", conn.execute(select(func.min(lead_identifiers.c.lead_ref))).scalar_one()))
    for kind, value in marked:
        add_override(engine, "analyst", "noise", f"{kind} shared by an office", kind=kind, value=value)

    _pipeline(engine, db_url, second, reference)  # the hash-list matches are stale until linking refreshes them
    # read back as a URI, as executors on a cluster read a snapshot copied to shared storage (hdfs://, s3a://)
    second_run, aliases = both_engines("second", (tmp_path / "snapshot-second").as_uri())
    mapping = _mapping(engine)
    assert mapping[max(several)][0] == f"S{max(several)}" and mapping[loner_a][0] == mapping[loner_b][0]
    assert (f"S{max(loner_a, loner_b)}", f"S{min(loner_a, loner_b)}", "merged") in aliases
    assert f"md5:{later[0]}" in {
        value for _, kind, value, _, reason in second_run["suppressed"] if "Unit list" in reason
    }
    # what the two comparisons covered between them, found alike by both engines: noise of several kinds with
    # reasons, explanations at both levels, network evidence of each kind, names weighed by frequency with an
    # agreeing age (accounts joined on a rare name and an age alone, and names adding to shared values:
    # `link.names`), a contradiction weighed by m measured on the store's sure pairs (`link.evidence`)
    runs = (first_run, second_run)
    assert len({kind for run in runs for _, kind, *_ in run["suppressed"]}) > 1
    assert {e[0] for e in second_run["explanations"]} == {"suspect", "network"}
    network_kinds = {
        kind
        for run in runs
        for level, *_, evidence in run["explanations"]
        if level == "network"
        for kind in re.findall(r"\['(\w+)'", evidence)
    }
    assert {"contact", "joins", "rare_file", "group"} <= network_kinds, network_kinds
    named = first_named + _named_joins(engine)
    assert any(kinds[0] == "name" and "; age" in words for kinds, words in named), named
    assert any(kinds[0] != "name" and "; age" in words for kinds, words in named), named
    assert any("sure pairs measured" in e[5] for run in runs for e in run["explanations"])
    noise = {(kind, value) for _, kind, value, _, reason in second_run["suppressed"] if "analyst" in reason}
    assert noise == set(marked)
    assert any(e[0] == "suspect" and "analyst" in e[5] for e in second_run["explanations"])


# -- connected components: large-star/small-star ---------------------------------------------------------------------
def test_components_on_a_long_chain_and_a_star_converge_in_few_rounds(spark: Any) -> None:
    """A path of 240 nodes numbered from one end (its smallest node at the far end: label propagation needs 239
    rounds to carry it across), a path of 240 shuffled numbers, a star whose centre is its largest node, and a
    triangle given with repeated and reversed edges: the components are scipy's, named by the smallest node, and
    large-star/small-star gets there in a small fraction of the path's length."""
    import random
    from itertools import pairwise

    from tipfusion.link.spark.components import named_by_centre, star_rounds
    from tipfusion.link.suspects import components

    ordered = [(1000 + i, 1001 + i) for i in range(239)]
    shuffled_ids = list(range(2000, 2240))
    random.Random(7).shuffle(shuffled_ids)
    shuffled = list(pairwise(shuffled_ids))
    star = [(3999, 3000 + i) for i in range(50)]
    triangle = [(5000, 5001), (5001, 5000), (5001, 5002), (5002, 5000), (5000, 5001)]
    edges = ordered + shuffled + star + triangle
    stars, rounds = star_rounds(spark.createDataFrame(edges, "src long, dst long"))
    found = {row.node: row.component for row in named_by_centre(stars).collect()}
    nodes = sorted({node for edge in edges for node in edge})
    assert found == components(nodes, edges)
    assert found[1239] == 1000 and found[3000] == 3000 and found[3999] == 3000 and found[5002] == 5000
    assert 0 < rounds <= 239 // 10
