"""quota_overrun: the public accounts that take their subject past its limit of accounts that are not closed.

Judged on daily account snapshots (see `dormant_account`); flagged on the first day beyond the limit (a
`SpellRule`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from accountwatch.jobs.detectors.base import (
    BlacklistRole,
    Detector,
    FindingView,
    RawRows,
    Scoring,
    SpellRule,
    evidence_field,
)

NAME = "quota_overrun"


def quota_limit(limits: dict[str, int]) -> Column:
    """The configured limit for the row's subject_type."""
    mapping = F.create_map(*[item for name, limit in sorted(limits.items()) for item in (F.lit(name), F.lit(limit))])
    return F.coalesce(mapping[F.col("subject_type")], F.lit(limits["other"]))


def quota_overruns(limits: dict[str, int]) -> Callable[[DataFrame], DataFrame]:
    """Public accounts beyond their subject's limit of accounts that are not closed, in registration order.

    Registration-time ties are broken by account_id; the subject's type is that of its first live account.
    """

    def transform(snapshots: DataFrame) -> DataFrame:
        live = snapshots.where(
            (F.col("account_type") == "public") & (F.col("status") != "closed") & F.col("subject_id").isNotNull()
        )
        by_subject = Window.partitionBy("run_date", "subject_id")
        in_order = by_subject.orderBy("registered_at", "account_id")
        ranked = (
            live.withColumn("rank", F.row_number().over(in_order))
            .withColumn("subject_type", F.first("subject_type").over(in_order))
            .withColumn("limit", quota_limit(limits))
            .withColumn(
                "live_accounts",
                F.transform(
                    F.array_sort(F.collect_list(F.struct("registered_at", "account_id")).over(by_subject)),
                    lambda entry: F.struct(
                        entry["account_id"].alias("account_id"), entry["registered_at"].alias("registered_at")
                    ),
                ),
            )
        )
        return ranked.where(F.col("rank") > F.col("limit"))

    return transform


def quota_evidence(over_quota: DataFrame) -> DataFrame:
    """Finding columns for over-quota accounts: how far beyond the limit, with the subject's live accounts."""
    beyond = F.col("rank") - F.col("limit")
    return over_quota.select(
        "run_date",
        "account_id",
        "subject_id",
        F.when(F.col("rank") > 2 * F.col("limit"), "high").otherwise("medium").alias("severity"),
        beyond.cast("double").alias("score"),
        F.to_json(
            F.struct("subject_id", "subject_type", "limit", "rank", "registered_at", "live_accounts"),
            {"ignoreNullFields": "false"},
        ).alias("evidence"),
    )


def sentence(evidence: dict[str, Any]) -> str:
    """What a quota_overrun finding shows, in one sentence."""
    return (
        f"public account {evidence.get('rank')} of subject {evidence.get('subject_id')} "
        f"({evidence.get('subject_type')}, limit {evidence.get('limit')})"
    )


def raw_rows(finding: FindingView) -> RawRows:
    """The subject's accounts."""
    return RawRows(accounts=(("subject_id", finding.evidence["subject_id"]),))


def evidence_key() -> list[Column]:
    """An overrun is the subject's live accounts at the time."""
    return [evidence_field("$.subject_id"), evidence_field("$.live_accounts[*].account_id")]


DETECTOR = Detector(
    name=NAME,
    rule="cap the public accounts one real-name subject registers",
    section=NAME,
    reads=("account_changes", "account_daily", "accounts", "account_activity"),
    phase="before_blacklist",
    severities=("medium", "high"),
    sentence=sentence,
    raw_rows=raw_rows,
    evidence_key=evidence_key,
    scoring=Scoring(case="account", planted=lambda truth: truth.quota_overrun),
    blacklist_role=BlacklistRole.SUBJECT_OVERRUN,
    spell=SpellRule(
        condition=lambda inputs: quota_overruns(inputs.settings.quota_limits),
        candidates=lambda settings: quota_evidence,
    ),
)
