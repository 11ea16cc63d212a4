from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from pyspark.sql import functions as F

from accountwatch.jobs.core.config import SpikeSettings
from accountwatch.jobs.detectors.fake_follower_spike import (
    follow_baselines,
    judge_spikes,
    lockstep,
    new_followers,
    run_day_follows,
)
from accountwatch.schemas.accounts import ACCOUNTS
from accountwatch.schemas.events import ACCOUNT_DAILY, SUBSCRIPTIONS, USER_ACTIVITY

RUN_DAY = date(2026, 3, 2)  # a Monday
LONG_AGO = datetime(2024, 6, 1, 9, 0)
FOLLOWS = "run_date date, account_id string, user_id string, event_ts timestamp"
SETTINGS = SpikeSettings()


def account_row(account_id: str, registered_at: datetime, account_type: str = "user") -> tuple:
    subject = "s_" + account_id if account_type == "public" else None
    kind = "individual" if account_type == "public" else None
    return (
        account_id,
        account_type,
        subject,
        kind,
        account_id,
        registered_at,
        None,
        None,
        None,
        None,
        None,
        "active",
        registered_at,
        registered_at.date(),
        "accounts.csv",
        1,
    )


def daily_row(account_id: str, day: date, follows: int, audience: int = 100) -> tuple:
    return (account_id, day, day, 0, 0, None, None, audience, 0, 0, 0, follows, 0, None)


def steady_history(account_id: str, per_day: int, days: int = 28, audience: int = 100) -> list[tuple]:
    return [daily_row(account_id, RUN_DAY - timedelta(days=back), per_day, audience) for back in range(1, days + 1)]


def follows_of(account_id: str, users: list[str], first: datetime, every_seconds: int = 30) -> list[tuple]:
    return [
        (RUN_DAY, account_id, user, first + timedelta(seconds=every_seconds * number))
        for number, user in enumerate(users)
    ]


def activity_frame(spark, rows: list[tuple]):
    """`user_activity` rows of (user, first folder day, first and last time); the accounts they acted on unknown."""
    return spark.createDataFrame([(*row, None, None) for row in rows], USER_ACTIVITY)


def judge(spark, daily, follows, accounts, activity, batch_flags=(), settings=SETTINGS):
    return judge_spikes(
        spark.createDataFrame(daily, ACCOUNT_DAILY),
        spark.createDataFrame(follows, FOLLOWS),
        spark.createDataFrame(accounts, ACCOUNTS),
        activity_frame(spark, activity),
        spark.createDataFrame(list(batch_flags), "account_id string, run_date date"),
        RUN_DAY,
        RUN_DAY,
        settings,
    )


def established_users(prefix: str, count: int) -> tuple[list[str], list[tuple], list[tuple]]:
    """Users registered over the years before LONG_AGO who have read and shared for months."""
    ids = [f"{prefix}{number:03d}" for number in range(count)]
    accounts = [account_row(user, LONG_AGO - timedelta(days=5 * number)) for number, user in enumerate(ids)]
    activity = [(user, date(2025, 1, 5), datetime(2025, 1, 5, 12), datetime(2026, 2, 27, 20)) for user in ids]
    return ids, accounts, activity


def farm_users(prefix: str, count: int, registered: datetime) -> tuple[list[str], list[tuple]]:
    """Users registered together a few days ago who never read, like, share or comment."""
    ids = [f"{prefix}{number:03d}" for number in range(count)]
    return ids, [account_row(user, registered + timedelta(seconds=number)) for number, user in enumerate(ids)]


@pytest.fixture
def platform():
    """Two public accounts with a steady 10 follows a day, and the users around them."""
    fans, fan_accounts, fan_activity = established_users("fan_", 300)
    farm, farm_accounts = farm_users("farm_", 80, datetime(2026, 2, 25, 3, 0))
    lurkers = [f"lurker_{number:03d}" for number in range(80)]
    lurker_accounts = [account_row(user, LONG_AGO - timedelta(days=number)) for number, user in enumerate(lurkers)]
    publics = [account_row(name, LONG_AGO, "public") for name in ("pa_buyer", "pa_viral", "pa_other_buyer")]
    return {
        "fans": fans,
        "farm": farm,
        "lurkers": lurkers,
        "accounts": publics + fan_accounts + farm_accounts + lurker_accounts,
        "activity": fan_activity,
    }


def flagged(findings) -> list[str]:
    return sorted(row["account_id"] for row in findings.collect())


def test_spike_flags_a_burst_of_inactive_freshly_registered_followers(spark, platform):
    daily = steady_history("pa_buyer", 10) + [daily_row("pa_buyer", RUN_DAY, 70)]
    follows = follows_of("pa_buyer", platform["fans"][:10], datetime(2026, 3, 2, 9, 0), 3000) + follows_of(
        "pa_buyer", platform["farm"][:60], datetime(2026, 3, 2, 14, 0)
    )
    found = judge(spark, daily, follows, platform["accounts"], platform["activity"]).collect()
    assert [row["account_id"] for row in found] == ["pa_buyer"]
    evidence = json.loads(found[0]["evidence"])
    assert evidence["observed_follows"] == 70
    assert evidence["baseline"]["median_follows"] == 10
    assert evidence["z"] >= SETTINGS.min_z
    assert evidence["suspicious_followers"] == 60
    assert evidence["follower_shares"]["young"] == pytest.approx(60 / 70, abs=0.001)
    assert set(evidence["sample_follower_ids"]) <= set(platform["farm"][:60])
    assert len(evidence["sample_follower_ids"]) == SETTINGS.sample_followers


def test_spike_ignores_a_viral_day_of_established_active_followers(spark, platform):
    daily = steady_history("pa_viral", 10) + [daily_row("pa_viral", RUN_DAY, 300, audience=3000)]
    follows = follows_of("pa_viral", platform["fans"], datetime(2026, 3, 2, 8, 0), 60)
    assert flagged(judge(spark, daily, follows, platform["accounts"], platform["activity"])) == []


def test_spike_ignores_old_followers_who_never_act(spark, platform):
    daily = steady_history("pa_viral", 10) + [daily_row("pa_viral", RUN_DAY, 80)]
    follows = follows_of("pa_viral", platform["lurkers"], datetime(2026, 3, 2, 8, 0), 400)
    assert flagged(judge(spark, daily, follows, platform["accounts"], platform["activity"])) == []


def test_spike_ignores_a_day_within_the_accounts_usual_range(spark, platform):
    noisy = [daily_row("pa_buyer", RUN_DAY - timedelta(days=back), 40 + (back % 5) * 10) for back in range(1, 29)] + [
        daily_row("pa_buyer", RUN_DAY, 75)
    ]
    follows = follows_of("pa_buyer", platform["farm"][:75], datetime(2026, 3, 2, 14, 0))
    assert flagged(judge(spark, noisy, follows, platform["accounts"], platform["activity"])) == []


def test_spike_counts_followers_flagged_as_batch_registered_though_not_young(spark, platform):
    old_farm, old_farm_accounts = farm_users("old_farm_", 40, datetime(2025, 6, 1, 3, 0))
    daily = steady_history("pa_buyer", 5) + [daily_row("pa_buyer", RUN_DAY, 45)]
    follows = follows_of("pa_buyer", old_farm, datetime(2026, 3, 2, 14, 0))
    accounts = platform["accounts"] + old_farm_accounts
    batch_flags = [(user, date(2025, 6, 1)) for user in old_farm]
    found = judge(spark, daily, follows, accounts, platform["activity"], batch_flags).collect()
    assert [row["account_id"] for row in found] == ["pa_buyer"]
    assert json.loads(found[0]["evidence"])["suspicious_followers"] == 40


def _aged_stock(count: int, registered: datetime, spread_days: int) -> tuple[list[str], list[tuple], list[tuple]]:
    """Users registered over `spread_days` from `registered`; every third one posts a little (so not inactive)."""
    ids = [f"stock_{number:04d}" for number in range(count)]
    step = timedelta(days=spread_days) / count
    accounts = [account_row(user, registered + step * number) for number, user in enumerate(ids)]
    activity = [(user, date(2025, 9, 1), datetime(2025, 9, 1, 12), datetime(2025, 9, 1, 12)) for user in ids[::3]]
    return ids, accounts, activity


def test_aged_stock_registered_within_one_week_months_ago_is_flagged_without_any_other_signal(spark, platform):
    # 300 follows in three hours to an account growing by 5 a day, from accounts registered within six days
    # eight months earlier: not young, not batch-flagged, not in lockstep, a third of them active.
    stock, stock_accounts, stock_activity = _aged_stock(300, datetime(2025, 7, 1, 9), 6)
    daily = steady_history("pa_buyer", 5) + [daily_row("pa_buyer", RUN_DAY, 305)]
    follows = follows_of("pa_buyer", platform["fans"][:5], datetime(2026, 3, 2, 8, 0), 600) + follows_of(
        "pa_buyer", stock, datetime(2026, 3, 2, 14, 0), 36
    )
    accounts = platform["accounts"] + stock_accounts
    found = judge(spark, daily, follows, accounts, platform["activity"] + stock_activity).collect()
    assert [row["account_id"] for row in found] == ["pa_buyer"]
    evidence = json.loads(found[0]["evidence"])
    assert evidence["signals"] == ["aged_stock"]
    assert evidence["suspicious_followers"] == 0
    cluster = evidence["registration_cluster"]
    assert (cluster["followers"], cluster["days"]) == (300, 7)
    assert cluster["cluster_registered_to"] <= "2025-07-08"
    # An analyst sees which followers: the clustered ones, as no follower is suspicious on other signals.
    assert evidence["sample_follower_ids"] == sorted(stock)[: SETTINGS.sample_followers]
    assert found[0]["severity"] == "high"


def test_a_viral_day_whose_followers_registered_over_years_is_not_aged_stock(spark, platform):
    # The same 300 follows from accounts registered over three years: the densest week holds a handful.
    crowd, crowd_accounts, crowd_activity = _aged_stock(300, datetime(2022, 7, 1, 9), 3 * 365)
    daily = steady_history("pa_viral", 5) + [daily_row("pa_viral", RUN_DAY, 305)]
    follows = follows_of("pa_viral", crowd, datetime(2026, 3, 2, 14, 0), 36)
    accounts = platform["accounts"] + crowd_accounts
    assert flagged(judge(spark, daily, follows, accounts, platform["activity"] + crowd_activity)) == []
    # Half of them registered within one week: aged stock mixed into organic growth is still found.
    stock, stock_accounts, stock_activity = _aged_stock(150, datetime(2025, 7, 1, 9), 6)
    mixed = follows_of("pa_viral", crowd[:150] + stock, datetime(2026, 3, 2, 14, 0), 36)
    accounts += stock_accounts
    assert flagged(judge(spark, daily, mixed, accounts, platform["activity"] + stock_activity)) == ["pa_viral"]


def test_spike_is_not_raised_below_the_minimum_of_suspicious_followers(spark, platform):
    daily = steady_history("pa_buyer", 1) + [daily_row("pa_buyer", RUN_DAY, 21)]
    follows = follows_of("pa_buyer", platform["fans"][:10], datetime(2026, 3, 2, 9, 0)) + follows_of(
        "pa_buyer", platform["farm"][:11], datetime(2026, 3, 2, 14, 0)
    )
    strict = replace(SETTINGS, min_suspicious_followers=15)
    assert flagged(judge(spark, daily, follows, platform["accounts"], platform["activity"], settings=strict)) == []
    loose = replace(SETTINGS, min_suspicious_followers=10)
    assert flagged(judge(spark, daily, follows, platform["accounts"], platform["activity"], settings=loose)) == [
        "pa_buyer"
    ]


def test_baseline_expects_the_weekday_level_of_an_account_that_swings_by_day_of_week(spark):
    history = [
        daily_row(
            "pa_weekly", RUN_DAY - timedelta(days=back), 100 if (RUN_DAY - timedelta(days=back)).weekday() == 0 else 10
        )
        for back in range(1, 29)
    ]
    candidates = spark.createDataFrame(
        [("pa_weekly", RUN_DAY, 100, LONG_AGO), ("pa_weekly", RUN_DAY + timedelta(days=1), 100, LONG_AGO)],
        "account_id string, run_date date, follows long, registered_at timestamp",
    )
    rows = {
        row["run_date"]: row
        for row in candidates.transform(follow_baselines(spark.createDataFrame(history, ACCOUNT_DAILY), 28)).collect()
    }
    monday, tuesday = rows[RUN_DAY], rows[RUN_DAY + timedelta(days=1)]
    assert monday["weekday_median_follows"] == 100
    assert monday["expected_follows"] == 100
    assert monday["z"] < SETTINGS.min_z
    assert tuesday["expected_follows"] == 10
    assert tuesday["z"] >= SETTINGS.min_z


def test_baseline_counts_only_the_days_since_registration_and_rows_delivered_by_the_run_day(spark):
    young_since = datetime.combine(RUN_DAY - timedelta(days=5), datetime.min.time())
    late_delivery = (
        "pa_young",
        RUN_DAY - timedelta(days=2),
        RUN_DAY + timedelta(days=1),
        0,
        0,
        None,
        None,
        0,
        0,
        0,
        0,
        500,
        0,
        None,
    )
    history = [daily_row("pa_young", RUN_DAY - timedelta(days=back), 20) for back in range(1, 6)] + [late_delivery]
    candidates = spark.createDataFrame(
        [("pa_young", RUN_DAY, 40, young_since)],
        "account_id string, run_date date, follows long, registered_at timestamp",
    )
    row = candidates.transform(follow_baselines(spark.createDataFrame(history, ACCOUNT_DAILY), 28)).first()
    assert row["baseline_days"] == 5
    assert row["median_follows"] == 20


def test_new_followers_marks_young_batch_and_inactive_followers(spark):
    follows = spark.createDataFrame(
        [
            (RUN_DAY, "pa_1", "u_fresh_idle", datetime(2026, 3, 2, 10)),
            (RUN_DAY, "pa_1", "u_old_batch_idle", datetime(2026, 3, 2, 10)),
            (RUN_DAY, "pa_1", "u_fresh_active", datetime(2026, 3, 2, 10)),
            (RUN_DAY, "pa_1", "u_old_idle", datetime(2026, 3, 2, 10)),
            (RUN_DAY, "pa_1", "u_active_later", datetime(2026, 3, 2, 10)),
        ],
        FOLLOWS,
    )
    accounts = spark.createDataFrame(
        [
            account_row("u_fresh_idle", datetime(2026, 2, 20)),
            account_row("u_old_batch_idle", LONG_AGO),
            account_row("u_fresh_active", datetime(2026, 2, 20)),
            account_row("u_old_idle", LONG_AGO),
            account_row("u_active_later", datetime(2026, 2, 25)),
        ],
        ACCOUNTS,
    )
    activity = activity_frame(
        spark,
        [
            ("u_fresh_active", date(2026, 2, 21), datetime(2026, 2, 21, 9), datetime(2026, 3, 1, 9)),
            ("u_active_later", date(2026, 3, 5), datetime(2026, 3, 5, 9), datetime(2026, 3, 5, 9)),
        ],
    )
    batch = spark.createDataFrame([("u_old_batch_idle", date(2024, 6, 1))], "account_id string, run_date date")
    marked = {
        row["user_id"]: (row["young"], row["batch"], row["inactive"], row["suspicious"])
        for row in follows.transform(new_followers(accounts, activity, batch, 30)).collect()
    }
    assert marked == {
        "u_fresh_idle": (True, False, True, True),
        "u_old_batch_idle": (False, True, True, True),
        "u_fresh_active": (True, False, False, False),
        "u_old_idle": (False, False, True, False),
        "u_active_later": (True, False, True, True),
    }


def test_lockstep_pairs_accounts_gaining_the_same_followers_within_the_window(spark):
    farm = [f"farm_{number:02d}" for number in range(12)]
    rows = follows_of("pa_a", farm, datetime(2026, 3, 2, 14, 0), 60)
    rows += follows_of("pa_b", farm, datetime(2026, 3, 2, 14, 30), 60)
    rows += follows_of("pa_late", farm, datetime(2026, 3, 2, 20, 0), 60)
    rows += follows_of("pa_few", farm[:5], datetime(2026, 3, 2, 14, 10), 60)
    all_follows = spark.createDataFrame(rows, FOLLOWS)
    result = {
        row["account_id"]: row
        for row in all_follows.transform(lockstep(all_follows, window_minutes=120, min_common=10)).collect()
    }
    assert sorted(result) == ["pa_a", "pa_b"]
    assert result["pa_a"]["lockstep_followers"] == 12
    assert [
        (partner["account_id"], partner["common_followers"]) for partner in result["pa_a"]["lockstep_partners"]
    ] == [("pa_b", 12)]


def test_lockstep_share_raises_severity_of_a_small_purchase(spark, platform):
    daily = []
    follows = []
    for buyer in ("pa_buyer", "pa_other_buyer"):
        daily += steady_history(buyer, 5) + [daily_row(buyer, RUN_DAY, 45)]
        follows += follows_of(buyer, platform["farm"][:40], datetime(2026, 3, 2, 14, 0))
    found = judge(spark, daily, follows, platform["accounts"], platform["activity"]).collect()
    assert sorted(row["account_id"] for row in found) == ["pa_buyer", "pa_other_buyer"]
    for row in found:
        evidence = json.loads(row["evidence"])
        assert row["severity"] == "high"
        assert evidence["follower_shares"]["lockstep"] == 1.0
        assert evidence["lockstep_partners"][0]["common_followers"] == 40


def test_run_day_follows_take_only_follows_delivered_by_their_day(spark):
    def event(event_id, action, event_day, ingest_day):
        ts = datetime.combine(event_day, datetime.min.time()) + timedelta(hours=12)
        return (event_id, "pa_1", "u_1", action, ts, "search", event_day, ingest_day, "f.csv", 1)

    subscriptions = spark.createDataFrame(
        [
            event("on_time", "follow", RUN_DAY, RUN_DAY),
            event("late", "follow", RUN_DAY, RUN_DAY + timedelta(days=1)),
            event("unfollow", "unfollow", RUN_DAY, RUN_DAY),
            event("day_before", "follow", RUN_DAY - timedelta(days=1), RUN_DAY - timedelta(days=1)),
        ],
        SUBSCRIPTIONS,
    )
    assert run_day_follows(subscriptions, RUN_DAY, RUN_DAY).count() == 1
    assert run_day_follows(subscriptions, RUN_DAY, RUN_DAY).select(F.col("run_date")).first()[0] == RUN_DAY


def test_spike_counts_inactive_followers_in_lockstep_though_neither_young_nor_batch(spark, platform):
    # Old accounts that never act, registered over 40 days (not aged stock of one week).
    old_farm, accounts = platform["lurkers"][:40], platform["accounts"]
    daily = []
    follows = []
    for buyer in ("pa_buyer", "pa_other_buyer"):
        daily += steady_history(buyer, 5) + [daily_row(buyer, RUN_DAY, 45)]
        follows += follows_of(buyer, old_farm, datetime(2026, 3, 2, 14, 0))
    assert flagged(judge(spark, daily, follows, accounts, platform["activity"])) == ["pa_buyer", "pa_other_buyer"]
    alone = [row for row in follows if row[1] == "pa_buyer"]
    assert flagged(judge(spark, daily, alone, accounts, platform["activity"])) == []
