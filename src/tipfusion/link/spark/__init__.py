"""The Spark engine for `tipfusion link --engine spark`: the embedded engine's stages on Spark DataFrames.

For stores that outgrow one machine. It reads the same inputs (`store.link_inputs`: over JDBC from PostgreSQL, or from a
Parquet snapshot), applies the same rules (the shared functions in `link.extract`, `link.suspects`, `link.networks`
and the one `LinkSettings`), finds connected components with large-star/small-star (`components`), runs Leiden on
the driver over the suspect graph, and hands the outcome to the same store code (`LinkService`). PySpark is
imported only here (the `spark` extra).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tipfusion.link.service import Linker


def spark_linker(
    database_url: str,
    master: str = "local[2]",
    snapshot: Path | str | None = None,
    partitions: int = 8,
    driver_memory: str | None = None,
    conf: dict[str, str] | None = None,
) -> Linker:
    """The Spark engine as a `LinkService` linker: reading a Parquet snapshot when given one, else the store over
    JDBC. Needs the `spark` extra (PySpark) and Java 17."""
    try:
        from tipfusion.link.spark.engine import SparkLinker
        from tipfusion.link.spark.session import make_session
        from tipfusion.link.spark.sources import JdbcSource, ParquetSource
    except ImportError as exc:  # pragma: no cover - depends on the installation
        from tipfusion.errors import ConfigurationError

        raise ConfigurationError(
            f"--engine spark needs PySpark ({exc}): pip install 'tipfusion[spark]', and Java 17"
        ) from exc
    source = ParquetSource(snapshot) if snapshot is not None else JdbcSource(database_url, partitions)
    if snapshot is None:
        from tipfusion.link.spark.sources import jdbc_of

        jdbc_of(database_url)  # a SQLite store is told to write a snapshot before Spark starts
    spark = make_session(master, shuffle_partitions=partitions, driver_memory=driver_memory, conf=conf)
    return SparkLinker(spark, source)
