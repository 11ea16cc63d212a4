"""The rule detectors, dormant_account and quota_overrun, as DataFrame transformations.

Both take daily account snapshots: one row per run_date and account with the account's state and latest
operator use as of the end of that day (columns of `schemas.accounts.ACCOUNTS` plus run_date,
last_login_at, last_publish_at).
"""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F


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


def new_in_condition(previous_judged_day: DataFrame) -> Callable[[DataFrame], DataFrame]:
    """Keep the rows whose account was not in the condition on the previous judged day.

    `previous_judged_day` maps each run_date to the detector's previous judged day (null when there is
    none); the input holds the condition rows of the judged days and of that previous day.
    """

    def transform(condition: DataFrame) -> DataFrame:
        earlier = condition.select("detector", "account_id", F.col("run_date").alias("previous_run_date")).withColumn(
            "_was", F.lit(True)
        )
        with_previous = condition.join(previous_judged_day, ["detector", "run_date"], "inner")
        return (
            with_previous.join(earlier, ["detector", "account_id", "previous_run_date"], "left")
            .where(F.col("_was").isNull())
            .drop("_was", "previous_run_date")
        )

    return transform


def finding_id(run_date: Column, detector: Column, account_id: Column) -> Column:
    """Stable id: the same run date, detector and account always give the same id."""
    return F.substring(F.sha2(F.concat_ws("|", run_date.cast("string"), detector, account_id), 256), 1, 32)


def _evidence(path: str) -> Column:
    return F.coalesce(F.get_json_object("evidence", path), F.lit(""))


def evidence_key_parts() -> dict[str, list[Column]]:
    """The parts of a finding that make it "the same evidence" as another of its detector for its account.

    A spike day is its own evidence; an account registers once; a dormant spell is its last use; an overrun
    is the subject's live accounts at the time; a barred registration is the subject or the names matched.
    """
    return {
        "fake_follower_spike": [F.col("run_date").cast("string")],
        "batch_registration": [],
        "dormant_account": [_evidence("$.last_login_at"), _evidence("$.last_publish_at")],
        "quota_overrun": [_evidence("$.subject_id"), _evidence("$.live_accounts[*].account_id")],
        "blacklisted_subject_registration": [_evidence("$.subject_id")],
        "closed_name_reregistration": [_evidence("$.matches[*].account_id")],
    }


def evidence_key() -> Column:
    """A hash of the detector, the account and the evidence parts that identify what was seen."""
    parts = F.lit("")
    for name, columns in evidence_key_parts().items():
        parts = F.when(F.col("detector") == name, F.concat_ws("|", F.lit(""), *columns)).otherwise(parts)
    return F.substring(F.sha2(F.concat_ws("|", F.col("detector"), F.col("account_id"), parts), 256), 1, 32)


def _lookup(mapping: dict[str, str], key: Column) -> Column:
    literal_map = F.create_map(
        *[item for name, value in sorted(mapping.items()) for item in (F.lit(name), F.lit(value))]
    )
    return literal_map[key]


def as_findings(rule_versions: dict[str, str], actions: dict[str, dict[str, str]]) -> Callable[[DataFrame], DataFrame]:
    """Shape detector rows (run_date, detector, account_id, subject_id, severity, score, evidence) as findings.

    `actions` maps detector and severity to the recommended measure.
    """
    by_severity = {
        f"{detector}/{severity}": action for detector, row in actions.items() for severity, action in row.items()
    }

    def transform(rows: DataFrame) -> DataFrame:
        return rows.select(
            finding_id(F.col("run_date"), F.col("detector"), F.col("account_id")).alias("finding_id"),
            "run_date",
            "detector",
            "account_id",
            "subject_id",
            "severity",
            "score",
            "evidence",
            _lookup(rule_versions, F.col("detector")).alias("rule_version"),
            _lookup(by_severity, F.concat_ws("/", "detector", "severity")).alias("recommended_action"),
            evidence_key().alias("evidence_key"),
        )

    return transform
