"""The actors of a fake_engagement candidate day, judged as of the day: who they are and how they act.

Per candidate account, day and actor (from the day's audience rows): new, young, active nowhere else, sharing a
device with a crowd, in lockstep with the same crowd on other subjects' accounts, or repeating one action.
`fake_engagement` weighs the day's excess by these actors.
"""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from accountwatch.jobs.core.config import EngagementSettings
from accountwatch.jobs.core.networks import network_of


def device_sharing(rows: DataFrame, settings: EngagementSettings) -> DataFrame:
    """Per account, day and actor of `rows`: those who used a device `min_actors_per_device` actors used that day."""
    crowded = (
        rows.where(F.col("device_id").isNotNull() & (F.col("device_id") != ""))
        .groupBy("run_date", "device_id")
        .agg(F.countDistinct("actor_id").alias("_device_actors"))
        .where(F.col("_device_actors") >= settings.min_actors_per_device)
    )
    return (
        rows.join(crowded, ["run_date", "device_id"], "semi")
        .select("account_id", "run_date", "actor_id")
        .distinct()
        .withColumn("shared_device", F.lit(True))
    )


def lockstep(per_actor: DataFrame, users: DataFrame, settings: EngagementSettings) -> DataFrame:
    """Per account, day and actor: the actors working in lockstep, with the partner accounts they share.

    `per_actor` holds each actor's first and last second on the account that day (`first_s`, `last_s`). Two
    accounts of different subjects are partners on a day when at least `min_lockstep_actors` actors acted on both
    within `lockstep_minutes` of each other, and those actors are at least `min_lockstep_share` of each account's
    actors that day (CopyCatch, SynchroTrap: the same crowd, the same targets, the same hours).
    """
    spans = per_actor.select("account_id", "run_date", "actor_id", "first_s", "last_s").join(
        users.select("account_id", "subject_id"), "account_id", "left"
    )
    day_actors = spans.groupBy("account_id", "run_date").agg(F.count("*").alias("day_actors"))
    a, b, slack = spans.alias("a"), spans.alias("b"), settings.lockstep_minutes * 60
    together = a.join(
        b,
        (F.col("a.run_date") == F.col("b.run_date"))
        & (F.col("a.actor_id") == F.col("b.actor_id"))
        & (F.col("a.account_id") < F.col("b.account_id"))
        & ~F.col("a.subject_id").eqNullSafe(F.col("b.subject_id"))
        & (F.col("a.first_s") <= F.col("b.last_s") + slack)
        & (F.col("b.first_s") <= F.col("a.last_s") + slack),
    ).select(
        F.col("a.run_date").alias("run_date"),
        F.col("a.actor_id").alias("actor_id"),
        F.col("a.account_id").alias("one"),
        F.col("b.account_id").alias("other"),
    )
    share = F.lit(settings.min_lockstep_share)
    pairs = (
        together.groupBy("run_date", "one", "other")
        .agg(F.count("*").alias("shared"))
        .join(day_actors.toDF("one", "run_date", "one_actors"), ["one", "run_date"])
        .join(day_actors.toDF("other", "run_date", "other_actors"), ["other", "run_date"])
        .where(
            (F.col("shared") >= settings.min_lockstep_actors)
            & (F.col("shared") >= share * F.col("one_actors"))
            & (F.col("shared") >= share * F.col("other_actors"))
        )
        .select("run_date", "one", "other")
    )
    kept = together.join(pairs, ["run_date", "one", "other"], "semi")
    both_ways = kept.select("run_date", "actor_id", F.col("one").alias("account_id"), F.col("other").alias("partner"))
    both_ways = both_ways.unionByName(
        kept.select("run_date", "actor_id", F.col("other").alias("account_id"), F.col("one").alias("partner"))
    )
    return (
        both_ways.groupBy("account_id", "run_date", "actor_id")
        .agg(F.array_sort(F.collect_set("partner")).alias("lockstep_partners"))
        .withColumn("lockstep", F.lit(True))
    )


def repeats(rows: DataFrame) -> DataFrame:
    """Per account, day and actor of `rows`: the most times the actor did one action on one article that day."""
    return (
        rows.groupBy("account_id", "run_date", "actor_id", "content_id", "event_type")
        .agg(F.sum("count").alias("_times"))
        .groupBy("account_id", "run_date", "actor_id")
        .agg(F.max("_times").alias("max_repeats"))
    )


def day_actors(users: DataFrame, activity: DataFrame, settings: EngagementSettings) -> Callable[[DataFrame], DataFrame]:
    """Per candidate account, day and actor (from the day's audience rows): events, devices, networks, signals.

    new: the actor's first read, like, share or comment anywhere came within `new_actor_days` up to the day; young:
    registered within `young_days`; sole: by the day, the actor had read, liked, shared or commented on no other account
    (ATF's "active nowhere else": bought actors serve their buyer); shared_device: on the day, the actor used a device
    that at least `min_actors_per_device` actors used on the day's spiking accounts (a farm works many accounts from a
    few phones, warmed up or not; a family shares one among a few); lockstep: see `lockstep`; repeating: did one action
    on one article at least `min_repeats` times; suspicious: any of them.
    """

    def transform(rows: DataFrame) -> DataFrame:
        is_read = F.col("event_type") == "read"
        per_actor = rows.groupBy("account_id", "run_date", "actor_id").agg(
            F.sum("count").alias("actor_events"),
            F.sum(F.when(is_read, F.col("count")).otherwise(0)).alias("actor_reads"),
            F.sum(F.when(~is_read, F.col("count")).otherwise(0)).alias("actor_reactions"),
            F.collect_set("device_id").alias("devices"),
            F.collect_set(network_of(F.col("ip"))).alias("networks"),
            F.collect_set("content_id").alias("contents"),
            F.min(F.col("event_ts").cast("long")).alias("first_s"),
            F.max(F.col("event_ts").cast("long")).alias("last_s"),
        )
        registered = users.select(F.col("account_id").alias("actor_id"), F.col("registered_at").alias("actor_since"))
        first_active = activity.select(
            F.col("user_id").alias("actor_id"), "first_active_on", "first_account_id", "elsewhere_since"
        )
        new = F.col("first_active_on") > F.date_sub("run_date", settings.new_actor_days)
        nowhere_else = F.col("elsewhere_since").isNull() | (F.col("elsewhere_since") > F.col("run_date"))
        sole = (F.col("first_account_id") == F.col("account_id")) & nowhere_else
        young = F.col("actor_since") >= F.to_timestamp(F.date_sub("run_date", settings.young_days - 1))
        key = ["account_id", "run_date", "actor_id"]
        return (
            per_actor.join(registered, "actor_id", "left")
            .join(first_active, "actor_id", "left")
            .withColumn("new", F.coalesce(new, F.lit(True)))
            .withColumn("young", F.coalesce(young, F.lit(False)))
            .withColumn("sole", F.coalesce(sole, F.lit(False)))
            .drop("first_account_id", "elsewhere_since")
            .join(device_sharing(rows, settings), key, "left")
            .withColumn("shared_device", F.coalesce(F.col("shared_device"), F.lit(False)))
            .join(lockstep(per_actor, users, settings), key, "left")
            .withColumn("lockstep", F.coalesce(F.col("lockstep"), F.lit(False)))
            .join(repeats(rows), key)
            .withColumn("repeating", F.col("max_repeats") >= settings.min_repeats)
            .withColumn(
                "suspicious",
                F.col("new")
                | F.col("young")
                | F.col("sole")
                | F.col("shared_device")
                | F.col("lockstep")
                | F.col("repeating"),
            )
        )

    return transform
