"""What every detector's finding candidates share: the once-per-spell step, ids, evidence keys and actions.

Candidates are rows (run_date, detector, account_id, subject_id, severity, score, evidence); `as_findings`
shapes them as `findings` rows.
"""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from accountwatch.jobs.detectors import registry


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


def evidence_key_parts() -> dict[str, list[Column]]:
    """The parts of a finding that make it "the same evidence" as another of its detector for its account."""
    return {detector.name: detector.evidence_key() for detector in registry.DETECTORS}


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
