"""Credit tiers: each public account's tier for every day judged, kept as a history of spells.

A row of `account_tiers` is a spell: the tier held from valid_from (inclusive) to valid_to (exclusive,
null while current), with the rule and the finding ids that put it there. A run recomputes the daily tiers
of its days and splices them into the history, so a rerun of a day writes the same rows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from accountwatch.jobs.core.config import TierPolicy

TIER_COLUMNS = ("account_id", "tier", "rule", "reasons", "policy_version", "valid_from", "valid_to", "is_current")


def _choice(tier: str, rule: str, reasons: Column) -> Column:
    return F.struct(F.lit(tier).alias("tier"), F.lit(rule).alias("rule"), reasons.alias("reasons"))


def _ids(condition: Column) -> Column:
    return F.array_sort(F.collect_set(F.when(condition, F.col("finding_id"))))


# Long: the tier rules of defaults.toml as one ordered chain of conditions, with each rule's reasons.
def daily_tiers(findings: DataFrame, blacklisted: DataFrame, policy: TierPolicy) -> Callable[[DataFrame], DataFrame]:
    """Each snapshot row's tier for its run_date (account_id, run_date, tier, rule, reasons).

    `findings` are the findings that count (not dismissed): finding_id, run_date, account_id, severity.
    `blacklisted` are active blacklist rows: entity_type, entity_id, listed_on, finding_ids.
    """

    def transform(snapshots: DataFrame) -> DataFrame:
        days = snapshots.select(
            "run_date", "account_id", "subject_id", "registered_at", "last_login_at", "last_publish_at"
        )
        seen = findings.select(
            F.col("account_id").alias("_account"), F.col("run_date").alias("_found_on"), "finding_id", "severity"
        )
        in_clean_window = (
            (F.col("_account") == F.col("account_id"))
            & (F.col("_found_on") <= F.col("run_date"))
            & (F.col("_found_on") > F.date_sub("run_date", policy.trusted_clean_days))
        )
        watched = F.col("_found_on") > F.date_sub("run_date", policy.watch_days)
        counted = (
            days.join(seen, in_clean_window, "left")
            .groupBy("run_date", "account_id", "registered_at", "last_login_at", "last_publish_at")
            .agg(
                _ids(watched & (F.col("severity") == "high")).alias("high_ids"),
                _ids(watched & F.col("severity").isin("medium", "high")).alias("serious_ids"),
                _ids(watched).alias("watch_ids"),
                F.count("finding_id").alias("clean_window_findings"),
            )
        )
        listed = blacklisted.select("entity_type", "entity_id", "listed_on", "finding_ids")
        on_list = (
            days.join(
                listed,
                (
                    ((F.col("entity_type") == "account") & (F.col("entity_id") == F.col("account_id")))
                    | ((F.col("entity_type") == "subject") & (F.col("entity_id") == F.col("subject_id")))
                )
                & (F.col("listed_on") <= F.col("run_date")),
            )
            .groupBy("run_date", "account_id")
            .agg(F.array_sort(F.array_distinct(F.flatten(F.collect_list("finding_ids")))).alias("listed_ids"))
        )
        end_of_day = F.to_timestamp(F.date_add("run_date", 1))
        old_enough = F.col("registered_at") < F.to_timestamp(
            F.date_sub(F.date_add("run_date", 1), policy.trusted_min_age_days)
        )
        last_use = F.greatest("last_login_at", "last_publish_at")
        used_recently = last_use >= end_of_day - F.expr(f"INTERVAL {policy.trusted_recent_use_days} DAYS")
        no_ids = F.array().cast("array<string>")
        chosen = (
            F.when(F.col("listed_ids").isNotNull(), _choice("D", "blacklisted", F.col("listed_ids")))
            .when(F.size("high_ids") >= 1, _choice("D", "high_severity_finding", F.col("high_ids")))
            .when(
                F.size("serious_ids") >= policy.restrict_medium_findings,
                _choice("D", "medium_severity_findings", F.col("serious_ids")),
            )
            .when(F.size("watch_ids") >= 1, _choice("C", "recent_finding", F.col("watch_ids")))
            .when(
                old_enough & (F.col("clean_window_findings") == 0) & F.coalesce(used_recently, F.lit(False)),
                _choice("A", "trusted", no_ids),
            )
            .otherwise(_choice("B", "normal", no_ids))
        )
        return (
            counted.join(on_list, ["run_date", "account_id"], "left")
            .withColumn("_chosen", chosen)
            .select(
                "account_id",
                "run_date",
                "_chosen.tier",
                "_chosen.rule",
                "_chosen.reasons",
            )
        )

    return transform


def spliced_history(
    history: DataFrame, daily: DataFrame, start: date, end: date, last_tiered: date | None, policy_version: str
) -> DataFrame:
    """The spells from the one valid on start - 1 onward, with the days start..end recomputed.

    A spell is a run of days with the same tier, rule and policy version.

    Spells already written for days after `end` (up to `last_tiered`) are kept as they were.
    """
    before = history.where(
        (F.col("valid_from") < F.lit(start)) & (F.col("valid_to").isNull() | (F.col("valid_to") >= F.lit(start)))
    ).select("account_id", "tier", "rule", "reasons", "policy_version", "valid_from")
    recomputed = daily.select(
        "account_id",
        "tier",
        "rule",
        "reasons",
        F.lit(policy_version).alias("policy_version"),
        F.col("run_date").alias("valid_from"),
    )
    spells = before.unionByName(recomputed)
    if last_tiered is not None and last_tiered > end:
        after_start = end + timedelta(days=1)
        after = history.where(F.col("valid_to").isNull() | (F.col("valid_to") > F.lit(after_start))).select(
            "account_id",
            "tier",
            "rule",
            "reasons",
            "policy_version",
            F.greatest("valid_from", F.lit(after_start)).alias("valid_from"),
        )
        spells = spells.unionByName(after)
    order = Window.partitionBy("account_id").orderBy("valid_from")
    # A new spell starts when the tier, the rule behind it or the policy changes; new findings under the
    # same rule do not start one.
    previous = F.lag(F.struct("tier", "rule", "policy_version")).over(order)
    changes = spells.withColumn("_previous", previous).where(
        F.col("_previous").isNull() | (F.col("_previous") != F.struct("tier", "rule", "policy_version"))
    )
    return (
        changes.withColumn("valid_to", F.lead("valid_from").over(order))
        .withColumn("is_current", F.col("valid_to").isNull())
        .select(*TIER_COLUMNS)
    )


def history_slice(start: date) -> str:
    """The rows a splice from `start` rewrites: the spells valid on start - 1 or later."""
    return f"(valid_to IS NULL OR valid_to >= DATE'{start.isoformat()}')"
