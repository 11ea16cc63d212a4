"""account_hoarding: many public accounts registered and then left unused, held by one subject or one operator.

An account is idle on D when it is not closed and it has never published although registered more than
`unused_after_registration_days` before the end of D, or its last publish is more than `unused_days` before it.
A holding is in the condition when it reaches `min_accounts`:

- per subject: the subject's idle accounts;
- per operator across subjects: the idle accounts the operator has logged in to or published on (from the compact
  `account_operators` state), plus the accounts the operator took over in the `takeover_days` up to D when they had
  aged unused (registered more than `unused_after_registration_days` before, no publish in the `unused_days`
  before the operator's first use): bought aged stock is put to use at once, so it need not stay idle to count.

Like `dormant_account` this is a `SpellRule`, so an account is flagged on the first judged day it is in a holding
(the day the holding reaches the threshold, or the day a further account joins it). Subjects and agency operators
whose many accounts publish, and holders below the threshold, are never flagged.

Judged on the daily account snapshots (their latest publish), the operators' first use of each account and the
compact daily publish counts of the window before a takeover; a day is judged only once the engagement of the
`unused_days` before it is loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Any

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from accountwatch.jobs.core.config import HoardingSettings, Settings
from accountwatch.jobs.detectors.base import (
    Detector,
    FindingView,
    RawRows,
    Scoring,
    SpellInputs,
    SpellRule,
    evidence_field,
)

NAME = "account_hoarding"


def _days_before(stamp: Column, days: int) -> Column:
    return stamp - F.expr(f"INTERVAL {days} DAYS")


def idle(settings: HoardingSettings) -> Column:
    """Whether a snapshot row's public account is unused at the end of its run_date."""
    end_of_day = F.to_timestamp(F.date_add("run_date", 1))
    never_used = F.col("last_publish_at").isNull() & (
        F.col("registered_at") < _days_before(end_of_day, settings.unused_after_registration_days)
    )
    gone_quiet = F.col("last_publish_at") < _days_before(end_of_day, settings.unused_days)
    return (
        (F.col("account_type") == "public")
        & (F.col("status") != "closed")
        & F.col("subject_id").isNotNull()
        & (never_used | gone_quiet)
    )


def aged_takeovers(
    operators: DataFrame, publishes: DataFrame, registrations: DataFrame, settings: HoardingSettings
) -> DataFrame:
    """(account_id, actor_id, taken_over_on): an operator's first use of an account that had aged unused by then.

    `operators` holds `account_operators` rows (first_seen_on), `publishes` the (account_id, event_date,
    ingest_date) of days with a publish, `registrations` each account's registered_at. Only publishes delivered
    by the takeover day count, so a backfill and nightly runs see the same takeovers.
    """
    first = operators.select("account_id", "actor_id", F.col("first_seen_on").alias("taken_over_on"))
    aged = first.join(registrations, "account_id").where(
        F.col("registered_at") < _days_before(F.to_timestamp("taken_over_on"), settings.unused_after_registration_days)
    )
    used_before = aged.alias("t").join(
        publishes.alias("p"),
        (F.col("t.account_id") == F.col("p.account_id"))
        & (F.col("p.event_date") < F.col("t.taken_over_on"))
        & (F.col("p.event_date") >= F.date_sub(F.col("t.taken_over_on"), settings.unused_days))
        & (F.col("p.ingest_date") <= F.col("t.taken_over_on")),
        "left_semi",
    )
    return aged.join(used_before, ["account_id", "actor_id", "taken_over_on"], "left_anti").select(
        "account_id", "actor_id", "taken_over_on"
    )


def _subject_holdings(rows: DataFrame, settings: HoardingSettings) -> DataFrame:
    holding = Window.partitionBy("run_date", "subject_id")
    return (
        rows.where("_idle")
        .withColumn("idle_accounts", F.array_sort(F.collect_list("account_id").over(holding)))
        .withColumn("idle_count", F.size("idle_accounts"))
        .where(F.col("idle_count") >= settings.min_accounts)
        .withColumn("holder", F.lit("subject"))
        .withColumn("operator_id", F.lit(None).cast("string"))
        .withColumn("taken_over", F.array().cast("array<string>"))
    )


def _operator_holdings(
    rows: DataFrame, operators: DataFrame, takeovers: DataFrame | None, settings: HoardingSettings
) -> DataFrame:
    """Snapshot rows of each operator's holding that reaches the threshold, with the holding's accounts."""
    idle_used = (
        rows.where("_idle")
        .join(operators.select("account_id", F.col("actor_id").alias("operator_id"), "first_seen_on"), "account_id")
        .where(F.col("first_seen_on") <= F.col("run_date"))
        .select(*rows.columns, "operator_id", F.lit(False).alias("_taken"))
    )
    if takeovers is not None:
        taken = (
            rows.join(
                takeovers.select("account_id", F.col("actor_id").alias("operator_id"), "taken_over_on"), "account_id"
            )
            .where(
                (F.col("taken_over_on") <= F.col("run_date"))
                & (F.col("taken_over_on") > F.date_sub("run_date", settings.takeover_days))
            )
            .select(*rows.columns, "operator_id", F.lit(True).alias("_taken"))
        )
        idle_used = idle_used.unionByName(taken)
    members = idle_used.groupBy(*rows.columns, "operator_id").agg(F.max("_taken").alias("_taken"))
    holding = Window.partitionBy("run_date", "operator_id")
    return (
        members.withColumn("idle_accounts", F.array_sort(F.collect_list("account_id").over(holding)))
        .withColumn(
            "taken_over",
            F.array_sort(F.collect_list(F.when(F.col("_taken"), F.col("account_id"))).over(holding)),
        )
        .withColumn("idle_count", F.size("idle_accounts"))
        .where(F.col("idle_count") >= settings.min_accounts)
        .withColumn("holder", F.lit("operator"))
        .drop("_taken")
    )


def hoarded_accounts(
    settings: HoardingSettings, operators: DataFrame | None = None, takeovers: DataFrame | None = None
) -> Callable[[DataFrame], DataFrame]:
    """Accounts in a holding of at least `min_accounts`, per run_date: one row per account, its largest holding.

    Without `operators` (and `takeovers`) only the subjects' holdings are judged.
    """

    def transform(snapshots: DataFrame) -> DataFrame:
        rows = snapshots.withColumn("_idle", idle(settings))
        held = _subject_holdings(rows, settings)
        if operators is not None:
            found = _operator_holdings(rows, operators, takeovers, settings)
            held = held.unionByName(found.select(*held.columns))
        first = Window.partitionBy("run_date", "account_id").orderBy(
            F.when(F.col("holder") == "subject", 0).otherwise(1), F.desc("idle_count"), F.col("operator_id")
        )
        return held.withColumn("_rank", F.row_number().over(first)).where(F.col("_rank") == 1).drop("_rank", "_idle")

    return transform


def holdings(inputs: SpellInputs) -> Callable[[DataFrame], DataFrame]:
    """The condition of the run: subjects' and operators' holdings, from the compact operator and daily state."""
    settings = inputs.settings.hoarding
    lake = inputs.lake
    operators = lake.read("account_operators").where(F.col("first_seen_on") <= F.lit(inputs.end))
    window_start = inputs.start - timedelta(days=settings.takeover_days)
    recent = operators.where(F.col("first_seen_on") > F.lit(window_start))
    publishes = (
        lake.read("account_daily")
        .where(
            (F.col("publishes") > 0)
            & (F.col("event_date") >= F.lit(window_start - timedelta(days=settings.unused_days)))
            & (F.col("ingest_date") <= F.lit(inputs.end))
        )
        .select("account_id", "event_date", "ingest_date")
    )
    registrations = lake.read("accounts").where(F.col("account_type") == "public").select("account_id", "registered_at")
    takeovers = aged_takeovers(recent, publishes, registrations, settings)
    return hoarded_accounts(settings, operators, takeovers)


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
                    "holder",
                    "subject_id",
                    "operator_id",
                    "subject_type",
                    "idle_count",
                    F.slice("idle_accounts", 1, settings.max_listed_accounts).alias("idle_accounts"),
                    F.slice("taken_over", 1, settings.max_listed_accounts).alias("taken_over"),
                    F.lit(settings.min_accounts).alias("min_accounts"),
                    "registered_at",
                    "last_login_at",
                    "last_publish_at",
                    F.lit(settings.unused_days).alias("unused_days"),
                    F.lit(settings.unused_after_registration_days).alias("unused_after_registration_days"),
                    F.lit(settings.takeover_days).alias("takeover_days"),
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
    if evidence.get("holder") == "operator":
        taken = len(evidence.get("taken_over") or [])
        aged = f", {taken} of them taken over after they had aged unused" if taken else ""
        return (
            f"one of {evidence.get('idle_count')} unused public accounts operated by {evidence.get('operator_id')} "
            f"across subjects{aged} (threshold {evidence.get('min_accounts')}); last publish {last}"
        )
    return (
        f"one of {evidence.get('idle_count')} unused public accounts of subject {evidence.get('subject_id')} "
        f"(threshold {evidence.get('min_accounts')}); last publish {last}"
    )


def raw_rows(finding: FindingView) -> RawRows:
    """The subject's accounts, or the accounts of the operator's holding."""
    if finding.evidence.get("holder") == "operator":
        return RawRows(accounts=tuple(("account_id", account) for account in finding.evidence["idle_accounts"]))
    return RawRows(accounts=(("subject_id", finding.evidence["subject_id"]),))


def evidence_key() -> list[Column]:
    """A hoard is its holder and its accounts."""
    return [evidence_field("$.subject_id"), evidence_field("$.operator_id"), evidence_field("$.idle_accounts")]


DETECTOR = Detector(
    name=NAME,
    rule="no hoarding of accounts (2020 draft, art. 18(8))",
    section=NAME,
    reads=("account_changes", "account_daily", "accounts", "account_activity", "account_operators", "loaded_days"),
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
        condition=holdings,
        candidates=lambda settings: hoarding_evidence(settings.hoarding),
    ),
    history_gap=history_gap,
)
