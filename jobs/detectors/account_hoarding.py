"""account_hoarding: a subject holding many public accounts it registered and then left unused.

An account is idle on D when it is not closed and it has never published although registered more than
`unused_after_registration_days` before the end of D, or its last publish is more than `unused_days` before it.
When one subject holds at least `min_accounts` idle accounts, each of them is in the condition; like
`dormant_account` this is a `SpellRule`, so an account is flagged on the first judged day it is in it (the day the
holding reaches the threshold, or the day a further account of a hoard goes idle). Subjects whose many accounts
publish, and holders below the threshold, are never flagged.

Judged on the daily account snapshots (their latest publish); a day is judged only once the engagement of the
`unused_days` before it is loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Any

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from accountwatch.jobs.core.config import HoardingSettings, Settings
from accountwatch.jobs.detectors.base import Detector, FindingView, RawRows, Scoring, SpellRule, evidence_field

NAME = "account_hoarding"


def hoarded_accounts(settings: HoardingSettings) -> Callable[[DataFrame], DataFrame]:
    """Idle public accounts of subjects holding at least `min_accounts` idle accounts, per run_date."""

    def transform(snapshots: DataFrame) -> DataFrame:
        end_of_day = F.to_timestamp(F.date_add("run_date", 1))
        never_used = F.col("last_publish_at").isNull() & (
            F.col("registered_at") < end_of_day - F.expr(f"INTERVAL {settings.unused_after_registration_days} DAYS")
        )
        gone_quiet = F.col("last_publish_at") < end_of_day - F.expr(f"INTERVAL {settings.unused_days} DAYS")
        idle = snapshots.where(
            (F.col("account_type") == "public")
            & (F.col("status") != "closed")
            & F.col("subject_id").isNotNull()
            & (never_used | gone_quiet)
        )
        holding = Window.partitionBy("run_date", "subject_id")
        return (
            idle.withColumn("idle_accounts", F.array_sort(F.collect_list("account_id").over(holding)))
            .withColumn("idle_count", F.size("idle_accounts"))
            .where(F.col("idle_count") >= settings.min_accounts)
        )

    return transform


def hoarding_evidence(settings: HoardingSettings) -> Callable[[DataFrame], DataFrame]:
    """Finding columns: high from twice the threshold, medium below."""

    def transform(hoarded: DataFrame) -> DataFrame:
        return hoarded.select(
            "run_date",
            "account_id",
            "subject_id",
            F.when(F.col("idle_count") >= 2 * settings.min_accounts, "high").otherwise("medium").alias("severity"),
            F.col("idle_count").cast("double").alias("score"),
            F.to_json(
                F.struct(
                    "subject_id",
                    "subject_type",
                    "idle_count",
                    F.slice("idle_accounts", 1, settings.max_listed_accounts).alias("idle_accounts"),
                    F.lit(settings.min_accounts).alias("min_accounts"),
                    "registered_at",
                    "last_login_at",
                    "last_publish_at",
                    F.lit(settings.unused_days).alias("unused_days"),
                    F.lit(settings.unused_after_registration_days).alias("unused_after_registration_days"),
                ),
                {"ignoreNullFields": "false"},
            ).alias("evidence"),
        )

    return transform


def history_gap(day: date, settings: Settings, loaded: Mapping[str, set[date]]) -> str | None:
    """Why the loaded engagement cannot tell whether the accounts published in the `unused_days` before `day`."""
    days = settings.hoarding.unused_days
    needed = [day - timedelta(days=offset) for offset in range(days)]
    missing = sorted(set(needed) - loaded["engagement"])
    if not missing:
        return None
    return (
        f"history too short: engagement is loaded for {days - len(missing)} of the {days} days "
        f"from {needed[-1].isoformat()} to {day.isoformat()} (first missing {missing[0].isoformat()})"
    )


def sentence(evidence: dict[str, Any]) -> str:
    """What an account_hoarding finding shows, in one sentence."""
    last = evidence.get("last_publish_at") or "never"
    return (
        f"one of {evidence.get('idle_count')} unused public accounts of subject {evidence.get('subject_id')} "
        f"(threshold {evidence.get('min_accounts')}); last publish {last}"
    )


def raw_rows(finding: FindingView) -> RawRows:
    """The subject's accounts."""
    return RawRows(accounts=(("subject_id", finding.evidence["subject_id"]),))


def evidence_key() -> list[Column]:
    """A hoard is its subject's idle accounts."""
    return [evidence_field("$.subject_id"), evidence_field("$.idle_accounts")]


DETECTOR = Detector(
    name=NAME,
    rule="no hoarding of accounts (2020 draft, art. 18(8))",
    section=NAME,
    reads=("account_changes", "account_daily", "accounts", "account_activity", "loaded_days"),
    phase="before_blacklist",
    severities=("medium", "high"),
    sentence=sentence,
    raw_rows=raw_rows,
    evidence_key=evidence_key,
    scoring=Scoring(
        case="account",
        planted=lambda truth: truth.account_hoarding,
        look_alikes=lambda truth: truth.hoarding_look_alikes,
    ),
    spell=SpellRule(
        condition=lambda settings: hoarded_accounts(settings.hoarding),
        candidates=lambda settings: hoarding_evidence(settings.hoarding),
    ),
    history_gap=history_gap,
)
