from __future__ import annotations

import json
from datetime import date, datetime

from accountwatch.jobs.core.config import HoardingSettings, load_settings
from accountwatch.jobs.detectors.account_hoarding import history_gap, hoarded_accounts, hoarding_evidence, sentence

D = date(2026, 6, 30)
SETTINGS = HoardingSettings()
SNAPSHOT = (
    "run_date date, account_id string, account_type string, subject_id string, subject_type string, "
    "registered_at timestamp, status string, last_login_at timestamp, last_publish_at timestamp"
)
OLD = datetime(2025, 1, 1, 9)


def holder(subject: str, count: int, last_publish: datetime | None, status: str = "active", prefix: str = "") -> list:
    return [
        (D, f"{prefix or subject}_{i}", "public", subject, "media", OLD, status, datetime(2026, 6, 29), last_publish)
        for i in range(count)
    ]


def flagged(spark, rows) -> dict[str, int]:
    found = spark.createDataFrame(rows, SNAPSHOT).transform(hoarded_accounts(SETTINGS))
    return {row["account_id"]: row["idle_count"] for row in found.collect()}


def test_five_idle_accounts_of_one_subject_are_a_hoard_and_four_are_not(spark):
    rows = (
        holder("never_used", 5, None)
        + holder("quiet_since_march", 5, datetime(2026, 3, 31, 23))
        + holder("four_only", 4, None)
    )
    assert flagged(spark, rows) == {
        f"{subject}_{i}": 5 for subject in ("never_used", "quiet_since_march") for i in range(5)
    }


def test_publishing_accounts_closed_ones_and_young_ones_do_not_count(spark):
    young = [
        (D, f"young_{i}", "public", "mixed", "media", datetime(2026, 5, 15), "active", None, None) for i in range(2)
    ]
    rows = (
        holder("mixed", 3, None)
        + holder("mixed", 3, datetime(2026, 6, 1), prefix="publishing")
        + holder("mixed", 2, None, status="closed", prefix="closed")
        + young
    )
    assert flagged(spark, rows) == {}
    # 91 days without a publish: idle; 89: not.
    edge = holder("edge", 5, datetime(2026, 4, 1, 23, 59)) + holder("recent", 5, datetime(2026, 4, 3))
    assert sorted(flagged(spark, edge)) == [f"edge_{i}" for i in range(5)]


def test_evidence_lists_the_hoard_and_severity_grows_with_it(spark):
    found = spark.createDataFrame(holder("big", 10, None), SNAPSHOT).transform(hoarded_accounts(SETTINGS))
    shaped = found.transform(hoarding_evidence(SETTINGS)).collect()
    assert {row["severity"] for row in shaped} == {"high"}
    evidence = json.loads(shaped[0]["evidence"])
    assert evidence["idle_accounts"] == sorted(f"big_{i}" for i in range(10))
    assert sentence(evidence) == "one of 10 unused public accounts of subject big (threshold 5); last publish never"


def test_a_day_is_judged_only_once_its_ninety_days_of_engagement_are_loaded():
    settings = load_settings()
    loaded = {"engagement": {date(2026, 4, 2 + offset) if offset < 29 else date(2026, 5, 1) for offset in range(29)}}
    assert history_gap(D, settings, loaded).startswith("history too short")
    every_day = {date.fromordinal(D.toordinal() - offset) for offset in range(90)}
    assert history_gap(D, settings, {"engagement": every_day}) is None
