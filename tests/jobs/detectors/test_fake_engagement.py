from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from accountwatch.jobs.core.config import EngagementSettings, load_settings
from accountwatch.jobs.detectors.fake_engagement import history_gap, judge_engagement, sentence
from accountwatch.schemas.events import ACCOUNT_DAILY, ENGAGEMENT

D = date(2026, 5, 20)
SETTINGS = EngagementSettings()
USERS = "account_id string, registered_at timestamp, subject_id string"
ACTIVITY = "user_id string, first_active_on date"
LONG_AGO = datetime(2024, 1, 1)


def daily_rows(account: str, reads_per_day: int, day_reads: int) -> list[tuple]:
    rows = []
    for offset in range(1, 29):
        day = D - timedelta(days=offset)
        rows.append((account, day, day, 1, 1, None, None, reads_per_day, 0, 0, 0, 0, 0))
    rows.append((account, D, D, 1, 1, None, None, day_reads, 0, 0, 0, 0, 0))
    return rows


def reads(account: str, actors: list[str]) -> list[tuple]:
    stamp = datetime(2026, 5, 20, 14)
    return [
        (f"{account}-{actor}", account, actor, "read", stamp, 1, D, D, "f", 1, f"{account}-art", "10.1.1.1", "dev")
        for actor in actors
    ]


def judge(spark, accounts: dict[str, list[str]], users: list[tuple], activity: list[tuple]):
    daily, events = [], []
    for account, actors in accounts.items():
        daily += daily_rows(account, 30, len(actors))
        events += reads(account, actors)
    found = judge_engagement(
        spark.createDataFrame(daily, ACCOUNT_DAILY),
        spark.createDataFrame(events, ENGAGEMENT),
        spark.createDataFrame(users + [(account, LONG_AGO, f"s_{account}") for account in accounts], USERS),
        spark.createDataFrame(activity, ACTIVITY),
        D,
        D,
        SETTINGS,
    )
    return {row["account_id"]: row for row in found.collect()}


def test_a_spike_from_actors_never_active_before_is_flagged_and_one_from_established_readers_is_not(spark):
    regulars = [f"reg{i}" for i in range(30)]
    farm = [f"farm{i}" for i in range(150)]
    crowd = [f"crowd{i}" for i in range(150)]
    users = [(user, LONG_AGO, None) for user in regulars + farm + crowd]
    activity = [(user, date(2025, 6, 1)) for user in regulars + crowd] + [(user, D) for user in farm]
    found = judge(spark, {"bought": regulars + farm, "viral": regulars + crowd}, users, activity)
    assert sorted(found) == ["bought"]
    evidence = json.loads(found["bought"]["evidence"])
    assert (evidence["observed_events"], evidence["baseline"]["expected_events"]) == (180, 30.0)
    assert (evidence["suspicious_actors"], evidence["new_actors"], evidence["young_actors"]) == (150, 150, 0)
    assert found["bought"]["severity"] == "low"
    assert sentence(evidence).startswith("180 reads, likes, shares and comments against an expected 30.0")


def test_young_actors_count_as_suspicious_and_too_few_of_them_are_not_enough(spark):
    regulars = [f"reg{i}" for i in range(30)]
    young = [f"young{i}" for i in range(100)]
    few = [f"few{i}" for i in range(19)]
    crowd = [f"crowd{i}" for i in range(100)]
    users = [(user, LONG_AGO, None) for user in regulars + crowd] + [
        (user, datetime(2026, 5, 1), None) for user in young + few
    ]
    activity = [(user, date(2025, 6, 1)) for user in regulars + young + few + crowd]
    found = judge(spark, {"young_farm": regulars + young, "mostly_real": regulars + crowd + few}, users, activity)
    assert sorted(found) == ["young_farm"]


def test_a_day_needs_its_baseline_days_of_engagement_loaded():
    settings = load_settings()
    every_day = {D - timedelta(days=offset) for offset in range(1, 29)}
    assert history_gap(D, settings, {"engagement": every_day}) is None
    gap = history_gap(D, settings, {"engagement": every_day - {D - timedelta(days=3)}})
    assert gap is not None and "engagement is loaded for 27 of the 28" in gap
