"""A SparkSession for linking: local mode by default, any cluster by `--master`, PostgreSQL's JDBC driver on the
class path, no web UI (air-gapped machines; nothing listens that need not)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pyspark.sql import SparkSession

import tipfusion
from tipfusion.errors import ConfigurationError

# Debian's libpostgresql-jdbc-java; elsewhere point TIPFUSION_JDBC_JAR at the driver's jar
JDBC_JARS = ("/usr/share/java/postgresql.jar",)


def jdbc_jar() -> str | None:
    named = os.environ.get("TIPFUSION_JDBC_JAR")
    if named:
        if not Path(named).is_file():
            raise ConfigurationError(f"TIPFUSION_JDBC_JAR={named}: no such file (PostgreSQL's JDBC driver jar)")
        return named
    return next((jar for jar in JDBC_JARS if Path(jar).is_file()), None)


def make_session(
    master: str = "local[2]",
    shuffle_partitions: int = 8,
    driver_memory: str | None = None,
    conf: dict[str, str] | None = None,
) -> SparkSession:
    """The session `tipfusion link --engine spark` runs in (or the one already running in this process).

    In local mode the Python workers are this interpreter with this tipfusion on their path; on a cluster the
    executors need tipfusion installed (see README, "Linking on a Spark cluster")."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    source_root = str(Path(tipfusion.__file__).resolve().parents[1])
    builder = (
        SparkSession.builder.master(master)
        .appName("tipfusion-link")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.sql.session.timeZone", "UTC")
        .config(
            "spark.executorEnv.PYTHONPATH", os.pathsep.join(filter(None, [source_root, os.environ.get("PYTHONPATH")]))
        )
    )
    if master.startswith("local"):
        builder = builder.config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
    if driver_memory:
        builder = builder.config("spark.driver.memory", driver_memory)
    jar = jdbc_jar()
    if jar:
        builder = builder.config("spark.jars", jar)
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session
