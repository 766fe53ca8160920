"""The linking stages on Spark DataFrames, ending in the same `Outcome` the embedded engine produces.

Heavy, row-proportional work (sorting every sighting, value frequencies, pair evidence, the components of reports
on one account) runs on the executors; what is proportional to the answer (the links that pass the threshold and
their joining into suspects, `link.suspects.join_groups`; the suspect graph, Leiden, the report → suspect map the
store code writes) comes to the driver. Every rule is the embedded engine's own: the
sighting rules run as the same Python function on the executors, weights and discounts come from the one
`LinkSettings` (discounts computed on the driver per (kind, holders) and joined back, so no formula is restated),
and each explanation is built by the same function as in the embedded engine.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import BooleanType, LongType, StringType, StructField, StructType

from tipfusion.enrich.hashlists.service import describe_match
from tipfusion.link import extract
from tipfusion.link.evidence import contradictions, estimate_disagreements, measure_agreement
from tipfusion.link.names import Name, NameStats, Person, age_weight, judge
from tipfusion.link.networks import (
    CONTACT_EVIDENCE,
    FILE_EVIDENCE,
    Evidence,
    busy_recipient,
    circulating_file,
    contact_weight,
    known_file,
    public_group,
    same_groups,
    settle,
    viral_file,
)
from tipfusion.link.records import Clustering, Link, Suppressed
from tipfusion.link.service import Outcome, Overrides, outcome_of
from tipfusion.link.settings import LinkSettings
from tipfusion.link.spark.components import connected_components
from tipfusion.link.spark.sources import Source
from tipfusion.link.suspects import account_link, discount, join_groups, over_cap, pair_link
from tipfusion.normalise.registry import ACCOUNT_KEYS
from tipfusion.store.link_inputs import SIGHTINGS

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EVIDENCE = StructType(
    [
        StructField("tag", StringType(), False),
        StructField("report", LongType(), False),
        StructField("a", StringType(), True),
        StructField("b", StringType(), True),
    ]
)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _sort_partition(rows: Iterable[Any]) -> Iterator[tuple[str, int, str | None, str | None]]:
    """Executor side: a partition of sightings (observed_at as microseconds since 1970, UTC) → evidence rows."""
    plain = ((*row[:7], None if row[7] is None else EPOCH + timedelta(microseconds=row[7]), *row[8:]) for row in rows)
    for tag, report, a, b in extract.sort_sightings(plain):
        yield tag, report, _text(a), _text(b)


def _isp_partition(rows: Iterable[Any]) -> Iterator[tuple[str, int, str | None, str | None]]:
    for report, *answer in rows:
        for tag, kind, key in extract.isp_evidence(*answer):
            yield tag, report, kind, key


def _by_kind(shown: list[Any] | None) -> dict[str, set[str]]:
    """An account's collected (kind, key) structs → kind → its values."""
    found: dict[str, set[str]] = {}
    for item in shown or ():
        found.setdefault(item.kind, set()).add(item.key)
    return found


FACTS = ("names", "ages", "born")


def _person(names: list[Any] | None, ages: list[Any] | None, born: list[Any] | None) -> tuple[Person, dict[Name, int]]:
    """A node's collected facts → what its accounts say about the person, and how many accounts hold each name."""
    held = {(item.first, item.last): item.n for item in names or ()}
    return Person(frozenset(held), frozenset(ages or ()), frozenset(born or ())), held


def _pairs(members: DataFrame, group: str | list[str], member: str = "suspect") -> DataFrame:
    """Every pair (a < b) of members that share a group."""
    keys = [group] if isinstance(group, str) else group
    left = members.select(*keys, F.col(member).alias("a"))
    right = members.select(*keys, F.col(member).alias("b"))
    return left.join(right, keys).where(F.col("a") < F.col("b"))


def _edge(kind: str, value: str, weight: float) -> Callable[[DataFrame], DataFrame]:
    """Pairs (a, b, value) → network evidence rows (a, b, kind, value, weight)."""
    return lambda pairs: pairs.select(
        "a", "b", F.lit(kind).alias("kind"), F.col(value).alias("value"), F.lit(weight).alias("weight")
    )


def _weighted(
    spark: SparkSession, kind: str, weight: Callable[[int], float], most: int
) -> Callable[[DataFrame], DataFrame]:
    """Pairs (a, b, key, n) → network evidence rows whose weight depends on how many suspects share the key (n):
    the weights computed here, by the embedded engine's function, so both engines add the same numbers."""
    table = spark.createDataFrame([(n, weight(n)) for n in range(2, most + 1)], "n long, weight double")
    return lambda pairs: pairs.join(F.broadcast(table), "n").select(
        "a", "b", F.lit(kind).alias("kind"), F.col("key").alias("value"), "weight"
    )


def _fold(array: str, field: str) -> Any:
    """Left-to-right sum of one field of an (already sorted) array of structs: Python's `sum` in the same order,
    so scores compare with thresholds exactly as in the embedded engine."""
    return F.aggregate(F.col(array), F.lit(0.0).cast("double"), lambda total, x: total + x[field])


class SparkLinker:
    """`LinkService.run(linker=SparkLinker(...))`: the outcome computed on Spark, written by the usual store code."""

    name = "spark"

    def __init__(self, spark: SparkSession, source: Source):
        self.spark = spark
        self.source = source

    def __call__(
        self,
        settings: LinkSettings,
        overrides: list[Any],
        timings: dict[str, float],
        tell: Callable[[str, int, int | None], None],
    ) -> tuple[int, Outcome]:
        found = Overrides.of(overrides)
        started = time.perf_counter()
        frames = self.source.read(self.spark)
        evidence = self._evidence(frames).persist(StorageLevel.MEMORY_AND_DISK)
        reports = frames["reports"].select(F.col("report_id").alias("report")).persist(StorageLevel.MEMORY_AND_DISK)
        report_count = reports.count()
        evidence.count()
        timings["extract"] = timings.get("extract", 0.0) + time.perf_counter() - started
        tell("resolving suspects and networks", 1, 3)

        started = time.perf_counter()
        identity = self._identity(evidence, reports, found)
        clustering, suspect_of = self._suspects(frames, evidence, reports, identity, found, settings)
        timings["suspects"] = time.perf_counter() - started

        started = time.perf_counter()
        network_clustering, coarse = self._networks(frames, evidence, identity, suspect_of, found, settings)
        timings["networks"] = time.perf_counter() - started
        for frame in (evidence, reports, identity, suspect_of):
            frame.unpersist()
        return report_count, outcome_of(clustering, network_clustering, coarse)

    # -- extract: the same rules as `link.extract.load_input`, on the executors -----------------------------------
    def _evidence(self, frames: dict[str, DataFrame]) -> DataFrame:
        types = frames["ip_enrichments"].select(F.col("ip").alias("canonical"), "network_type")
        sightings = frames["sightings"].join(types, "canonical", "left")
        columns = [
            F.unix_micros(F.col(name)).alias(name) if name == "observed_at" else F.col(name) for name in SIGHTINGS.names
        ]
        rows = sightings.select(*columns, "network_type").rdd.mapPartitions(_sort_partition)
        isp = (
            frames["isp_answers"]
            .join(frames["reports"].select("report_id"), "report_id")  # current reports only
            .rdd.mapPartitions(_isp_partition)
        )
        return self.spark.createDataFrame(rows.union(isp), EVIDENCE)

    def _identity(self, evidence: DataFrame, reports: DataFrame, found: Overrides) -> DataFrame:
        """(report, kind, key) about the reported person: sightings, ISP answers, and each report as a prior report."""
        identity = evidence.where(F.col("tag") == extract.IDENTITY_KEY).select(
            "report", F.col("a").alias("kind"), F.col("b").alias("key")
        )
        prior = reports.select(
            "report", F.lit("prior_report").alias("kind"), F.col("report").cast("string").alias("key")
        )
        identity = identity.unionByName(prior)
        if found.noise:
            noise = self.spark.createDataFrame(list(found.noise), ["kind", "key"])
            identity = identity.join(F.broadcast(noise), ["kind", "key"], "left_anti")
        return identity.persist(StorageLevel.MEMORY_AND_DISK)

    # -- suspects: `link.suspects.resolve_suspects` ----------------------------------------------------------------
    def _suspects(
        self,
        frames: dict[str, DataFrame],
        evidence: DataFrame,
        reports: DataFrame,
        identity: DataFrame,
        found: Overrides,
        settings: LinkSettings,
    ) -> tuple[Clustering, DataFrame]:
        spark = self.spark
        # 1. one ESP account, one node (components over reports sharing an account)
        accounts = identity.where(F.col("kind").isin(sorted(ACCOUNT_KEYS))).select("report", "kind", "key").distinct()
        first = accounts.groupBy("key").agg(F.min("report").alias("first"))
        account_edges = accounts.join(first, "key").select(F.col("first").alias("src"), F.col("report").alias("dst"))
        merged = connected_components(account_edges).select(
            F.col("node").alias("report"), F.col("component").alias("node")
        )
        node_of = (
            reports.join(merged, "report", "left")
            .select("report", F.coalesce("node", "report").alias("node"))
            .persist(StorageLevel.MEMORY_AND_DISK)
        )

        # 2. shared values between nodes: frequencies, suppression above the cap, discounted weights
        weighted = list(settings.weights)
        caps = spark.createDataFrame([(k, settings.caps.get(k, 10)) for k in weighted], ["kind", "cap"])
        holders = (
            identity.where(~F.col("kind").isin(sorted(ACCOUNT_KEYS)) & F.col("kind").isin(weighted))
            .join(node_of, "report")
            .select("kind", "key", "node")
            .distinct()
        )
        counted = (
            holders.groupBy("kind", "key")
            .agg(F.count("*").alias("n"))
            .where(F.col("n") > 1)
            .join(F.broadcast(caps), "kind")
        ).persist(StorageLevel.MEMORY_AND_DISK)
        suppressed = [over_cap(r.kind, r.key, r.n, r.cap) for r in counted.where(F.col("n") > F.col("cap")).collect()]
        suppressed += [
            extract.unattributed(r.a, r.b, r.n)
            for r in evidence.where(F.col("tag") == extract.UNATTRIBUTED_IP)
            .groupBy("a", "b")
            .agg(F.countDistinct("report").alias("n"))
            .where(F.col("n") > 1)
            .collect()
        ]
        suppressed += found.suppressed()
        usable = counted.where(F.col("n") <= F.col("cap"))
        weights = spark.createDataFrame(
            [
                (r.kind, r.n, discount(settings.weights[r.kind], r.n, r.cap))
                for r in usable.select("kind", "n", "cap").distinct().collect()
            ],
            "kind string, n long, weight double",
        )
        vouched = (
            evidence.where(F.col("tag") == extract.VERIFIED_KEY)
            .select("report", F.col("a").alias("kind"), F.col("b").alias("key"))
            .join(node_of, "report")
            .select("kind", "key", "node", F.lit(True).alias("vouched"))
            .distinct()
        )
        pairs = (
            _pairs(holders.join(usable.select("kind", "key", "n"), ["kind", "key"]), ["kind", "key", "n"], "node")
            .join(F.broadcast(weights), ["kind", "n"])
            .join(
                vouched.withColumnRenamed("node", "a").withColumnRenamed("vouched", "va"), ["kind", "key", "a"], "left"
            )
            .join(
                vouched.withColumnRenamed("node", "b").withColumnRenamed("vouched", "vb"), ["kind", "key", "b"], "left"
            )
            .select(
                "a",
                "b",
                "kind",
                "key",
                (
                    F.col("weight")
                    + F.when(F.col("va") & F.col("vb"), F.lit(settings.verified_bonus)).otherwise(F.lit(0.0))
                ).alias("w"),
            )
        )
        # within a kind only the strongest value counts (between equals the smallest value, as embedded)
        best = pairs.groupBy("a", "b", "kind").agg(
            F.max("w").alias("w"), F.min_by("key", F.struct(-F.col("w"), F.col("key"))).alias("key")
        )
        scored = (
            best.groupBy("a", "b")
            .agg(F.array_sort(F.collect_list(F.struct("kind", "w", "key"))).alias("evidence"))
            .withColumn("base", _fold("evidence", "w"))
        )

        # 3. names for or against, weighed by their frequency (`link.names`): the counts to the driver are small (one
        # row per age, one number of named accounts); each pair's names come with their holders beside them
        people = self._people(frames).join(node_of, "report").drop("report").persist(StorageLevel.MEMORY_AND_DISK)
        names = people.where(F.col("first").isNotNull()).select("node", "first", "last").distinct()
        holders_of_name = names.groupBy("first", "last").agg(F.count("*").alias("n"))
        named_count = names.select("node").distinct().count()
        ages = people.where(F.col("age").isNotNull()).select("node", "age").distinct()
        age_bits = age_weight({r.age: r["count"] for r in ages.groupBy("age").count().collect()}, settings)
        rare = holders_of_name.where((F.col("n") >= 2) & (F.col("n") <= settings.name_cap))
        by_name = (
            _pairs(names.join(rare, ["first", "last"]), ["first", "last"], "node")
            .select("a", "b")
            .distinct()
            .join(scored.select("a", "b"), ["a", "b"], "left_anti")
        )
        scored = scored.unionByName(
            by_name.select(
                "a",
                "b",
                F.array().cast(scored.schema["evidence"].dataType).alias("evidence"),
                F.lit(0.0).cast("double").alias("base"),
            )
        )
        named = names.select(F.col("node")).distinct()
        common = (
            scored.select("a", "b")
            .join(names.withColumnRenamed("node", "a"), "a")
            .join(names.withColumnRenamed("node", "b"), ["b", "first", "last"])
            .select("a", "b", F.lit(True).alias("common"))
            .distinct()
        )
        most = settings.name_bound + age_bits  # the most a shared name can add: the exact bits come on the driver
        judged = (
            scored.join(named.select(F.col("node").alias("a"), F.lit(True).alias("na")), "a", "left")
            .join(named.select(F.col("node").alias("b"), F.lit(True).alias("nb")), "b", "left")
            .join(common, ["a", "b"], "left")
            .withColumn(
                "same",
                F.when(F.col("na") & F.col("nb"), F.coalesce(F.col("common"), F.lit(False))).otherwise(
                    F.lit(None).cast(BooleanType())
                ),
            )
            .withColumn(
                "score",
                F.when(F.col("same"), F.col("base") + F.lit(most))
                .when(~F.col("same"), F.col("base") + F.lit(settings.different_name))
                .otherwise(F.col("base")),
            )
            # a sure pair (`link.evidence.measure_agreement`) comes to the driver too: m is measured on it
            .where((F.col("score") >= F.lit(settings.threshold)) | (F.col("base") >= F.lit(settings.sure_bits)))
            .select("a", "b", "evidence")
        ).persist(StorageLevel.MEMORY_AND_DISK)
        facts = (
            names.join(holders_of_name, ["first", "last"])
            .groupBy("node")
            .agg(F.collect_set(F.struct("first", "last", "n")).alias("names"))
            .join(ages.groupBy("node").agg(F.collect_set("age").alias("ages")), "node", "full")
            .join(
                people.where(F.col("born").isNotNull()).groupBy("node").agg(F.collect_set("born").alias("born")),
                "node",
                "full",
            )
        )
        # 4. kinds both show and share none of: u from the store's value frequencies (small aggregates to the
        # driver), m from the sure pairs among the candidates, each candidate pair's values of those kinds beside it;
        # the score before them is an upper bound
        contra = sorted(settings.agreement_m)
        shown = holders.where(F.col("kind").isin(contra))
        values = shown.groupBy("node").agg(F.collect_list(F.struct("kind", "key")).alias("shown"))
        candidates = (
            judged.join(values.select(F.col("node").alias("a"), F.col("shown").alias("shown_a")), "a", "left")
            .join(values.select(F.col("node").alias("b"), F.col("shown").alias("shown_b")), "b", "left")
            .join(facts.select(F.col("node").alias("a"), *(F.col(c).alias(f"{c}_a") for c in FACTS)), "a", "left")
            .join(facts.select(F.col("node").alias("b"), *(F.col(c).alias(f"{c}_b") for c in FACTS)), "b", "left")
        ).collect()
        shown_of: dict[int, dict[str, set[str]]] = {}
        for row in candidates:
            shown_of[row.a], shown_of[row.b] = _by_kind(row.shown_a), _by_kind(row.shown_b)
        measured = measure_agreement(
            (({e.kind: e.w for e in row.evidence}, shown_of[row.a], shown_of[row.b]) for row in candidates), settings
        )
        against = estimate_disagreements(
            {r.kind: r.n for r in shown.groupBy("kind").agg(F.countDistinct("node").alias("n")).collect()},
            (
                (r.kind, r.n)
                for r in shown.groupBy("kind", "key")
                .agg(F.count("*").alias("n"))
                .groupBy("kind", "n")
                .count()
                .collect()
                for _ in range(r["count"])
            ),
            settings,
            measured,
        )
        links: list[Link] = []
        for row in candidates:
            contradicting = contradictions(shown_of[row.a], shown_of[row.b], against)
            kinds = {e.kind: (e.w, e.key) for e in row.evidence}
            person_a, held_a = _person(row.names_a, row.ages_a, row.born_a)
            person_b, held_b = _person(row.names_b, row.ages_b, row.born_b)
            stats = NameStats({**held_a, **held_b}, named_count, age_bits)
            made = pair_link(row.a, row.b, kinds, judge(person_a, person_b, stats, settings), settings, contradicting)
            if made is not None:
                links.append(made)

        # 5. suspects: groups joined strongest link first, on the driver (the links are there already), by the
        # embedded engine's function
        grouped, links = join_groups(links, shown_of, against, settings)
        joined = spark.createDataFrame(sorted(grouped.items()), "node long, component long")
        suspect_of = (
            node_of.join(joined, "node", "left")
            .select("report", F.coalesce("component", "node").alias("suspect"))
            .persist(StorageLevel.MEMORY_AND_DISK)
        )
        label_of = {row.report: row.suspect for row in suspect_of.collect()}
        account_span = accounts.groupBy("kind", "key").agg(
            F.min("report").alias("first"), F.max("report").alias("last"), F.count("*").alias("n")
        )
        links += [
            account_link(r.kind, r.key, r.first, r.last, r.n) for r in account_span.where(F.col("n") > 1).collect()
        ]
        clustering = found.constrain(Clustering(label_of, links, suppressed))
        if found.apart or found.joins:
            suspect_of.unpersist()
            suspect_of = spark.createDataFrame(list(clustering.label_of.items()), "report long, suspect long").persist(
                StorageLevel.MEMORY_AND_DISK
            )
        for frame in (counted, judged, node_of, people):
            frame.unpersist()
        return clustering, suspect_of

    def _people(self, frames: dict[str, DataFrame]) -> DataFrame:
        """(report, first, last, age, born): names casefolded by Python as the embedded engine folds them (both or
        neither), the stated age and date of birth as `link.extract` reads them."""
        rows = frames["names"].rdd.map(
            lambda r: (
                r[0],
                *((r[1].casefold(), r[2].casefold()) if r[1] and r[2] else (None, None)),
                None if r[3] is None else int(r[3]),
                str(r[4])[:10] if r[4] else None,
            )
        )
        return self.spark.createDataFrame(rows, "report long, first string, last string, age int, born string")

    # -- networks: `link.networks.find_networks` -------------------------------------------------------------------
    def _networks(
        self,
        frames: dict[str, DataFrame],
        evidence: DataFrame,
        identity: DataFrame,
        suspect_of: DataFrame,
        found: Overrides,
        settings: LinkSettings,
    ) -> tuple[Clustering, dict[int, int]]:
        spark = self.spark
        suspect = suspect_of.select("report", "suspect")
        suppressed: list[Suppressed] = []
        parts: list[DataFrame] = []

        # shared groups (one group seen two ways counts once), above the cap a public channel
        groups = evidence.where(F.col("tag") == extract.GROUP_KEY).select("report", F.col("a").alias("key"))
        if found.noisy_groups:
            groups = groups.where(~F.col("key").isin(sorted(found.noisy_groups)))
        groups = groups.persist(StorageLevel.MEMORY_AND_DISK)
        name = F.expr("substring(key, instr(key, '/') + 1)")
        seen_twice = (
            groups.distinct()
            .withColumn("name", F.when(name == "", F.col("key")).otherwise(name))
            .groupBy("report", "name")
            .agg(F.collect_set("key").alias("keys"))
            .where(F.size("keys") > 1)
            .collect()
        )
        one_group = same_groups([(r.report, key) for r in seen_twice for key in r.keys])
        members = groups.join(suspect, "report").select("key", "suspect").distinct()
        sizes = members.groupBy("key").agg(F.count("*").alias("n")).persist(StorageLevel.MEMORY_AND_DISK)
        suppressed += [public_group(r.key, r.n) for r in sizes.where(F.col("n") > settings.group_cap).collect()]
        kept = members.join(sizes.where((F.col("n") > 1) & (F.col("n") <= settings.group_cap)), "key")
        group_pairs = _pairs(kept, "key")  # within each key; a pair in one group counts once however it was seen
        label = F.col("key")
        if one_group:
            labels = spark.createDataFrame(list(one_group.items()), "key string, label string")
            group_pairs = group_pairs.join(F.broadcast(labels), "key", "left")
            label = F.coalesce(F.col("label"), F.col("key"))
        group_pairs = group_pairs.select(label.alias("label"), "a", "b").distinct()
        parts.append(group_pairs.transform(_edge("group", "label", settings.group_weight)))

        # rare files in common; viral and circulating files link nobody
        flagged = self._flagged(frames)
        file_keys = (
            evidence.where(F.col("tag") == extract.FILE_HASH)
            .select("report", F.col("a").cast("long").alias("ordinal"), F.col("b").alias("hash"))
            .groupBy("report", "ordinal")
            .agg(F.min("hash").alias("key"))
        )
        files = file_keys.join(flagged, ["report", "ordinal"], "left").select(
            "report", "key", F.coalesce("flagged", F.lit(False)).alias("flagged")
        )
        noisy_files = [value for kind, value in found.noise if kind == "file"]
        if noisy_files:
            files = files.where(~F.col("key").isin(noisy_files))
        viral = files.where("flagged").select("key").distinct().withColumn("viral", F.lit(True))
        holders = files.join(suspect, "report").select("key", "suspect").distinct()
        file_sizes = (
            holders.groupBy("key")
            .agg(F.count("*").alias("n"))
            .join(viral, "key", "left")
            .join(self._known(frames, file_keys), "key", "left")
            .where(F.col("n") > 1)
        ).persist(StorageLevel.MEMORY_AND_DISK)
        noise = F.col("known").isNotNull() | F.col("viral").isNotNull() | (F.col("n") > settings.file_cap)
        for r in file_sizes.where(noise).collect():
            if r.known is not None:
                suppressed.append(known_file(r.key, r.n, r.known))
            else:
                suppressed.append(viral_file(r.key, r.n) if r.viral else circulating_file(r.key, r.n))
        rare = holders.join(file_sizes.where(~noise), "key")
        parts.append(_pairs(rare, "key").transform(_edge(FILE_EVIDENCE, "key", settings.rare_file_weight)))

        # messages: one suspect is the intended recipient of the other's content
        owners = (
            identity.where(F.col("kind").isin(sorted(ACCOUNT_KEYS)))
            .join(suspect, "report")
            .groupBy("key")
            .agg(F.min("suspect").alias("owner"))
        )
        recipients = (
            evidence.where(F.col("tag") == extract.RECIPIENT)
            .select("report", F.col("a").alias("key"))
            .join(suspect, "report")
            .persist(StorageLevel.MEMORY_AND_DISK)
        )
        messages = recipients.join(owners, "key").where(F.col("owner") != F.col("suspect"))
        pairs = messages.select(
            F.least("owner", "suspect").alias("a"), F.greatest("owner", "suspect").alias("b"), "key"
        )
        parts.append(pairs.transform(_edge("message", "key", settings.recipient_weight)))
        # contacts: suspects writing to one account the store knows only as a recipient
        unowned = recipients.join(owners, "key", "left_anti").select("key", "suspect").distinct()
        senders = unowned.groupBy("key").agg(F.count("*").alias("n")).persist(StorageLevel.MEMORY_AND_DISK)
        suppressed += [busy_recipient(r.key, r.n) for r in senders.where(F.col("n") > settings.contact_cap).collect()]
        contacts = unowned.join(senders.where((F.col("n") > 1) & (F.col("n") <= settings.contact_cap)), "key")
        by_contact = _weighted(spark, CONTACT_EVIDENCE, lambda n: contact_weight(n, settings), settings.contact_cap)
        parts.append(_pairs(contacts, ["key", "n"]).transform(by_contact))

        # members of one lead list
        leads = frames["leads"].rdd.map(lambda r: (r[0], *extract.lead_evidence(r[1], r[2])))
        lead_rows = spark.createDataFrame(leads, "lead_ref string, kind string, key string")
        if any(kind == "lead" for kind, _ in found.noise):
            lead_rows = lead_rows.where(~F.col("lead_ref").isin([v for k, v in found.noise if k == "lead"]))
        by_value = identity.join(suspect, "report").select("kind", "key", "suspect").distinct()
        listed = by_value.groupBy("kind", "key").agg(F.count("*").alias("n"))
        lead_members = (
            lead_rows.join(by_value, ["kind", "key"])
            .join(listed, ["kind", "key"])
            .groupBy("lead_ref", "suspect")
            .agg(F.min("n").alias("sharing"))
        )
        left = lead_members.select("lead_ref", F.col("suspect").alias("a"), F.col("sharing").alias("sa"))
        right = lead_members.select("lead_ref", F.col("suspect").alias("b"), F.col("sharing").alias("sb"))
        parts.append(  # `lead_weight`: the same division in IEEE doubles as on the driver
            left.join(right, "lead_ref")
            .where(F.col("a") < F.col("b"))
            .select(
                "a",
                "b",
                F.lit("lead").alias("kind"),
                F.col("lead_ref").alias("value"),
                (F.lit(settings.lead_weight) / F.greatest("sa", "sb").cast("double")).alias("weight"),
            )
        )

        # one fixed-line address on the same day (a few suspects at most)
        places = (
            evidence.where(F.col("tag") == extract.COLOCATION)
            .select("report", F.col("a").alias("key"))
            .join(suspect, "report")
            .select("key", "suspect")
            .distinct()
        )
        place_sizes = places.groupBy("key").agg(F.count("*").alias("n"))
        shared_places = places.join(
            place_sizes.where((F.col("n") > 1) & (F.col("n") <= settings.colocation_cap)), "key"
        )
        parts.append(_pairs(shared_places, "key").transform(_edge("colocation", "key", settings.colocation_weight)))

        # per pair and kind: everything that ties two suspects, settled on the driver by the embedded engine's rules
        every = parts[0]
        for part in parts[1:]:
            every = every.unionByName(part)
        by_kind = every.groupBy("a", "b", "kind").agg(F.collect_list(F.struct("value", "weight")).alias("found"))
        tied: Evidence = {}
        for row in by_kind.collect():
            tied.setdefault((row.a, row.b), {})[row.kind] = [(f.value, f.weight) for f in row.found]
        label_of, kept_links, coarse = settle(tied, settings)
        for frame in (groups, sizes, file_sizes, recipients, senders):
            frame.unpersist()
        return Clustering(label_of, kept_links, suppressed), coarse

    def _known(self, frames: dict[str, DataFrame], file_keys: DataFrame) -> DataFrame:
        """(key, known): why a file is known content — the first list naming the first matched file with that key,
        in the order `hashlists.known_content` reads them."""
        rows = frames["known_files"].rdd.map(
            lambda r: (r[0], r[1], r[2], r[5], r[6], describe_match(r[2], r[3], r[4], r[5]))
        )
        matches = self.spark.createDataFrame(
            rows, "report long, ordinal long, name string, distance long, canonical string, why string"
        )
        first = matches.groupBy("report", "ordinal").agg(
            F.min_by("why", F.struct("name", "distance", "canonical")).alias("why")
        )
        return (
            first.join(file_keys, ["report", "ordinal"])
            .groupBy("key")
            .agg(F.min_by("why", F.struct("report", "ordinal")).alias("known"))
        )

    def _flagged(self, frames: dict[str, DataFrame]) -> DataFrame:
        """(report, ordinal, flagged): files the ESP marked viral or a meme, or in a batched report."""
        batched = frames["batched"].select("report_id", F.lit(True).alias("batched")).distinct()
        rows = (
            frames["files"]
            .join(batched, "report_id", "left")
            .select("report_id", "ordinal", "annotations", "potential_meme", "batched")
            .rdd.map(lambda r: (r[0], r[1], extract.file_flagged(r[2], r[3], bool(r[4]))))
        )
        return self.spark.createDataFrame(rows, "report long, ordinal long, flagged boolean")
