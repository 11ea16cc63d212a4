"""The demo-size platform, for the cases the tiny one leaves out: the drip, scale, fast growth, weekend swings."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from tests.synthetic.landed import PLATFORM_ZONE, daily_follows, farm_user_ids, follow_rows, instant, latest_accounts


def test_demo_size_plants_a_drip_of_distinct_farm_followers_for_fourteen_days(demo):
    truth = demo.truth
    assert len(truth.fake_follower_drip) == 1
    ((buyer, (first_day, last_day)),) = truth.fake_follower_drip.items()
    assert (last_day - first_day).days == 13 and len(truth.drip_days()) == 14
    assert buyer not in {purchase["account_id"] for purchase in truth.purchases}
    farm_users = farm_user_ids(truth)
    dripped = [row for row in follow_rows(demo) if row["account_id"] == buyer and row["user_id"] in farm_users]
    per_day = Counter(row["_day"] for row in dripped)
    assert set(per_day) == {first_day + timedelta(days=offset) for offset in range(14)}
    assert all(20 <= count <= 40 for count in per_day.values())
    assert len({row["user_id"] for row in dripped}) == len(dripped)
    registered = {
        member: cluster["registration_day"] for cluster in truth.batch_clusters for member in cluster["members"]
    }
    assert all(registered[row["user_id"]] < first_day for row in dripped)


def test_demo_size_scales_the_planted_cases(demo):
    truth = demo.truth
    kinds = Counter(cluster["kind"] for cluster in truth.batch_clusters)
    assert 6 <= len(truth.purchases) <= 10 and 3 <= len(truth.viral_days) <= 5
    assert kinds["idle_farm"] >= 1 and 1 <= kinds["public_batch"] <= 2
    idle = [cluster for cluster in truth.batch_clusters if cluster["kind"] == "idle_farm"]
    assert max(len(cluster["members"]) for cluster in idle) >= 300
    purchases_per_farm_day = Counter((purchase["farm"], purchase["date"]) for purchase in truth.purchases)
    assert max(purchases_per_farm_day.values()) >= 2


def test_demo_size_young_accounts_ramp_up_their_follows_over_their_first_weeks(demo):
    latest = latest_accounts(demo)
    daily = daily_follows(follow_rows(demo), leave_out=farm_user_ids(demo.truth))

    def week(account_id: str, number: int) -> int:
        registered = instant(latest[account_id]["registered_at"]).astimezone(PLATFORM_ZONE).date()
        return sum(daily[(account_id, registered + timedelta(days=7 * number + day))] for day in range(1, 8))

    young = [
        account_id
        for account_id, row in latest.items()
        if row["account_type"] == "public" and instant(row["registered_at"]).date() > demo.truth.start
    ]
    assert any(week(account_id, 5) >= max(20, 5 * week(account_id, 0)) for account_id in young)


def test_demo_size_most_followed_accounts_swing_towards_or_away_from_weekends(demo):
    truth = demo.truth
    daily = daily_follows(follow_rows(demo), leave_out=farm_user_ids(truth))
    totals: Counter = Counter()
    for (account_id, _), count in daily.items():
        totals[account_id] += count
    days = [truth.start + timedelta(days=offset) for offset in range((truth.end - truth.start).days + 1)]
    weekend_over_weekday = []
    for account_id, _ in totals.most_common(30):
        weekend = [daily[(account_id, day)] for day in days if day.weekday() >= 5]
        weekday = [daily[(account_id, day)] for day in days if day.weekday() < 5]
        weekend_over_weekday.append((sum(weekend) / len(weekend)) / max(sum(weekday) / len(weekday), 1e-9))
    assert max(weekend_over_weekday) >= 1.4 and min(weekend_over_weekday) <= 0.7
