from __future__ import annotations

from datetime import date, datetime

from accountwatch.jobs.detectors.quota_overrun import quota_overruns

SNAPSHOT = (
    "run_date date, account_id string, account_type string, subject_id string, subject_type string, "
    "registered_at timestamp, status string, last_login_at timestamp, last_publish_at timestamp"
)
LIMITS = {"individual": 2, "enterprise": 5, "media": 10, "government": 20, "other": 2}


def snapshot(spark, rows):
    return spark.createDataFrame(rows, SNAPSHOT)


def flagged(frame) -> list[str]:
    return sorted(row["account_id"] for row in frame.select("account_id").collect())


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
