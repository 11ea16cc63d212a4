"""Planted engagement farms: the warmed farm is established by its day, and only its shared phones show it."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date, timedelta

import numpy as np

from accountwatch.synthetic.plants.fake_engagement import (
    FARM,
    LATE_AGE,
    LATE_FARM,
    NEWS_READERS,
    PUSH_SUBSCRIBERS,
    WARM_UP_BEFORE,
    plant_engagement,
)

START = date(2026, 1, 1)


def test_the_warmed_farm_acts_first_weeks_before_its_purchase_and_buys_from_five_phones(tmp_path):
    cases = plant_engagement(np.random.default_rng(3), tmp_path, START, 150, 1)
    [(account, bought_on)] = [(account, day) for account, day in cases.planted if account.endswith("_warmed")]
    rows = []
    for path in sorted((tmp_path / "engagement").glob("date=*/*.csv")):
        with path.open(encoding="utf-8") as handle:
            rows += [row for row in csv.DictReader(handle) if row["actor_id"].startswith("u_eng_000_w")]
    first_seen: dict[str, date] = {}
    for row in rows:
        day = date.fromisoformat(row["event_ts"][:10])
        first_seen[row["actor_id"]] = min(day, first_seen.get(row["actor_id"], day))
    assert len(first_seen) == FARM
    assert all(21 <= (bought_on - day).days <= WARM_UP_BEFORE for day in first_seen.values())
    per_warm_up_day: dict[date, int] = defaultdict(int)
    for day in first_seen.values():
        per_warm_up_day[day] += 1
    assert max(per_warm_up_day.values()) < 50  # no warm-up day is a candidate day (min_events)
    bought = [row for row in rows if row["event_ts"].startswith(bought_on.isoformat())]
    assert {row["account_id"] for row in rows} == {account}
    assert {row["event_type"] for row in bought} == {"read", "like"} and len(bought) == 2 * FARM
    assert len({row["device_id"] for row in bought}) == 5
    assert bought_on - START >= timedelta(days=WARM_UP_BEFORE + 28)


def _rows_of(landing, prefix: str) -> list[dict[str, str]]:
    rows = []
    for path in sorted((landing / "engagement").glob("date=*/*.csv")):
        with path.open(encoding="utf-8") as handle:
            rows += [row for row in csv.DictReader(handle) if row["actor_id"].startswith(prefix)]
    return rows


def test_the_lockstep_farm_reads_both_buyers_within_the_hour_each_actor_on_its_own_phone(tmp_path):
    cases = plant_engagement(np.random.default_rng(3), tmp_path, START, 150, 1)
    planted = sorted((account, day) for account, day in cases.planted if "_lockstep_" in account)
    [(buyer_a, bought_on), (buyer_b, same_day)] = planted
    assert bought_on == same_day
    rows = _rows_of(tmp_path, "u_eng_000_k")
    bought = [row for row in rows if row["event_ts"].startswith(bought_on.isoformat())]
    assert {row["account_id"] for row in bought} == {buyer_a, buyer_b}
    assert {row["event_ts"][11:13] for row in bought} == {"15"} and len(bought) == 2 * FARM
    assert len({row["device_id"] for row in bought}) == FARM  # no shared phone
    assert len({row["ip"].rsplit(".", 1)[0] for row in bought}) == FARM  # no shared /24
    earlier = [date.fromisoformat(row["event_ts"][:10]) for row in rows if row not in bought]
    assert len(earlier) == FARM and all(21 <= (bought_on - day).days <= WARM_UP_BEFORE for day in earlier)


def test_the_pump_is_six_bots_reloading_one_article_forty_times_each(tmp_path):
    cases = plant_engagement(np.random.default_rng(3), tmp_path, START, 150, 1)
    [(account, pumped_on)] = [(account, day) for account, day in cases.planted if account.endswith("_pumped")]
    rows = [row for row in _rows_of(tmp_path, "u_eng_000_b") if row["event_ts"].startswith(pumped_on.isoformat())]
    reads: dict[tuple[str, str], int] = defaultdict(int)
    for row in rows:
        assert (row["account_id"], row["event_type"]) == (account, "read")
        reads[row["actor_id"], row["content_id"]] += int(row["count"])
    assert sorted(reads.values()) == [40] * 6


def test_the_late_farm_reads_an_article_on_its_fourth_day_and_the_resurfacing_readers_read_it_before(tmp_path):
    cases = plant_engagement(np.random.default_rng(3), tmp_path, START, 150, 1)
    [(late, bought_on)] = [(account, day) for account, day in cases.planted if account.endswith("_late")]
    [(resurfaced, back_on)] = [(account, day) for account, day in cases.look_alikes if account.endswith("_resurfaced")]
    rows = _rows_of(tmp_path, "u_eng_000_")
    came_out = bought_on - timedelta(days=LATE_AGE)
    article = [row for row in rows if row["content_id"] == f"{late}-art-{came_out.isoformat()}"]
    per_day: dict[str, int] = defaultdict(int)
    for row in article:
        per_day[row["event_ts"][:10]] += int(row["count"])
    farm = [row for row in article if row["actor_id"].startswith("u_eng_000_l")]
    assert {row["event_ts"][:10] for row in farm} == {bought_on.isoformat()} and len(farm) == LATE_FARM
    assert len({row["device_id"] for row in farm}) == 5
    # Its first days as an organic article's (60 or 20 readers, then 30%, 10%), then the farm on the fourth.
    assert [per_day[(came_out + timedelta(days=age)).isoformat()] for age in range(3)] in ([60, 18, 6], [20, 6, 2])
    assert per_day[bought_on.isoformat()] - LATE_FARM in (3, 1)
    # The day's other articles: the account's day stays within its usual 44 to 75 events plus the farm's 60.
    day = [row for row in rows if row["account_id"] == late and row["event_ts"].startswith(bought_on.isoformat())]
    assert sum(int(row["count"]) for row in day) - LATE_FARM in (44, 75)
    # The resurfacing readers come back three days later, every one of them a reader since the first days.
    old_article = f"{resurfaced}-art-{(back_on - timedelta(days=LATE_AGE)).isoformat()}"
    back = [row for row in rows if row["content_id"] == old_article and row["event_ts"].startswith(back_on.isoformat())]
    assert back_on == bought_on + timedelta(days=3) and len(back) - LATE_FARM in (3, 1)
    first_read = {row["actor_id"]: row["event_ts"][:10] for row in reversed(rows) if row["account_id"] == resurfaced}
    assert all(first_read[row["actor_id"]] < (START + timedelta(days=7)).isoformat() for row in back)


def test_the_news_day_lifts_three_accounts_with_different_readers_and_the_push_its_own_subscribers(tmp_path):
    cases = plant_engagement(np.random.default_rng(3), tmp_path, START, 150, 1)
    news = sorted((account, day) for account, day in cases.look_alikes if "_news_" in account)
    [(pushed, pushed_on)] = [(account, day) for account, day in cases.look_alikes if account.endswith("_push")]
    assert len(news) == 3 and len({day for _, day in news}) == 1
    news_on = news[0][1]
    rows = _rows_of(tmp_path, "u_eng_000_")
    readers = {
        account: {
            row["actor_id"]
            for row in rows
            if row["account_id"] == account and row["event_ts"].startswith(f"{news_on} 07:")
        }
        for account, _ in news
    }
    assert [len(group) for group in readers.values()] == [NEWS_READERS] * 3
    assert not set.intersection(*readers.values())  # different readers each: no lockstep
    # Every one of them read the other news accounts once, at the period's start: active elsewhere.
    for account, group in readers.items():
        elsewhere = {row["account_id"] for row in rows if row["actor_id"] in group and row["account_id"] != account}
        assert elsewhere == set(readers) - {account}
    follows = [row for row in _subscription_rows(tmp_path) if row["account_id"] == pushed]
    assert len(follows) == PUSH_SUBSCRIBERS and {row["event_ts"][:10] for row in follows} == {START.isoformat()}
    pushed_reads = [
        row for row in rows if row["account_id"] == pushed and row["event_ts"].startswith(f"{pushed_on} 08:")
    ]
    assert {row["actor_id"] for row in pushed_reads} == {row["user_id"] for row in follows}


def _subscription_rows(landing) -> list[dict[str, str]]:
    rows = []
    for path in sorted((landing / "subscriptions").glob("date=*/*.csv")):
        with path.open(encoding="utf-8") as handle:
            rows += list(csv.DictReader(handle))
    return rows
