from __future__ import annotations

from datetime import date

from chispa import assert_df_equality
from pyspark.sql import functions as F

from accountwatch.jobs.detectors.shaping import finding_id, new_in_condition

SNAPSHOT = (
    "run_date date, account_id string, account_type string, subject_id string, subject_type string, "
    "registered_at timestamp, status string, last_login_at timestamp, last_publish_at timestamp"
)


def snapshot(spark, rows):
    return spark.createDataFrame(rows, SNAPSHOT)


def flagged(frame) -> list[str]:
    return sorted(row["account_id"] for row in frame.select("account_id").collect())


def test_new_in_condition_flags_only_accounts_not_in_condition_the_previous_judged_day(spark):
    condition = spark.createDataFrame(
        [
            ("dormant_account", date(2026, 8, 1), "still"),
            ("dormant_account", date(2026, 8, 2), "still"),
            ("dormant_account", date(2026, 8, 2), "new"),
            ("dormant_account", date(2026, 8, 1), "came_back"),
            ("dormant_account", date(2026, 8, 3), "came_back"),
        ],
        "detector string, run_date date, account_id string",
    )
    previous = spark.createDataFrame(
        [
            ("dormant_account", date(2026, 8, 2), date(2026, 8, 1)),
            ("dormant_account", date(2026, 8, 3), date(2026, 8, 2)),
        ],
        "detector string, run_date date, previous_run_date date",
    )
    expected = spark.createDataFrame(
        [("dormant_account", date(2026, 8, 2), "new"), ("dormant_account", date(2026, 8, 3), "came_back")],
        "detector string, run_date date, account_id string",
    )
    result = condition.transform(new_in_condition(previous)).select("detector", "run_date", "account_id")
    assert_df_equality(result, expected, ignore_row_order=True, ignore_nullable=True)


def test_first_judged_day_flags_everything_in_condition(spark):
    condition = spark.createDataFrame(
        [("quota_overrun", date(2026, 8, 1), "a"), ("quota_overrun", date(2026, 8, 1), "b")],
        "detector string, run_date date, account_id string",
    )
    previous = spark.createDataFrame(
        [("quota_overrun", date(2026, 8, 1), None)], "detector string, run_date date, previous_run_date date"
    )
    assert flagged(condition.transform(new_in_condition(previous))) == ["a", "b"]


def test_finding_id_is_stable_and_distinct_per_day_detector_and_account(spark):
    rows = spark.createDataFrame(
        [
            (date(2026, 8, 1), "dormant_account", "a"),
            (date(2026, 8, 1), "dormant_account", "a"),
            (date(2026, 8, 2), "dormant_account", "a"),
            (date(2026, 8, 1), "quota_overrun", "a"),
        ],
        "run_date date, detector string, account_id string",
    )
    ids = [
        row[0] for row in rows.select(finding_id(F.col("run_date"), F.col("detector"), F.col("account_id"))).collect()
    ]
    assert ids[0] == ids[1] and len(set(ids)) == 3
