"""Connected components on Spark: the large-star/small-star algorithm (Kiveris et al., "Connected Components in
MapReduce and Beyond", SoCC 2014), iterated until every component is a star around its smallest node.

Each round is two joins and a group-by over the edge list; the number of rounds grows with log² of the largest
component's diameter, not with the graph's size, which is what makes it work across a cluster.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

MAX_ROUNDS = 100


def _oriented(edges: DataFrame) -> DataFrame:
    """(big, small) with big > small, once each."""
    return (
        edges.select(F.greatest("src", "dst").alias("big"), F.least("src", "dst").alias("small"))
        .where(F.col("big") != F.col("small"))
        .distinct()
    )


def _large_star(edges: DataFrame) -> DataFrame:
    """Each node links every larger neighbour to the smallest of itself and its neighbours."""
    both = edges.select(F.col("big").alias("u"), F.col("small").alias("v")).unionByName(
        edges.select(F.col("small").alias("u"), F.col("big").alias("v"))
    )
    smallest = both.groupBy("u").agg(F.least(F.min("v"), F.first("u")).alias("m"))
    return _oriented(
        both.join(smallest, "u").where(F.col("v") > F.col("u")).select(F.col("v").alias("src"), F.col("m").alias("dst"))
    )


def _small_star(edges: DataFrame) -> DataFrame:
    """Each node links itself and its smaller neighbours to the smallest of them."""
    smallest = edges.groupBy("big").agg(F.min("small").alias("m"))
    moved = edges.join(smallest, "big").select(F.col("small").alias("src"), F.col("m").alias("dst"))
    return _oriented(moved.unionByName(smallest.select(F.col("big").alias("src"), F.col("m").alias("dst"))))


def _is_stars(edges: DataFrame) -> bool:
    """Every component a star around its smallest node: every leaf has one centre, and no centre is a leaf
    (one job: the check runs every round)."""
    ends = edges.select(F.col("big").alias("node"), F.lit(1).alias("leaf"), F.lit(0).alias("centre")).unionByName(
        edges.select(F.col("small").alias("node"), F.lit(0).alias("leaf"), F.lit(1).alias("centre"))
    )
    counted = ends.groupBy("node").agg(F.sum("leaf").alias("leaf"), F.max("centre").alias("centre"))
    return counted.where((F.col("leaf") > 1) | ((F.col("leaf") > 0) & (F.col("centre") > 0))).isEmpty()


def star_rounds(edges: DataFrame) -> tuple[DataFrame, int]:
    """Undirected edges (src, dst) → the same components as stars (big, small) around their smallest node, and how
    many large-star + small-star rounds that took (naive label propagation needs as many as the diameter)."""
    current = _oriented(edges).localCheckpoint()
    for done in range(MAX_ROUNDS):
        if _is_stars(current):
            return current, done
        current = _small_star(_large_star(current)).localCheckpoint()
    raise RuntimeError(f"connected components did not converge in {MAX_ROUNDS} rounds")


def named_by_centre(stars: DataFrame) -> DataFrame:
    """Stars (big, small) → (node, component): every node named by its star's centre, the centre included."""
    centres = stars.select(F.col("small").alias("node"), F.col("small").alias("component")).distinct()
    return stars.select(F.col("big").alias("node"), F.col("small").alias("component")).unionByName(centres)


def connected_components(edges: DataFrame) -> DataFrame:
    """Undirected edges (src, dst) of integer ids → (node, component) for every node on an edge, the component
    named by its smallest node (as `link.suspects.components` names it)."""
    return named_by_centre(star_rounds(edges)[0])
