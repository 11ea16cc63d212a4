"""Planted follower purchases: farms deliver them in lockstep to established buyers."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

from tests.synthetic.landed import (
    PLATFORM_ZONE,
    clusters_by_name,
    daily_follows,
    farm_user_ids,
    follow_rows,
    instant,
    latest_accounts,
    mean_before,
    platform_day,
)


def test_every_planted_purchase_is_delivered_by_its_farm_within_six_hours_of_its_day(tiny):
    truth, clusters = tiny.truth, clusters_by_name(tiny.truth)
    follows = follow_rows(tiny)
    assert 2 <= len(truth.purchases) <= 3
    assert truth.fake_follower_spike == {(purchase["account_id"], purchase["date"]) for purchase in truth.purchases}
    for purchase in truth.purchases:
        farm = clusters[purchase["farm"]]
        members = set(farm["members"])
        bought = [row for row in follows if row["account_id"] == purchase["account_id"] and row["user_id"] in members]
        assert len(bought) == len({row["user_id"] for row in bought}) == purchase["follows"] >= 40
        assert {row["_day"] for row in bought} == {row["_folder"] for row in bought} == {purchase["date"]}
        times = sorted(row["_at"] for row in bought)
        assert times[-1] - times[0] <= timedelta(hours=6)
        assert times[0].astimezone(PLATFORM_ZONE).hour >= 8
        assert (purchase["date"] - truth.start).days >= 35
        assert 1 <= (purchase["date"] - farm["registration_day"]).days <= 20
        assert farm["kind"] == "farm"


def test_every_planted_purchase_outnumbers_the_buyers_usual_daily_follows_four_times(tiny):
    daily = daily_follows(follow_rows(tiny), leave_out=farm_user_ids(tiny.truth))
    for purchase in tiny.truth.purchases:
        usual = mean_before(daily, purchase["account_id"], purchase["date"])
        assert purchase["follows"] >= max(40, 4 * usual), purchase


def test_one_farm_serves_several_buyers_on_one_day_in_lockstep(tiny):
    follows = follow_rows(tiny)
    by_farm_day: dict[tuple[str, date], list[dict]] = defaultdict(list)
    for purchase in tiny.truth.purchases:
        by_farm_day[(purchase["farm"], purchase["date"])].append(purchase)
    shared = [purchases for purchases in by_farm_day.values() if len(purchases) >= 2]
    assert shared
    for purchases in shared:
        members = set(clusters_by_name(tiny.truth)[purchases[0]["farm"]]["members"])
        windows, followers = [], []
        for purchase in purchases:
            bought = [r for r in follows if r["account_id"] == purchase["account_id"] and r["user_id"] in members]
            windows.append((min(row["_at"] for row in bought), max(row["_at"] for row in bought)))
            followers.append({row["user_id"] for row in bought})
        assert max(start for start, _ in windows) < min(end for _, end in windows)
        assert len(set.intersection(*followers)) >= 0.8 * min(len(group) for group in followers)


def test_a_buyer_buys_again_at_least_fourteen_days_later_from_another_farm(tiny):
    by_buyer: dict[str, list[dict]] = defaultdict(list)
    for purchase in tiny.truth.purchases:
        by_buyer[purchase["account_id"]].append(purchase)
    repeat = [sorted(purchases, key=lambda p: p["date"]) for purchases in by_buyer.values() if len(purchases) > 1]
    assert repeat
    for first, second in (purchases[:2] for purchases in repeat):
        assert (second["date"] - first["date"]).days >= 14
        assert first["farm"] != second["farm"]


def test_buyers_are_established_ordinary_accounts_active_all_period(tiny):
    truth = tiny.truth
    rows_per_account = Counter(row["account_id"] for row in tiny.rows["accounts"])
    latest = latest_accounts(tiny)
    negatives = {account for ids in truth.batch_negatives.values() for account in ids}
    for buyer in {purchase["account_id"] for purchase in truth.purchases}:
        assert latest[buyer]["account_type"] == "public" and latest[buyer]["status"] == "active"
        assert rows_per_account[buyer] == 1 and latest[buyer]["_folder"] == truth.start
        assert instant(latest[buyer]["registered_at"]) < datetime.combine(
            truth.start, datetime.min.time(), PLATFORM_ZONE
        )
        assert buyer not in truth.dormant_account | truth.quota_overrun | negatives | truth.batch_registration
        assert buyer not in {account for account, _ in truth.viral_days}


def test_farm_members_never_engage_and_only_make_the_bought_follows(tiny):
    truth = tiny.truth
    farm_users = farm_user_ids(truth)
    assert not [row for row in tiny.rows["engagement"] if row["actor_id"] in farm_users]
    farm_rows = [row for row in tiny.rows["subscriptions"] if row["user_id"] in farm_users]
    assert {row["action"] for row in farm_rows} == {"follow"}
    assert {(row["account_id"], platform_day(row["event_ts"])) for row in farm_rows} == truth.fake_follower_spike
    assert len(farm_rows) == sum(purchase["follows"] for purchase in truth.purchases)
    idle = {
        member for cluster in truth.batch_clusters if cluster["kind"] == "idle_farm" for member in cluster["members"]
    }
    assert idle and not idle & {row["user_id"] for row in farm_rows}
