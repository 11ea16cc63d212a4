"""Organic look-alikes: viral days, a campus gateway, a family device, an office and a media group."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

from tests.synthetic.landed import (
    AUDIENCE_TYPES,
    PLATFORM_ZONE,
    START,
    daily_follows,
    farm_user_ids,
    first_rows,
    follow_rows,
    instant,
    mean_before,
    platform_day,
    use_days,
)


def test_viral_followers_are_established_users_with_earlier_activity_and_reads_rise(tiny):
    truth = tiny.truth
    first = first_rows(tiny)
    follows = follow_rows(tiny)
    daily = daily_follows(follows, leave_out=farm_user_ids(truth))
    first_activity: dict[str, date] = {}
    reads: Counter = Counter()
    for row in tiny.rows["engagement"]:
        day = platform_day(row["event_ts"])
        if row["event_type"] not in AUDIENCE_TYPES or day is None:
            continue
        if row["actor_id"]:
            first_activity[row["actor_id"]] = min(day, first_activity.get(row["actor_id"], day))
        if row["event_type"] in ("read", "share"):
            reads[(row["account_id"], day)] += int(row["count"] or 1)
    assert truth.viral_days
    for account_id, day in truth.viral_days:
        followers = {row["user_id"] for row in follows if row["account_id"] == account_id and row["_day"] == day}
        assert daily[(account_id, day)] >= max(60, 10 * mean_before(daily, account_id, day))
        established = {
            user
            for user in followers
            if instant(first[user]["registered_at"]).date() <= day - timedelta(days=60)
            and first_activity.get(user, day) < day
        }
        assert len(established) >= max(60, 0.85 * len(followers))
        assert reads[(account_id, day)] >= 3 * mean_before(reads, account_id, day)
        assert (day - truth.start).days >= 35


def test_campus_gateway_sign_ups_share_one_ip_and_spread_over_eight_hours(tiny):
    first = first_rows(tiny)
    campus = [first[account_id] for account_id in tiny.truth.batch_negatives["campus"]]
    assert {row["account_type"] for row in campus} == {"user"}
    assert len({row["registration_ip"] for row in campus}) == 1
    assert len({row["device_id"] for row in campus}) == len(campus)
    by_day: dict[date, list[datetime]] = defaultdict(list)
    for row in campus:
        by_day[instant(row["registered_at"]).astimezone(PLATFORM_ZONE).date()].append(instant(row["registered_at"]))
    busy = {day: sorted(times) for day, times in by_day.items() if len(times) >= 40}
    assert 2 <= len(busy) <= 3
    assert all(times[-1] - times[0] >= timedelta(hours=8) for times in busy.values())
    assert all(len(times) <= 3 for day, times in by_day.items() if day not in busy)
    assert not set(tiny.truth.batch_negatives["campus"]) & tiny.truth.batch_registration


def test_family_device_users_register_at_least_seven_days_apart(tiny):
    first = first_rows(tiny)
    family = [first[account_id] for account_id in tiny.truth.batch_negatives["family_device"]]
    assert 3 <= len(family) <= 4 and len({row["device_id"] for row in family}) == 1
    registered = sorted(instant(row["registered_at"]) for row in family)
    assert all(later - earlier >= timedelta(days=7) for earlier, later in zip(registered, registered[1:], strict=False))


def test_enterprise_office_opens_three_used_accounts_within_an_hour_from_one_ip(tiny):
    first, uses = first_rows(tiny), use_days(tiny)
    office = [first[account_id] for account_id in tiny.truth.batch_negatives["enterprise_office"]]
    assert len(office) == 3 and {row["subject_type"] for row in office} == {"enterprise"}
    assert len({row["subject_id"] for row in office}) == len({row["registration_ip"] for row in office}) == 1
    registered = sorted(instant(row["registered_at"]) for row in office)
    assert registered[-1] - registered[0] <= timedelta(hours=1) and registered[0].date() >= START
    assert all(uses[row["account_id"]] for row in office)


def test_media_group_accounts_are_numbered_and_registered_at_least_five_days_apart(tiny):
    first = first_rows(tiny)
    media = sorted(
        (first[account_id] for account_id in tiny.truth.batch_negatives["media_group"]),
        key=lambda row: instant(row["registered_at"]),
    )
    assert 5 <= len(media) <= 8 and {row["subject_type"] for row in media} == {"media"}
    assert len({row["subject_id"] for row in media}) == len({row["registration_ip"] for row in media}) == 1
    stem = media[0]["account_name"].removesuffix(" 1")
    assert [row["account_name"] for row in media] == [f"{stem} {number}" for number in range(1, len(media) + 1)]
    registered = [instant(row["registered_at"]) for row in media]
    assert all(later - earlier >= timedelta(days=5) for earlier, later in zip(registered, registered[1:], strict=False))


def test_batch_negatives_are_neither_dormant_nor_over_quota_nor_bursts(tiny):
    truth = tiny.truth
    negatives = {account for ids in truth.batch_negatives.values() for account in ids}
    assert set(truth.batch_negatives) == {"campus", "family_device", "enterprise_office", "media_group"}
    assert not negatives & (truth.dormant_account | truth.quota_overrun | truth.batch_registration)
