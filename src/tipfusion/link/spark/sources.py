"""Where the Spark engine reads the store's linking inputs (`store.link_inputs`): PostgreSQL over JDBC, or a Parquet
snapshot written by `tipfusion export observations --format parquet`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import DataFrame, DataFrameReader, SparkSession
from sqlalchemy.engine import make_url

from tipfusion.errors import ConfigurationError
from tipfusion.store.link_inputs import INPUTS, snapshot_path


def jdbc_of(database_url: str) -> tuple[str, dict[str, str]]:
    """A SQLAlchemy PostgreSQL URL → (JDBC URL, connection properties), search path and password included."""
    url = make_url(database_url)
    if not url.drivername.startswith("postgresql"):
        raise ConfigurationError(
            f"--engine spark reads the store over JDBC from PostgreSQL only, and this store is {url.drivername}: "
            "write a snapshot with `tipfusion export observations --format parquet --output DIR`, then run "
            "`tipfusion link --engine spark --snapshot DIR`"
        )
    jdbc = f"jdbc:postgresql://{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"
    properties = {"driver": "org.postgresql.Driver", "user": url.username or ""}
    if url.password:
        properties["password"] = str(url.password)
    for key, value in url.query.items():
        properties[key] = value if isinstance(value, str) else value[-1]
    return jdbc, properties


@dataclass(frozen=True)
class JdbcSource:
    database_url: str
    partitions: int = 8  # parallel reads of the sightings, split on report number

    def describe(self) -> str:
        return f"PostgreSQL over JDBC ({make_url(self.database_url).render_as_string(hide_password=True)})"

    def read(self, spark: SparkSession) -> dict[str, DataFrame]:
        url, properties = jdbc_of(self.database_url)

        def reader() -> DataFrameReader:
            found = spark.read.format("jdbc").option("url", url).option("fetchsize", "10000")
            for key, value in properties.items():
                found = found.option(key, value)
            return found

        bounds = reader().option("query", "SELECT min(report_id) AS low, max(report_id) AS high FROM reports")
        row = bounds.load().first()
        low, high = (row[0], row[1]) if row is not None and row[0] is not None else (0, 0)
        frames: dict[str, DataFrame] = {}
        for item in INPUTS:
            read = reader()
            if item.partition_by and high > low and self.partitions > 1:
                read = (
                    read.option("dbtable", f"({item.sql}) AS linking_input")
                    .option("partitionColumn", item.partition_by)
                    .option("lowerBound", str(low))
                    .option("upperBound", str(high + 1))
                    .option("numPartitions", str(self.partitions))
                )
            else:
                read = read.option("query", item.sql)
            frames[item.name] = read.load().select(*item.names)
        return frames


@dataclass(frozen=True)
class ParquetSource:
    # a folder on this machine (on a cluster: at the same path on every executor, e.g. NFS), or a URI the
    # executors read: hdfs://…, s3a://…, file:///… (Spark resolves it; nothing here looks at it)
    directory: Path | str

    def describe(self) -> str:
        return f"Parquet snapshot {self.directory}"

    def read(self, spark: SparkSession) -> dict[str, DataFrame]:
        from pyspark.errors import AnalysisException

        location = str(self.directory)
        remote = "://" in location
        frames: dict[str, DataFrame] = {}
        for item in INPUTS:
            path = f"{location.rstrip('/')}/{item.name}.parquet" if remote else str(snapshot_path(Path(location), item))
            missing = f"{path}: missing from the snapshot (expected {', '.join(i.name for i in INPUTS)}); write it "
            missing += f"with `tipfusion export observations --format parquet --output DIR` and copy DIR to {location}"
            if not remote and not Path(path).exists():
                raise ConfigurationError(missing)
            try:
                frames[item.name] = spark.read.parquet(path).select(*item.names)
            except AnalysisException as exc:
                raise ConfigurationError(f"{missing} (Spark: {str(exc).splitlines()[0]})") from exc
        return frames


Source = JdbcSource | ParquetSource
