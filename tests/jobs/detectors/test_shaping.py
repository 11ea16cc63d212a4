from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from accountwatch.jobs.detectors.run import add_months, dormancy_history_gap
from accountwatch.jobs.detectors.shaping import (
    dormancy_cutoff,
    dormant_accounts,
    finding_id,
    new_in_condition,
    quota_overruns,
)
from accountwatch.jobs.ingest.landing import days_between

SNAPSHOT = (
    "run_date date, account_id string, account_type string, subject_id string, subject_type string, "
    "registered_at timestamp, status string, last_login_at timestamp, last_publish_at timestamp"
)
LIMITS = {"individual": 2, "enterprise": 5, "media": 10, "government": 20, "other": 2}
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


def test_quota_flags_accounts_beyond_limit_in_registration_order(spark):
    day = date(2026, 5, 1)
    rows = [
        (day, f"pa_{i}", "public", "s1", "individual", datetime(2025, 1, i), "active", None, None) for i in (3, 1, 2, 4)
    ]
    over = snapshot(spark, rows).transform(quota_overruns(LIMITS))
    assert flagged(over) == ["pa_3", "pa_4"]
    evidence_order = over.where("account_id = 'pa_3'").select("live_accounts.account_id").collect()[0][0]
    assert evidence_order == ["pa_1", "pa_2", "pa_3", "pa_4"]


def test_quota_breaks_registration_time_ties_by_account_id(spark):
    day = date(2026, 5, 1)
    same_time = datetime(2025, 6, 1, 12)
    rows = [
        (day, "pa_b", "public", "s1", "individual", same_time, "active", None, None),
        (day, "pa_c", "public", "s1", "individual", same_time, "active", None, None),
        (day, "pa_a", "public", "s1", "individual", same_time, "active", None, None),
    ]
    assert flagged(snapshot(spark, rows).transform(quota_overruns(LIMITS))) == ["pa_c"]


def test_quota_closed_accounts_free_their_place_but_suspended_ones_do_not(spark):
    day = date(2026, 5, 1)
    rows = [
        (day, "closed_first", "public", "s1", "individual", datetime(2025, 1, 1), "closed", None, None),
        (day, "second", "public", "s1", "individual", datetime(2025, 1, 2), "active", None, None),
        (day, "third", "public", "s1", "individual", datetime(2025, 1, 3), "active", None, None),
        (day, "suspended_first", "public", "s2", "individual", datetime(2025, 1, 1), "suspended", None, None),
        (day, "s2_second", "public", "s2", "individual", datetime(2025, 1, 2), "active", None, None),
        (day, "s2_third", "public", "s2", "individual", datetime(2025, 1, 3), "active", None, None),
    ]
    assert flagged(snapshot(spark, rows).transform(quota_overruns(LIMITS))) == ["s2_third"]


def test_quota_limit_follows_subject_type(spark):
    day = date(2026, 5, 1)
    rows = [
        (day, f"ent_{i}", "public", "e1", "enterprise", datetime(2025, 1, i), "active", None, None) for i in range(1, 7)
    ]
    over = snapshot(spark, rows).transform(quota_overruns(LIMITS))
    assert flagged(over) == ["ent_6"]
    assert over.select("limit").collect()[0][0] == 5


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
    from accountwatch.jobs.detectors.shaping import dormant_evidence

    day = date(2026, 8, 31)
    rows = [(day, "silent", "public", "s1", "individual", OLD, "active", datetime(2026, 1, 10), datetime(2026, 1, 5))]
    evidence = snapshot(spark, rows).transform(dormant_accounts(6)).transform(dormant_evidence(6)).collect()[0]
    payload = json.loads(evidence["evidence"])
    assert payload["cutoff"].startswith("2026-03-01T00:00:00")
    assert payload["last_login_at"].startswith("2026-01-10") and payload["last_publish_at"].startswith("2026-01-05")
    assert evidence["severity"] == "low" and evidence["score"] > 7
