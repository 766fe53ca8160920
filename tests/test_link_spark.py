"""The Spark engine (`tipfusion link --engine spark`) gives the embedded engine's answers: the same suspects,
networks, component ids, explanations and suppressed values, from a Parquet snapshot of a SQLite store and over
JDBC from PostgreSQL. Spark runs in local mode, small (two threads, two shuffle partitions, 1 GB driver)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from tests.test_link import _pipeline
from tipfusion.link.inputs import INPUTS, snapshot_path
from tipfusion.link.service import LinkService, add_override
from tipfusion.store.tables import link_explanations, link_runs, networks, report_links, suppressed_values, suspects
from tipfusion.synth import Noise, generate

if shutil.which("java") is None:  # the one allowed skip: Spark needs a JVM (.ci/run installs Java 17)
    pytest.skip(
        "Java is not installed: the Spark engine needs Java 17 (apt-get install openjdk-17-jre-headless)",
        allow_module_level=True,
    )


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    from tipfusion.link.spark.session import make_session

    session = make_session("local[2]", shuffle_partitions=2, driver_memory="1g")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sparkbatch") / "batch"
    # issue 17's cases too (display names, nameless persons, households, a shared mailbox): the contradictions and
    # the weak evidence that adds up must come out the same from both engines
    generate(
        out,
        160,
        seed=21,
        noise=Noise(display_name_share=0.7, nameless_share=0.5, household_share=0.3, shared_email_share=0.3),
    )
    return out


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


def test_spark_engine_gives_the_embedded_engines_answers(
    engine: Engine, db_url: str, batch: Path, spark: Any, tmp_path: Path
) -> None:
    from tipfusion.cli.main import app
    from tipfusion.link.spark.engine import SparkLinker
    from tipfusion.link.spark.sources import JdbcSource

    _pipeline(engine, db_url, batch, batch / "reference")  # ingest and enrich, as the embedded tests do
    add_override(engine, "analyst", "noise", "office switchboard", kind="phone", value="+911100000000")
    embedded = LinkService(engine, "tester").run()
    expected = _results(engine)
    assert embedded.suspects < embedded.reports and embedded.networks > 0
    assert len({kind for _, kind, *_ in expected["suppressed"]}) > 1  # noise of several kinds, with reasons
    assert {e[0] for e in expected["explanations"]} == {"suspect", "network"}

    if db_url.startswith("sqlite"):  # SQLite → Parquet snapshot → Spark, all through the command line
        folder = tmp_path / "snapshot"
        runner = CliRunner()
        result = runner.invoke(
            app, ["--database", db_url, "export", "observations", "--format", "parquet", "--output", str(folder)]
        )
        assert result.exit_code == 0, result.output
        assert all(snapshot_path(folder, item).is_file() for item in INPUTS)
        result = runner.invoke(
            app, ["--database", db_url, "link", "--engine", "spark", "--snapshot", str(folder), "--partitions", "2"]
        )
        assert result.exit_code == 0, result.output
        assert "spark" in result.output and "Link summary" in result.output
        with engine.connect() as conn:
            summary = conn.execute(select(link_runs.c.summary).order_by(link_runs.c.id.desc())).scalars().first()
        assert summary["engine"] == "spark" and set(summary["seconds"]) == {"extract", "suspects", "networks", "store"}
        assert (summary["merged_ids"], summary["split_ids"]) == (0, 0)  # same names: no aliases
    else:  # PostgreSQL → JDBC → Spark
        ran = LinkService(engine, "tester").run(linker=SparkLinker(spark, JdbcSource(db_url, partitions=2)))
        assert ran.engine == "spark" and set(ran.seconds) == {"extract", "suspects", "networks", "store"}
        assert (ran.merged_ids, ran.split_ids) == (0, 0)
    found = _results(engine)
    for table in expected:
        assert found[table] == expected[table], table


def test_sqlite_store_is_told_to_write_a_snapshot() -> None:
    from tipfusion.errors import ConfigurationError
    from tipfusion.link.spark.sources import jdbc_of

    with pytest.raises(ConfigurationError, match="export observations --format parquet"):
        jdbc_of("sqlite:///store.db")
    url, properties = jdbc_of("postgresql://analyst:secret@db.test:6543/tips?options=-csearch_path%3Dunit")
    assert url == "jdbc:postgresql://db.test:6543/tips"
    assert properties["password"] == "secret" and properties["options"] == "-csearch_path=unit"
