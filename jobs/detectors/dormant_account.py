"""dormant_account: an active public account with no login or publish in the months before the end of the day.

Judged on daily account snapshots: one row per run_date and account with the account's state and latest
operator use as of the end of that day (columns of `schemas.accounts.ACCOUNTS` plus run_date,
last_login_at, last_publish_at). Flagged once per dormant spell (a `SpellRule`).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from accountwatch.jobs.core.config import Settings
from accountwatch.jobs.detectors.base import Detector, FindingView, RawRows, Scoring, SpellRule, evidence_field
from accountwatch.jobs.ingest.landing import days_between

NAME = "dormant_account"


def add_months(day: date, months: int) -> date:
    """Calendar months added to a day, clamped to the end of a shorter month (as Spark's add_months)."""
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def dormancy_history_gap(day: date, months: int, loaded: set[date]) -> str | None:
    """Why the loaded engagement logs cannot judge dormancy on `day`, or None when they cover the window."""
    first_needed = add_months(day, -months) + timedelta(days=1)
    needed = days_between(first_needed, day)
    missing = [d for d in needed if d not in loaded]
    if not missing:
        return None
    return (
        f"history too short: engagement is loaded for {len(needed) - len(missing)} of the {len(needed)} days "
        f"from {first_needed.isoformat()} to {day.isoformat()} (first missing {missing[0].isoformat()})"
    )


def dormancy_cutoff(run_date: Column, months: int) -> Column:
    """The end of run_date minus `months` calendar months: the end of the same day `months` earlier.

    add_months clamps to the month's last day, so the end of 31 August minus six months is the end of
    the last day of February.
    """
    return F.to_timestamp(F.date_add(F.add_months(run_date, -months), 1))


def dormant_accounts(months: int) -> Callable[[DataFrame], DataFrame]:
    """Active public accounts registered before the cut-off with no login or publish since it.

    An event exactly at the cut-off counts as use.
    """

    def transform(snapshots: DataFrame) -> DataFrame:
        cutoff = dormancy_cutoff(F.col("run_date"), months)
        last_use = F.greatest("last_login_at", "last_publish_at")
        return (
            snapshots.withColumn("cutoff", cutoff)
            .where(
                (F.col("account_type") == "public")
                & (F.col("status") == "active")
                & (F.col("registered_at") < F.col("cutoff"))
                & (last_use.isNull() | (last_use < F.col("cutoff")))
            )
            .withColumn("last_used_at", last_use)
        )

    return transform


def dormant_evidence(months: int) -> Callable[[DataFrame], DataFrame]:
    """Finding columns for dormant accounts: silent months as score, the timestamps as evidence."""

    def transform(dormant: DataFrame) -> DataFrame:
        end_of_day = F.to_timestamp(F.date_add("run_date", 1))
        silent_months = F.months_between(end_of_day, F.coalesce("last_used_at", "registered_at"))
        return dormant.select(
            "run_date",
            "account_id",
            "subject_id",
            F.lit("low").alias("severity"),
            F.round(silent_months, 2).cast("double").alias("score"),
            F.to_json(
                F.struct(
                    "registered_at",
                    "last_login_at",
                    "last_publish_at",
                    F.col("cutoff").alias("cutoff"),
                    F.lit(months).alias("months"),
                    "status",
                ),
                {"ignoreNullFields": "false"},
            ).alias("evidence"),
        )

    return transform


def history_gap(day: date, settings: Settings, loaded: Mapping[str, set[date]]) -> str | None:
    """Why the loaded engagement cannot judge `day`, or None."""
    return dormancy_history_gap(day, settings.dormant_months, loaded["engagement"])


def sentence(evidence: dict[str, Any]) -> str:
    """What a dormant_account finding shows, in one sentence."""
    last = evidence.get("last_login_at") or evidence.get("last_publish_at") or "never"
    return (
        f"no login or publish in the {evidence.get('months')} months before {evidence.get('cutoff')}; "
        f"last login {evidence.get('last_login_at') or 'never'}, last publish "
        f"{evidence.get('last_publish_at') or 'never'} (latest use: {last})"
    )


def raw_rows(finding: FindingView) -> RawRows:
    """The account's last login and publish events, and the account."""
    uses = tuple(
        (finding.account_id, event_type, datetime.fromisoformat(finding.evidence[key]))
        for event_type, key in (("login", "last_login_at"), ("publish", "last_publish_at"))
        if finding.evidence.get(key)
    )
    return RawRows(uses=uses, accounts=(("account_id", finding.account_id),))


def evidence_key() -> list[Column]:
    """A dormant spell is its last use."""
    return [evidence_field("$.last_login_at"), evidence_field("$.last_publish_at")]


DETECTOR = Detector(
    name=NAME,
    rule="suspend accounts unused for six months",
    section=NAME,
    reads=("account_changes", "account_daily", "accounts", "account_activity", "loaded_days"),
    phase="before_blacklist",
    severities=("low",),
    sentence=sentence,
    raw_rows=raw_rows,
    evidence_key=evidence_key,
    scoring=Scoring(case="account", planted=lambda truth: truth.dormant_account),
    spell=SpellRule(
        condition=lambda inputs: dormant_accounts(inputs.settings.dormant_months),
        candidates=lambda settings: dormant_evidence(settings.dormant_months),
    ),
    history_gap=history_gap,
)
