"""batch_registration: bursts of sign-ups sharing a key, joined into clusters, as DataFrame transformations.

A day D is judged on its "view": the registrations of D-1 and D delivered in the folders of D-1 and D, so a
burst that runs over midnight is seen whole, and a nightly run and a backfill read exactly the same rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.types import DateType, StringType, StructField, StructType

from accountwatch.jobs.core.config import BatchSettings, Settings
from accountwatch.jobs.core.lake import Lake, between, local_rows
from accountwatch.jobs.core.networks import ip_prefix
from accountwatch.jobs.detectors.base import (
    BlacklistRole,
    Detection,
    Detector,
    FindingView,
    RawRows,
    RunInputs,
    Scoring,
    TableWrite,
)

NAME = "batch_registration"

KEY_TYPES = ("ip", "ip_prefix", "device", "phone_block", "name_pattern")
SECONDS_PER_DAY = 86_400
# Name patterns whose stem is this short say nothing about a shared origin.
MIN_STEM_LENGTH = 2
NAME_WITH_COUNTER = r"^(.*?[^0-9])[\s_\-#.]*([0-9]{1,8})$"


class ClusterDidNotConvergeError(RuntimeError):
    """Connected components did not settle within the iteration limit."""


def name_pattern(name: Column) -> Column:
    """The stem of a name that ends in a counter (`lucky_cat_017` -> `lucky_cat`), lower-cased; else null."""
    normalized = F.lower(F.trim(name))
    stem = F.regexp_replace(F.regexp_extract(normalized, NAME_WITH_COUNTER, 1), r"[\s_\-#.]+$", "")
    return F.when(F.length(stem) >= MIN_STEM_LENGTH, stem)


def registration_views(start: date, end: date) -> Callable[[DataFrame], DataFrame]:
    """Account change rows (folders start-1 to end) to one row per view day and account registered on it or before.

    "Before" is the day before the view day; the keys are those of the account's first delivered row.
    """

    def transform(changes: DataFrame) -> DataFrame:
        first_delivered = Window.partitionBy("view_date", "account_id").orderBy(
            "ingest_date", "updated_at", "source_file", "source_row"
        )
        return (
            changes.withColumn("reg_date", F.to_date("registered_at"))
            .withColumn("view_date", F.explode(F.array(F.col("ingest_date"), F.date_add("ingest_date", 1))))
            .where(
                (F.col("view_date") >= F.lit(start))
                & (F.col("view_date") <= F.lit(end))
                & (F.col("reg_date") >= F.date_sub("view_date", 1))
                & (F.col("reg_date") <= F.col("view_date"))
            )
            .withColumn("_first", F.row_number().over(first_delivered))
            .where("_first = 1")
            .select(
                "view_date",
                "account_id",
                "account_type",
                "subject_id",
                "registered_at",
                "reg_date",
                "registration_ip",
                "device_id",
                "phone_block",
                "account_name",
            )
        )

    return transform


def registration_keys(views: DataFrame) -> DataFrame:
    """One row per registration and shared key it carries: (key_type, key_value)."""
    keys = F.array(
        *[
            F.struct(F.lit(name).alias("key_type"), value.alias("key_value"))
            for name, value in (
                ("ip", F.nullif(F.trim("registration_ip"), F.lit(""))),
                ("ip_prefix", ip_prefix(F.trim("registration_ip"))),
                ("device", F.nullif(F.trim("device_id"), F.lit(""))),
                ("phone_block", F.col("phone_block")),
                ("name_pattern", name_pattern(F.col("account_name"))),
            )
        ]
    )
    return (
        views.withColumn("_key", F.explode(keys))
        .where(F.col("_key.key_value").isNotNull())
        .select("*", "_key.key_type", "_key.key_value")
        .drop("_key")
    )


def daily_key_counts(keyed: DataFrame) -> DataFrame:
    """Registrations per key and registration day, in the `registration_keys` schema (each day from its own view)."""
    return (
        keyed.where(F.col("reg_date") == F.col("view_date"))
        .groupBy("reg_date", "key_type", "key_value")
        .agg(F.count("*").alias("registrations"))
    )


# Long: one Spark plan (runs of a key within the gap, their sizes and spans) whose steps share window columns.
def key_bursts(history: DataFrame, settings: BatchSettings) -> Callable[[DataFrame], DataFrame]:
    """Runs of registrations sharing a key, each within `gap_minutes` of the previous, that end on the view day.

    `history` holds the keys' daily counts (`registration_keys`); a run is a burst when it has at least
    `min_members` members and `min_rate_ratio` times what the key's normal rate explains over its span.
    """

    def transform(keyed: DataFrame) -> DataFrame:
        key = ["view_date", "key_type", "key_value"]
        in_time = Window.partitionBy(*key).orderBy("_t", "account_id")
        runs = (
            keyed.withColumn("_t", F.unix_timestamp("registered_at"))
            .withColumn("_gap", F.col("_t") - F.lag("_t").over(in_time))
            .withColumn("_starts", F.when(F.col("_gap").isNull() | (F.col("_gap") > settings.gap_minutes * 60), 1))
            .withColumn(
                "run", F.sum(F.coalesce("_starts", F.lit(0))).over(in_time.rowsBetween(Window.unboundedPreceding, 0))
            )
        )
        per_run = runs.groupBy(*key, "run").agg(
            F.count("*").alias("members"),
            F.min("registered_at").alias("first_registered_at"),
            F.max("registered_at").alias("last_registered_at"),
        )
        on_day = keyed.groupBy(*key, "reg_date").agg(F.count("*").alias("day_count"))
        first_day = on_day.select(*key, F.col("reg_date").alias("_first_day"), F.col("day_count").alias("_first_count"))
        last_day = on_day.select(*key, F.col("reg_date").alias("_last_day"), F.col("day_count").alias("_last_count"))
        trailing = (
            history.select(F.col("reg_date").alias("_day"), "key_type", "key_value", "registrations")
            .join(keyed.select(*key).distinct(), ["key_type", "key_value"])
            .where(
                (F.col("_day") < F.col("view_date")) & (F.col("_day") >= F.date_sub("view_date", settings.history_days))
            )
            .groupBy(*key)
            .agg((F.sum("registrations") / F.lit(settings.history_days)).alias("trailing_daily_mean"))
        )
        span = F.col("last_registered_at").cast("long") - F.col("first_registered_at").cast("long")
        normal_daily = F.greatest("_first_count", "_last_count", F.coalesce("trailing_daily_mean", F.lit(0.0)))
        expected = normal_daily * F.greatest(span, F.lit(settings.min_span_minutes * 60)) / F.lit(SECONDS_PER_DAY)
        scored = (
            per_run.withColumn("_first_day", F.to_date("first_registered_at"))
            .withColumn("_last_day", F.to_date("last_registered_at"))
            .join(first_day, [*key, "_first_day"], "left")
            .join(last_day, [*key, "_last_day"], "left")
            .join(trailing, key, "left")
            .withColumn("span_minutes", F.round(span / 60.0, 1))
            .withColumn("normal_daily", normal_daily.cast("double"))
            .withColumn("expected", expected)
            .withColumn("rate_ratio", F.col("members") / F.col("expected"))
        )
        is_burst = (
            (F.col("members") >= settings.min_members)
            & (F.col("rate_ratio") >= settings.min_rate_ratio)
            & (F.col("_last_day") == F.col("view_date"))
        )
        bursts = scored.where(is_burst).withColumn(
            "burst_id", F.concat_ws("|", "key_type", "key_value", F.col("run").cast("string"))
        )
        members = runs.join(bursts.select(*key, "run", "burst_id"), [*key, "run"], "inner").select(
            "view_date", "account_id", "burst_id"
        )
        return members.join(
            bursts.select(
                "view_date",
                "burst_id",
                "key_type",
                "key_value",
                "members",
                "first_registered_at",
                "last_registered_at",
                "span_minutes",
                "normal_daily",
                "expected",
                "rate_ratio",
            ),
            ["view_date", "burst_id"],
        )

    return transform


# Up to this many burst memberships are joined into clusters on the driver (one collect and a union-find); more,
# as in a backfill of a very large platform, by label propagation in Spark (a few jobs a round, many rounds).
DRIVER_CLUSTER_LIMIT = 50_000
CLUSTERS = StructType(
    [
        StructField("view_date", DateType()),
        StructField("account_id", StringType()),
        StructField("cluster", StringType()),
    ]
)


def connected_clusters(
    edges: DataFrame, max_iterations: int = 30, driver_limit: int = DRIVER_CLUSTER_LIMIT
) -> DataFrame:
    """Connected components of the account-burst graph: (view_date, account_id, cluster).

    `cluster` is the smallest account_id of the component. A day's memberships are few, so they are joined on
    the driver; above `driver_limit` rows the components are found in Spark.
    """
    pairs = edges.select("view_date", "account_id", "burst_id").distinct()
    rows = pairs.limit(driver_limit + 1).collect()
    if len(rows) <= driver_limit:
        return local_rows(edges.sparkSession, components(rows), CLUSTERS)
    return propagated_clusters(pairs.localCheckpoint(), max_iterations)


def components(pairs: Sequence[Sequence[Any]]) -> list[tuple[date, str, str]]:
    """(view_date, account_id, burst_id) rows to each account's component label: a union-find per view day."""
    parent: dict[tuple, tuple] = {}

    def root(node: tuple) -> tuple:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for view_date, account_id, burst_id in pairs:
        account, burst = root(("account", view_date, account_id)), root(("burst", view_date, burst_id))
        if account != burst:
            parent[burst] = account
    members: dict[tuple, set[tuple[date, str]]] = defaultdict(set)
    for view_date, account_id, _ in pairs:
        members[root(("account", view_date, account_id))].add((view_date, account_id))
    return sorted(
        (view_date, account_id, min(account for _, account in component))
        for component in members.values()
        for view_date, account_id in component
    )


def propagated_clusters(pairs: DataFrame, max_iterations: int) -> DataFrame:
    """The same components by label propagation in Spark (each round is checkpointed so the plan stays small)."""
    labels = pairs.select("view_date", "account_id").distinct().withColumn("cluster", F.col("account_id"))
    for _ in range(max_iterations):
        burst_labels = (
            pairs.join(labels, ["view_date", "account_id"])
            .groupBy("view_date", "burst_id")
            .agg(F.min("cluster").alias("cluster"))
        )
        spread = (
            pairs.join(burst_labels, ["view_date", "burst_id"])
            .groupBy("view_date", "account_id")
            .agg(F.min("cluster").alias("cluster"))
            .localCheckpoint()
        )
        changed = (
            spread.alias("new")
            .join(labels.alias("old"), ["view_date", "account_id"])
            .where(F.col("new.cluster") != F.col("old.cluster"))
            .count()
        )
        labels = spread
        if changed == 0:
            return labels
    raise ClusterDidNotConvergeError(f"registration clusters did not settle in {max_iterations} rounds")


# Long: one finding row per member with its whole cluster as evidence, built as one Spark struct.
def cluster_findings(views: DataFrame, settings: BatchSettings) -> Callable[[DataFrame], DataFrame]:
    """Burst memberships to one finding row per flagged account, with its cluster as evidence."""

    def transform(memberships: DataFrame) -> DataFrame:
        clusters = connected_clusters(memberships)
        accounts = views.select("view_date", "account_id", "account_type", "subject_id", "registered_at")
        members = clusters.join(accounts, ["view_date", "account_id"])
        cluster_key = ["view_date", "cluster"]
        key_evidence = (
            memberships.join(clusters, ["view_date", "account_id"])
            .select(
                *cluster_key,
                F.struct(
                    "key_type",
                    "key_value",
                    "members",
                    "span_minutes",
                    F.round("normal_daily", 2).alias("normal_daily"),
                    F.round("expected", 3).alias("expected"),
                    F.round("rate_ratio", 1).alias("rate_ratio"),
                ).alias("key"),
            )
            .distinct()
            .groupBy(*cluster_key)
            .agg(
                F.array_sort(F.collect_list("key")).alias("shared_keys"),
                F.max("key.rate_ratio").alias("max_rate_ratio"),
                F.size(F.collect_set("key.key_type")).alias("key_types"),
            )
        )
        summary = members.groupBy(*cluster_key).agg(
            F.count("*").alias("size"),
            F.min("registered_at").alias("first_registered_at"),
            F.max("registered_at").alias("last_registered_at"),
            F.sum(F.when(F.col("account_type") == "public", 1).otherwise(0)).alias("public_accounts"),
            F.array_sort(F.collect_list("account_id")).alias("_all_ids"),
        )
        size = F.col("size")
        severity = (
            F.when((size >= settings.high_members) | (F.col("key_types") >= 3), "high")
            .when((size >= settings.medium_members) | (F.col("key_types") >= 2), "medium")
            .otherwise("low")
        )
        span = F.col("last_registered_at").cast("long") - F.col("first_registered_at").cast("long")
        evidence = F.to_json(
            F.struct(
                F.substring(F.sha2(F.concat_ws("|", F.col("view_date").cast("string"), "cluster"), 256), 1, 16).alias(
                    "cluster_id"
                ),
                F.col("size").alias("cluster_size"),
                "public_accounts",
                "first_registered_at",
                "last_registered_at",
                F.round(span / 60.0, 1).alias("span_minutes"),
                "shared_keys",
                F.slice("_all_ids", 1, settings.max_member_ids).alias("member_ids"),
                (F.col("size") > settings.max_member_ids).alias("member_ids_truncated"),
            ),
            {"ignoreNullFields": "false"},
        )
        described = summary.join(key_evidence, cluster_key).select(
            *cluster_key,
            severity.alias("severity"),
            F.round(F.log10(F.col("max_rate_ratio") * F.col("size")), 3).alias("score"),
            evidence.alias("evidence"),
        )
        return members.join(described, cluster_key).select(
            F.col("view_date").alias("run_date"),
            "account_id",
            "subject_id",
            "severity",
            "score",
            "evidence",
        )

    return transform


def first_flag_only(already_flagged: DataFrame) -> Callable[[DataFrame], DataFrame]:
    """Keep each account's earliest finding, dropping accounts flagged before (in `already_flagged`)."""

    def transform(found: DataFrame) -> DataFrame:
        earliest = Window.partitionBy("account_id").orderBy("run_date")
        return (
            found.join(already_flagged.select("account_id").distinct(), "account_id", "left_anti")
            .withColumn("_n", F.row_number().over(earliest))
            .where("_n = 1")
            .drop("_n")
        )

    return transform


def view_folder_range(start: date, end: date) -> tuple[date, date]:
    """The folders the views of start..end read."""
    return start - timedelta(days=1), end


def batch_registrations(lake: Lake, start: date, end: date, settings: Settings) -> tuple[DataFrame, DataFrame]:
    """batch_registration finding rows for start..end, and the registrations per key and day they counted."""
    first_folder, last_folder = view_folder_range(start, end)
    changes = lake.read("account_changes").where(
        (F.col("ingest_date") >= F.lit(first_folder)) & (F.col("ingest_date") <= F.lit(last_folder))
    )
    views = changes.transform(registration_views(start, end)).localCheckpoint()
    keyed = registration_keys(views)
    counts = daily_key_counts(keyed).localCheckpoint()
    history_start = start - timedelta(days=settings.batch.history_days)
    history = (
        lake.read("registration_keys")
        .where((F.col("reg_date") >= F.lit(history_start)) & (F.col("reg_date") < F.lit(start)))
        .unionByName(counts)
    )
    memberships = keyed.transform(key_bursts(history, settings.batch)).localCheckpoint()
    # A view holds accounts registered on its day or the day before, so only the two days before start can
    # have flagged them already.
    earlier = lake.read("findings").where(
        (F.col("detector") == NAME)
        & (F.col("run_date") >= F.lit(first_folder - timedelta(days=1)))
        & (F.col("run_date") < F.lit(start))
    )
    found = memberships.transform(cluster_findings(views, settings.batch)).transform(first_flag_only(earlier))
    return found, counts


def find(inputs: RunInputs) -> Detection:
    """The run's bursts, and the registrations per key and day that later runs take as normal rates."""
    found, key_counts = batch_registrations(inputs.lake, inputs.start, inputs.end, inputs.settings)
    return Detection(
        found.localCheckpoint(),
        (TableWrite("registration_keys", key_counts, between("reg_date", inputs.start, inputs.end)),),
    )


def sentence(evidence: dict[str, Any]) -> str:
    """What a batch_registration finding shows, in one sentence."""
    keys = ", ".join(f"{key.get('key_type')} {key.get('key_value')}" for key in (evidence.get("shared_keys") or [])[:3])
    return (
        f"one of {evidence.get('cluster_size')} registrations in {evidence.get('span_minutes')} minutes "
        f"(cluster {evidence.get('cluster_id')}) sharing {keys}"
    )


def raw_rows(finding: FindingView) -> RawRows:
    """The registration rows of every account flagged in the burst, from the folders of the day's view."""
    first, last = view_folder_range(finding.run_date, finding.run_date)
    return RawRows(registrations=tuple((member, first, last) for member in finding.group))


def evidence_key() -> list[Column]:
    """An account registers once."""
    return []


DETECTOR = Detector(
    name=NAME,
    rule="no batch registration of accounts",
    section=NAME,
    reads=("account_changes", "registration_keys", "findings"),
    phase="before_blacklist",
    severities=("low", "medium", "high"),
    sentence=sentence,
    raw_rows=raw_rows,
    evidence_key=evidence_key,
    scoring=Scoring(case="account", planted=lambda truth: truth.batch_registration),
    blacklist_role=BlacklistRole.SUBJECT_BURST,
    find=find,
    group_path="$.cluster_id",
    progress="looking for registration bursts",
)
