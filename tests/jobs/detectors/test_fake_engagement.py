from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from accountwatch.jobs.core.config import load_settings
from accountwatch.jobs.detectors.fake_engagement import history_gap, judge_engagement, sentence
from accountwatch.schemas.events import ACCOUNT_DAILY, ENGAGEMENT
from tests.jobs.detectors.engagement_rows import (
    LONG_AGO,
    SETTINGS,
    USERS,
    D,
    activity_frame,
    crowd,
    no_articles,
)


def daily_rows(account: str, reads_per_day: int, day_reads: int) -> list[tuple]:
    rows = []
    for offset in range(1, 29):
        day = D - timedelta(days=offset)
        rows.append((account, day, day, 1, 1, None, None, reads_per_day, 0, 0, 0, 0, 0, None))
    rows.append((account, D, D, 1, 1, None, None, day_reads, 0, 0, 0, 0, 0, None))
    return rows


def reads(account: str, actors: list[str], devices: dict[str, str] | None = None) -> list[tuple]:
    """One read of the account's article on D per actor, each from the actor's own phone unless `devices` says."""
    stamp = datetime(2026, 5, 20, 14)
    return [
        (
            f"{account}-{actor}",
            account,
            actor,
            "read",
            stamp,
            1,
            D,
            D,
            "f",
            1,
            f"{account}-art",
            "10.1.1.1",
            (devices or {}).get(actor, f"dev-{actor}"),
        )
        for actor in actors
    ]


def judge(spark, accounts: dict[str, list[str]], users: list[tuple], activity: list[tuple], devices=None):
    daily, events = [], []
    for account, actors in accounts.items():
        daily += daily_rows(account, 30, len(actors))
        events += reads(account, actors, devices)
    found = judge_engagement(
        spark.createDataFrame(daily, ACCOUNT_DAILY),
        spark.createDataFrame(events, ENGAGEMENT),
        no_articles(spark),
        spark.createDataFrame(users + [(account, LONG_AGO, f"s_{account}") for account in accounts], USERS),
        activity_frame(spark, activity),
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


def test_established_actors_working_from_a_few_shared_phones_are_flagged_and_a_familys_shared_phones_are_not(spark):
    # A farm of aged accounts, warmed up long ago (not new, not young), works from five phones, 30 actors each;
    # a crowd of the same size shares phones three to a family. Phones are counted across the day's spiking accounts.
    regulars = [f"reg{i}" for i in range(30)]
    farm = [f"farm{i}" for i in range(150)]
    crowd = [f"crowd{i}" for i in range(150)]
    devices = {actor: f"farm-phone-{index % 5}" for index, actor in enumerate(farm)}
    devices |= {actor: f"family-{index // 3}" for index, actor in enumerate(crowd)}
    users = [(user, LONG_AGO, None) for user in regulars + farm + crowd]
    activity = [(user, date(2025, 6, 1)) for user in regulars + farm + crowd]
    found = judge(spark, {"bought": regulars + farm, "families": regulars + crowd}, users, activity, devices)
    assert sorted(found) == ["bought"]
    evidence = json.loads(found["bought"]["evidence"])
    assert (evidence["suspicious_actors"], evidence["shared_device_actors"], evidence["new_actors"]) == (150, 150, 0)
    assert evidence["suspicious_devices"] == 5
    assert "from 150 suspicious actors (150 sharing devices)" in sentence(evidence)


def test_aged_actors_active_on_no_other_account_are_flagged_and_loyal_readers_of_other_accounts_too_are_not(spark):
    # Aged stock serving one buyer: first active long ago (not new), registered long ago (not young), on one phone
    # each, but never on another account by D. Its look-alike: the same crowd size, loyal readers who also read
    # other accounts; an actor who first read another account on D itself is already active elsewhere that day.
    regulars = [f"reg{i}" for i in range(30)]
    farm = [f"farm{i}" for i in range(150)]
    crowd = [f"crowd{i}" for i in range(150)]
    users = [(user, LONG_AGO, None) for user in regulars + farm + crowd]
    long_ago = date(2025, 6, 1)
    activity = [(user, long_ago) for user in regulars]
    # Half the farm reaches a second account only after D: as of D it was active nowhere else.
    activity += [(user, long_ago, "bought", D + timedelta(days=1) if i % 2 else None) for i, user in enumerate(farm)]
    activity += [(user, long_ago, "loyal", D if i % 2 else long_ago) for i, user in enumerate(crowd)]
    found = judge(spark, {"bought": regulars + farm, "loyal": regulars + crowd}, users, activity)
    assert sorted(found) == ["bought"]
    evidence = json.loads(found["bought"]["evidence"])
    assert (evidence["suspicious_actors"], evidence["sole_actors"], evidence["new_actors"]) == (150, 150, 0)
    assert "from 150 suspicious actors (150 active on no other account)" in sentence(evidence)


def test_nine_actors_on_one_phone_stay_below_the_device_threshold(spark):
    regulars = [f"reg{i}" for i in range(30)]
    crowd = [f"crowd{i}" for i in range(153)]
    devices = {actor: f"kiosk-{index // 9}" for index, actor in enumerate(crowd)}
    users = [(user, LONG_AGO, None) for user in regulars + crowd]
    activity = [(user, date(2025, 6, 1)) for user in regulars + crowd]
    assert judge(spark, {"library": regulars + crowd}, users, activity, devices) == {}


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


def events_of(account: str, actions: list[tuple[str, str]]) -> list[tuple]:
    """(actor, event_type) pairs on the account's article on D."""
    stamp = datetime(2026, 5, 20, 15)
    return [
        (f"{account}-{actor}-{kind}", account, actor, kind, stamp, 1, D, D, "f", 1, f"{account}-art", "10.1.1.1", actor)
        for actor, kind in actions
    ]


def judge_actions(spark, accounts: dict[str, list[tuple[str, str]]], established: list[str]):
    """Accounts read 30 times and liked once a day before D; on D the given actions of established actors.

    Each account's actors are its own (named after it): one crowd on accounts of different subjects is a lockstep.
    """
    daily, events = [], []
    established = [f"{account}:{user}" for account in accounts for user in established]
    accounts = {account: [(f"{account}:{actor}", kind) for actor, kind in acts] for account, acts in accounts.items()}
    for account, actions in accounts.items():
        for offset in range(1, 29):
            day = D - timedelta(days=offset)
            daily.append((account, day, day, 1, 1, None, None, 30, 1, 0, 0, 0, 0, None))
        count = {kind: sum(1 for _, event in actions if event == kind) for kind in ("read", "like", "share")}
        daily.append((account, D, D, 1, 1, None, None, count["read"], count["like"], count["share"], 0, 0, 0, None))
        events += events_of(account, actions)
    found = judge_engagement(
        spark.createDataFrame(daily, ACCOUNT_DAILY),
        spark.createDataFrame(events, ENGAGEMENT),
        no_articles(spark),
        spark.createDataFrame(
            [(user, LONG_AGO, None) for user in established] + [(a, LONG_AGO, f"s_{a}") for a in accounts], USERS
        ),
        activity_frame(spark, [(user, date(2025, 6, 1)) for user in established]),
        D,
        D,
        SETTINGS,
    )
    return {row["account_id"]: row for row in found.collect()}


def test_likes_far_above_the_accounts_own_per_read_from_actors_who_did_not_read_are_flagged(spark):
    regulars = [f"reg{i}" for i in range(30)]
    crowd = [f"crowd{i}" for i in range(100)]
    read = [(actor, "read") for actor in regulars]
    found = judge_actions(
        spark,
        {
            # 100 likes on 30 reads (the account's own: 1 like per 30 reads), none of the likers read it.
            "like_farm": read + [(actor, "like") for actor in crowd],
            # The same likes from actors who read the article first: an organic surge.
            "liked_by_readers": read + [(actor, kind) for actor in crowd for kind in ("read", "like")],
            # A viral day: 130 reads and 50 shares by readers (0.38 per read, under `min_ratio`).
            "viral": read + [(actor, "read") for actor in crowd] + [(actor, "share") for actor in crowd[:50]],
        },
        regulars + crowd,
    )
    assert sorted(found) == ["like_farm"]
    evidence = json.loads(found["like_farm"]["evidence"])
    assert evidence["signals"] == ["ratios"]
    assert (evidence["reactions"], evidence["unread_reactions"], evidence["suspicious_actors"]) == (100, 100, 0)
    assert evidence["by_type"]["likes_per_read"] == 3.333
    assert evidence["baseline_ratios"]["likes_per_read"] == 0.033
    assert "likes per read 3.333 (own 0.033)" in sentence(evidence)


def test_a_ratio_break_needs_enough_reactions_and_a_ratio_far_from_the_accounts_own(spark):
    regulars = [f"reg{i}" for i in range(30)]
    crowd = [f"crowd{i}" for i in range(100)]
    read = [(actor, "read") for actor in regulars]
    # 49 unread likes: under `min_ratio_events`; the total still spikes (79 events against 31).
    few = read + [(actor, "like") for actor in crowd[:49]]
    enough = read + [(actor, "like") for actor in crowd[:50]]
    # 100 likes on 130 reads by an account that gets one like per read: far above `min_ratio`, not its own.
    own = [(actor, kind) for actor in regulars for kind in ("read", "like")] + [(a, "like") for a in crowd]
    found = judge_actions(spark, {"few": few, "enough": enough}, regulars + crowd)
    assert sorted(found) == ["enough"]
    assert _judged_with_own_ratio(spark, own, regulars + crowd) == {}


def _judged_with_own_ratio(spark, actions, established):
    """`actions` on D of an account whose every read brought a like over the baseline days."""
    daily = [
        (
            "liked_anyway",
            D - timedelta(days=offset),
            D - timedelta(days=offset),
            1,
            1,
            None,
            None,
            30,
            30,
            0,
            0,
            0,
            0,
            None,
        )
        for offset in range(1, 29)
    ]
    reads_on_d = sum(1 for _, kind in actions if kind == "read")
    likes_on_d = sum(1 for _, kind in actions if kind == "like")
    daily.append(("liked_anyway", D, D, 1, 1, None, None, reads_on_d, likes_on_d, 0, 0, 0, 0, None))
    found = judge_engagement(
        spark.createDataFrame(daily, ACCOUNT_DAILY),
        spark.createDataFrame(events_of("liked_anyway", actions), ENGAGEMENT),
        no_articles(spark),
        spark.createDataFrame(
            [(user, LONG_AGO, None) for user in established] + [("liked_anyway", LONG_AGO, "s")], USERS
        ),
        activity_frame(spark, [(user, date(2025, 6, 1)) for user in established]),
        D,
        D,
        SETTINGS,
    )
    return {row["account_id"]: row for row in found.collect()}


def event(account: str, actor: str, hour: int = 14, kind: str = "read", times: int = 1) -> tuple:
    """`times` of one action by `actor` on the account's article on D at `hour`, from the actor's own phone."""
    stamp = datetime(2026, 5, 20, hour)
    return (
        f"{account}-{actor}-{kind}-{hour}",
        account,
        actor,
        kind,
        stamp,
        times,
        D,
        D,
        "f",
        1,
        f"{account}-art",
        None,
        actor,
    )


def judge_events(spark, events: list[tuple], subjects: dict[str, str]):
    """Accounts read 30 times a day before D by established readers; on D `events`, every actor established."""
    daily = []
    for account in subjects:
        for offset in range(1, 29):
            day = D - timedelta(days=offset)
            daily.append((account, day, day, 1, 1, None, None, 30, 0, 0, 0, 0, 0, None))
        reads_on_d = sum(row[5] for row in events if row[1] == account)
        daily.append((account, D, D, 1, 1, None, None, reads_on_d, 0, 0, 0, 0, 0, None))
    actors = sorted({row[2] for row in events})
    found = judge_engagement(
        spark.createDataFrame(daily, ACCOUNT_DAILY),
        spark.createDataFrame(events, ENGAGEMENT),
        no_articles(spark),
        spark.createDataFrame(
            [(actor, LONG_AGO, None) for actor in actors] + [(a, LONG_AGO, s) for a, s in subjects.items()], USERS
        ),
        activity_frame(spark, [(actor, date(2025, 6, 1)) for actor in actors]),
        D,
        D,
        SETTINGS,
    )
    return {row["account_id"]: row for row in found.collect()}


def test_one_crowd_working_accounts_of_different_subjects_within_the_hour_is_in_lockstep(spark):
    # Established actors on their own phones (not new, not young, no shared device): only the lockstep gives them
    # away. A farm reads two buyers within the hour; another crowd reads two buyers six hours apart; two accounts of
    # one subject share their readers; a news day lifts two outlets with different readers each; a popular outlet's
    # large audience includes most of a small outlet's (a small share of its own).
    events = []
    for account in ("buyer_a", "buyer_b", "late_a", "late_b", "group_a", "group_b", "news_1", "news_2", "big", "small"):
        events += [event(account, actor) for actor in crowd(f"{account}_reg", 30)]
    events += [
        event(account, actor, hour)
        for account, hour in (("buyer_a", 14), ("buyer_b", 15))
        for actor in crowd("farm", 150)
    ]
    events += [
        event(account, actor, hour) for account, hour in (("late_a", 8), ("late_b", 14)) for actor in crowd("late", 150)
    ]
    events += [event(account, actor) for account in ("group_a", "group_b") for actor in crowd("fans", 150)]
    events += [event("news_1", actor) for actor in crowd("one", 150)] + [event("news_2", a) for a in crowd("two", 150)]
    events += [event("big", actor) for actor in crowd("many", 400)] + [event("small", a) for a in crowd("many", 80)]
    subjects = {account: f"s_{account}" for account in ("buyer_a", "buyer_b", "late_a", "late_b", "news_1", "news_2")}
    subjects |= {"group_a": "s_group", "group_b": "s_group", "big": "s_big", "small": "s_small"}
    found = judge_events(spark, events, subjects)
    assert sorted(found) == ["buyer_a", "buyer_b"]
    evidence = json.loads(found["buyer_a"]["evidence"])
    assert (evidence["signals"], evidence["lockstep_actors"], evidence["lockstep_partners"]) == (
        ["actors"],
        150,
        ["buyer_b"],
    )
    assert (evidence["new_actors"], evidence["shared_device_actors"], evidence["repeating_actors"]) == (0, 0, 0)
    assert "from 150 suspicious actors (150 in lockstep with buyer_b)" in sentence(evidence)


def test_a_few_actors_repeating_one_read_pump_the_count_and_readers_coming_back_twice_do_not(spark):
    regulars = {account: crowd(f"{account}_reg", 30) for account in ("pumped", "too_few", "rereaders")}
    events = [event(account, actor) for account, actors in regulars.items() for actor in actors]
    # Five bots reload the article 40 times each (200 reads against an expected 30).
    events += [event("pumped", bot, times=40) for bot in crowd("bot", 5)]
    # Four bots: under `min_repeating_actors`, and too few actors for the crowd signal.
    events += [event("too_few", bot, times=50) for bot in crowd("few", 4)]
    # 150 readers open the article twice: organic.
    events += [event("rereaders", reader, hour, times=1) for reader in crowd("back", 150) for hour in (9, 21)]
    found = judge_events(spark, events, {account: f"s_{account}" for account in regulars})
    assert sorted(found) == ["pumped"]
    evidence = json.loads(found["pumped"]["evidence"])
    assert evidence["signals"] == ["repeats"]
    assert (evidence["repeating_actors"], evidence["repeating_events"], evidence["max_repeats"]) == (5, 200, 40)
    assert (evidence["suspicious_actors"], evidence["lockstep_actors"]) == (5, 0)
    assert "from 5 suspicious actors (5 repeating one action up to 40 times)" in sentence(evidence)
