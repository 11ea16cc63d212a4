from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from pyspark.sql import functions as F

from accountwatch.jobs.detectors.dormant_account import (
    add_months,
    dormancy_cutoff,
    dormancy_history_gap,
    dormant_accounts,
    dormant_evidence,
)
from accountwatch.jobs.ingest.landing import days_between

SNAPSHOT = (
    "run_date date, account_id string, account_type string, subject_id string, subject_type string, "
    "registered_at timestamp, status string, last_login_at timestamp, last_publish_at timestamp"
)
OLD = datetime(2024, 1, 1)


def snapshot(spark, rows):
    return spark.createDataFrame(rows, SNAPSHOT)


def flagged(frame) -> list[str]:
    return sorted(row["account_id"] for row in frame.select("account_id").collect())


def test_cutoff_of_31_august_is_end_of_last_day_of_february(spark):
    days = spark.createDataFrame([(date(2026, 8, 31),), (date(2028, 8, 31),), (date(2026, 8, 15),)], "run_date date")
    cutoffs = [row[0] for row in days.select(dormancy_cutoff(F.col("run_date"), 6)).collect()]
    assert cutoffs == [datetime(2026, 3, 1), datetime(2028, 3, 1), datetime(2026, 2, 16)]


def test_dormant_flags_account_silent_for_six_calendar_months(spark):
    day = date(2026, 8, 31)
    rows = [
        (day, "silent", "public", "s1", "individual", OLD, "active", datetime(2026, 2, 28, 23, 59, 59), None),
        (day, "used_in_window", "public", "s2", "individual", OLD, "active", datetime(2026, 3, 1, 0, 0, 1), None),
        (day, "published_recently", "public", "s3", "individual", OLD, "active", None, datetime(2026, 8, 1)),
        (day, "never_used", "public", "s4", "individual", OLD, "active", None, None),
    ]
    assert flagged(snapshot(spark, rows).transform(dormant_accounts(6))) == ["never_used", "silent"]


def test_dormant_counts_an_event_exactly_at_the_cutoff_as_use(spark):
    day = date(2026, 8, 31)
    rows = [
        (day, "at_cutoff", "public", "s1", "individual", OLD, "active", datetime(2026, 3, 1), None),
        (
            day,
            "just_before",
            "public",
            "s1",
            "individual",
            OLD,
            "active",
            datetime(2026, 2, 28, 23, 59, 59, 999999),
            None,
        ),
    ]
    assert flagged(snapshot(spark, rows).transform(dormant_accounts(6))) == ["just_before"]


def test_dormant_ignores_suspended_closed_user_and_young_accounts(spark):
    day = date(2026, 8, 31)
    rows = [
        (day, "suspended", "public", "s1", "individual", OLD, "suspended", None, None),
        (day, "closed", "public", "s1", "individual", OLD, "closed", None, None),
        (day, "user", "user", None, None, OLD, "active", None, None),
        (day, "registered_at_cutoff", "public", "s1", "individual", datetime(2026, 3, 1), "active", None, None),
        (
            day,
            "registered_before_cutoff",
            "public",
            "s1",
            "individual",
            datetime(2026, 2, 28, 12),
            "active",
            None,
            None,
        ),
    ]
    assert flagged(snapshot(spark, rows).transform(dormant_accounts(6))) == ["registered_before_cutoff"]


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 8, 31), date(2026, 2, 28)),
        (date(2028, 8, 31), date(2028, 2, 29)),
        (date(2026, 3, 15), date(2025, 9, 15)),
    ],
)
def test_add_months_clamps_to_the_shorter_month(day, expected):
    assert add_months(day, -6) == expected


def test_dormancy_needs_every_day_of_the_six_months_loaded():
    day = date(2026, 8, 31)
    full = set(days_between(date(2026, 3, 1), day))
    assert dormancy_history_gap(day, 6, full) is None
    gap = dormancy_history_gap(day, 6, full - {date(2026, 3, 1)})
    assert gap is not None and "history too short" in gap and "2026-03-01" in gap


def test_dormant_evidence_names_the_cutoff_and_last_use(spark):
    day = date(2026, 8, 31)
    rows = [(day, "silent", "public", "s1", "individual", OLD, "active", datetime(2026, 1, 10), datetime(2026, 1, 5))]
    evidence = snapshot(spark, rows).transform(dormant_accounts(6)).transform(dormant_evidence(6)).collect()[0]
    payload = json.loads(evidence["evidence"])
    assert payload["cutoff"].startswith("2026-03-01T00:00:00")
    assert payload["last_login_at"].startswith("2026-01-10") and payload["last_publish_at"].startswith("2026-01-05")
    assert evidence["severity"] == "low" and evidence["score"] > 7
