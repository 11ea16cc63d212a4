"""Subjects, accounts and users as generated: subject types, operators' use, lurkers."""

from __future__ import annotations

from collections import Counter, defaultdict

from tests.synthetic.landed import AUDIENCE_TYPES, PLATFORM_ZONE, farm_user_ids, instant, latest_accounts, use_days


def test_unplanted_active_accounts_are_used_at_least_every_45_days(tiny):
    latest = latest_accounts(tiny)
    uses = use_days(tiny)
    rows_per_account = Counter(row["account_id"] for row in tiny.rows["accounts"])
    checked = 0
    for account_id, row in latest.items():
        # Dormant and hoarded accounts are planted silent (hoarded aged stock: until it is taken over).
        silent = tiny.truth.dormant_account | tiny.truth.account_hoarding
        if row["account_type"] != "public" or account_id in silent or account_id not in uses:
            continue
        if rows_per_account[account_id] != 1:
            continue  # status changed during the period: silent spells while suspended are expected
        first_possible = max(tiny.truth.start, instant(row["registered_at"]).astimezone(PLATFORM_ZONE).date())
        days = sorted({first_possible, *uses[account_id], tiny.truth.end})
        assert max((later - earlier).days for earlier, later in zip(days, days[1:], strict=False)) <= 45, account_id
        checked += 1
    assert checked > 10


def test_every_subject_has_one_subject_type(tiny):
    types: dict[str, set[str]] = defaultdict(set)
    for row in tiny.rows["accounts"]:
        if row["account_type"] == "public" and row["subject_id"]:
            types[row["subject_id"]].add(row["subject_type"])
    assert all(len(subject_types) == 1 for subject_types in types.values())


def test_users_have_no_subject(tiny):
    users = [row for row in tiny.rows["accounts"] if row["account_type"] == "user"]
    assert users and all(row["subject_id"] is None and row["subject_type"] is None for row in users)


def test_lurkers_follow_but_never_read_like_share_or_comment(tiny):
    farm_users = farm_user_ids(tiny.truth)
    # The organic population's follows (the plants' own files hold followers of their own).
    organic = [row for row in tiny.rows["subscriptions"] if not row["_file"].name.endswith("-cases.csv")]
    followers = {row["user_id"] for row in organic if row["user_id"] not in farm_users}
    actors = {row["actor_id"] for row in tiny.rows["engagement"] if row["event_type"] in AUDIENCE_TYPES}
    assert 0.05 * len(followers) <= len(followers - actors) <= 0.3 * len(followers)
