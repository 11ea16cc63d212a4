from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from accountwatch.jobs.core.config import TierPolicy
from accountwatch.jobs.standing.tiers import daily_tiers, spliced_history
from accountwatch.schemas.standing import ACCOUNT_TIERS, BLACKLIST

RUN_DAY = date(2026, 3, 2)
POLICY = TierPolicy()
VERSION = POLICY.policy_version
OLD = datetime(2024, 6, 1, 9, 0)
RECENTLY = datetime(2026, 3, 1, 20, 0)
SNAPSHOTS = (
    "run_date date, account_id string, subject_id string, registered_at timestamp, "
    "last_login_at timestamp, last_publish_at timestamp"
)
FINDINGS = "finding_id string, run_date date, account_id string, severity string"
DAILY = "account_id string, run_date date, tier string, rule string, reasons array<string>"


def days_before(days: int) -> date:
    return RUN_DAY - timedelta(days=days)


def snapshot(
    account_id: str,
    registered_at: datetime = OLD,
    login: datetime | None = RECENTLY,
    publish: datetime | None = None,
    subject_id: str | None = None,
    run_date: date = RUN_DAY,
) -> tuple:
    """An account that is old and recently used (trusted) unless told otherwise."""
    return (run_date, account_id, subject_id or "s_" + account_id, registered_at, login, publish)


def entry(entry_id: str, entity_type: str, entity_id: str, listed_on: date, finding_ids: list[str]) -> tuple:
    """An active blacklist row (fields of the schema not set here are null)."""
    values = {
        "entry_id": entry_id,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "subject_id": entity_id if entity_type == "subject" else None,
        "rules": ["confirmed_high_severity"],
        "reason": "a high-severity finding confirmed by an analyst",
        "finding_ids": finding_ids,
        "listed_on": listed_on,
        "rule_version": "blacklist/1",
        "status": "active",
        "changed_by": "accountwatch",
        "changed_at": datetime.combine(listed_on, datetime.min.time()),
        "change_reason": "listed by rule",
        "is_current": True,
    }
    return tuple(values.get(name) for name in BLACKLIST.fieldNames())


# Long: every tier scenario's literal rows in one frame, so the daily tiers are computed in one Spark pass.
@pytest.fixture(scope="module")
def tiers(spark) -> dict[tuple[str, date], tuple[str, str, list[str]]]:
    """The daily tier of every scenario account, computed in one Spark pass."""
    snapshots = [
        snapshot("pa_listed"),
        snapshot("pa_listed_tomorrow"),
        snapshot("pa_sub_1", subject_id="s_bad"),
        snapshot("pa_sub_2", subject_id="s_bad"),
        snapshot("pa_other_subject", subject_id="s_fine"),
        snapshot("pa_high"),
        snapshot("pa_high_expired"),
        snapshot("pa_two_medium"),
        snapshot("pa_medium_and_high"),
        snapshot("pa_one_medium"),
        snapshot("pa_medium_and_low"),
        snapshot("pa_medium_one_expired"),
        snapshot("pa_low"),
        snapshot("pa_watch"),
        snapshot("pa_watch", run_date=RUN_DAY + timedelta(days=1)),
        snapshot("pa_future_finding"),
        snapshot("pa_trusted"),
        snapshot("pa_trusted_by_publish", login=None, publish=RECENTLY),
        snapshot("pa_trusted_age_edge", registered_at=datetime(2025, 3, 2, 23, 59, 59)),
        snapshot("pa_too_young", registered_at=datetime(2025, 3, 3, 0, 0)),
        snapshot("pa_young", registered_at=datetime(2025, 5, 1, 9, 0)),
        snapshot("pa_finding_100_days"),
        snapshot("pa_finding_179_days"),
        snapshot("pa_finding_180_days"),
        snapshot("pa_used_29_days", login=datetime(2026, 2, 1, 12, 0)),
        snapshot("pa_used_at_window_start", login=datetime(2026, 2, 1, 0, 0)),
        snapshot("pa_used_before_window", login=datetime(2026, 1, 31, 23, 59, 59)),
        snapshot("pa_used_31_days", login=datetime(2026, 1, 30, 12, 0), publish=datetime(2026, 1, 29, 8, 0)),
        snapshot("pa_never_used", login=None, publish=None),
        snapshot("pa_new", registered_at=datetime(2026, 3, 2, 10, 0), login=datetime(2026, 3, 2, 10, 5)),
    ]
    findings = [
        ("f_listed_high", days_before(3), "pa_listed", "high"),
        ("f_high", days_before(89), "pa_high", "high"),
        ("f_high_expired", days_before(90), "pa_high_expired", "high"),
        ("f_med_a", days_before(60), "pa_two_medium", "medium"),
        ("f_med_b", days_before(5), "pa_two_medium", "medium"),
        ("f_mh_med", days_before(10), "pa_medium_and_high", "medium"),
        ("f_mh_high", days_before(20), "pa_medium_and_high", "high"),
        ("f_one_med", RUN_DAY, "pa_one_medium", "medium"),
        ("f_ml_med", days_before(2), "pa_medium_and_low", "medium"),
        ("f_ml_low", days_before(4), "pa_medium_and_low", "low"),
        ("f_moe_recent", days_before(3), "pa_medium_one_expired", "medium"),
        ("f_moe_expired", days_before(90), "pa_medium_one_expired", "medium"),
        ("f_low", days_before(1), "pa_low", "low"),
        ("f_watch", days_before(89), "pa_watch", "low"),
        ("f_future", RUN_DAY + timedelta(days=1), "pa_future_finding", "high"),
        ("f_100", days_before(100), "pa_finding_100_days", "low"),
        ("f_179", days_before(179), "pa_finding_179_days", "low"),
        ("f_180", days_before(180), "pa_finding_180_days", "high"),
    ]
    listed = [
        entry("e_listed_1", "account", "pa_listed", RUN_DAY, ["f_l2", "f_l1"]),
        entry("e_listed_2", "account", "pa_listed", days_before(30), ["f_l1", "f_l0"]),
        entry("e_tomorrow", "account", "pa_listed_tomorrow", RUN_DAY + timedelta(days=1), ["f_t"]),
        entry("e_subject", "subject", "s_bad", days_before(10), ["f_s1"]),
        entry("e_sub_1", "account", "pa_sub_1", days_before(20), ["f_a1"]),
    ]
    transform = daily_tiers(spark.createDataFrame(findings, FINDINGS), spark.createDataFrame(listed, BLACKLIST), POLICY)
    rows = spark.createDataFrame(snapshots, SNAPSHOTS).transform(transform).collect()
    assert len(rows) == len(snapshots)
    return {(row["account_id"], row["run_date"]): (row["tier"], row["rule"], row["reasons"]) for row in rows}


def tier_of(tiers, account_id: str, run_date: date = RUN_DAY) -> tuple[str, str, list[str]]:
    return tiers[(account_id, run_date)]


def test_blacklisted_account_is_d_with_its_entries_finding_ids_before_any_finding_rule(tiers):
    assert tier_of(tiers, "pa_listed") == ("D", "blacklisted", ["f_l0", "f_l1", "f_l2"])


def test_blacklist_entry_listed_after_the_run_day_does_not_count(tiers):
    assert tier_of(tiers, "pa_listed_tomorrow") == ("A", "trusted", [])


def test_subject_entry_makes_every_account_of_the_subject_d(tiers):
    assert tier_of(tiers, "pa_sub_1") == ("D", "blacklisted", ["f_a1", "f_s1"])
    assert tier_of(tiers, "pa_sub_2") == ("D", "blacklisted", ["f_s1"])
    assert tier_of(tiers, "pa_other_subject") == ("A", "trusted", [])


def test_high_finding_in_the_watch_window_is_d(tiers):
    assert tier_of(tiers, "pa_high") == ("D", "high_severity_finding", ["f_high"])
    assert tier_of(tiers, "pa_medium_and_high") == ("D", "high_severity_finding", ["f_mh_high"])


def test_high_finding_exactly_90_days_before_is_no_longer_watched(tiers):
    assert tier_of(tiers, "pa_high_expired") == ("B", "normal", [])


def test_two_medium_or_high_findings_in_the_watch_window_are_d(tiers):
    assert tier_of(tiers, "pa_two_medium") == ("D", "medium_severity_findings", ["f_med_a", "f_med_b"])


def test_one_medium_finding_is_only_c(tiers):
    assert tier_of(tiers, "pa_one_medium") == ("C", "recent_finding", ["f_one_med"])
    assert tier_of(tiers, "pa_medium_and_low") == ("C", "recent_finding", ["f_ml_low", "f_ml_med"])
    assert tier_of(tiers, "pa_medium_one_expired") == ("C", "recent_finding", ["f_moe_recent"])


def test_any_finding_in_the_watch_window_is_c(tiers):
    assert tier_of(tiers, "pa_low") == ("C", "recent_finding", ["f_low"])


def test_finding_is_watched_on_the_89th_day_after_it_but_not_the_90th(tiers):
    assert tier_of(tiers, "pa_watch", RUN_DAY) == ("C", "recent_finding", ["f_watch"])
    assert tier_of(tiers, "pa_watch", RUN_DAY + timedelta(days=1)) == ("B", "normal", [])


def test_findings_after_the_run_day_never_count(tiers):
    assert tier_of(tiers, "pa_future_finding") == ("A", "trusted", [])


def test_old_clean_recently_used_account_is_trusted(tiers):
    assert tier_of(tiers, "pa_trusted") == ("A", "trusted", [])
    assert tier_of(tiers, "pa_trusted_by_publish") == ("A", "trusted", [])


def test_trusted_needs_registration_365_days_before_the_end_of_the_run_day(tiers):
    assert tier_of(tiers, "pa_trusted_age_edge") == ("A", "trusted", [])
    assert tier_of(tiers, "pa_too_young") == ("B", "normal", [])
    assert tier_of(tiers, "pa_young") == ("B", "normal", [])


def test_trusted_needs_no_finding_in_the_last_180_days(tiers):
    assert tier_of(tiers, "pa_finding_100_days") == ("B", "normal", [])
    assert tier_of(tiers, "pa_finding_179_days") == ("B", "normal", [])
    assert tier_of(tiers, "pa_finding_180_days") == ("A", "trusted", [])


def test_trusted_needs_a_login_or_publish_within_30_days_of_the_end_of_the_run_day(tiers):
    assert tier_of(tiers, "pa_used_29_days") == ("A", "trusted", [])
    assert tier_of(tiers, "pa_used_at_window_start") == ("A", "trusted", [])
    assert tier_of(tiers, "pa_used_before_window") == ("B", "normal", [])
    assert tier_of(tiers, "pa_used_31_days") == ("B", "normal", [])
    assert tier_of(tiers, "pa_never_used") == ("B", "normal", [])


def test_new_account_without_findings_is_normal(tiers):
    assert tier_of(tiers, "pa_new") == ("B", "normal", [])


# --- spliced_history ---------------------------------------------------------------------------------------


def day(number: int) -> date:
    """A day of March 2026."""
    return date(2026, 3, number)


def spell(
    account_id: str,
    tier: str,
    valid_from: date,
    valid_to: date | None,
    reasons: tuple[str, ...] = (),
    version: str = VERSION,
) -> tuple:
    rule = {"A": "trusted", "B": "normal", "C": "recent_finding", "D": "high_severity_finding"}[tier]
    return (account_id, tier, rule, list(reasons), version, valid_from, valid_to, valid_to is None)


def daily_row(account_id: str, run_date: date, tier: str, reasons: tuple[str, ...] = ()) -> tuple:
    rule = {"A": "trusted", "B": "normal", "C": "recent_finding", "D": "high_severity_finding"}[tier]
    return (account_id, run_date, tier, rule, list(reasons))


def splice(spark, history, daily, start, end, last_tiered, policy_version=VERSION) -> dict[str, list[tuple]]:
    result = spliced_history(
        spark.createDataFrame(history, ACCOUNT_TIERS),
        spark.createDataFrame(daily, DAILY),
        start,
        end,
        last_tiered,
        policy_version,
    ).collect()
    spells: dict[str, list[tuple]] = {}
    for row in sorted(result, key=lambda row: (row["account_id"], row["valid_from"])):
        spells.setdefault(row["account_id"], []).append(tuple(row))
    return spells


def test_first_run_collapses_consecutive_equal_tiers_into_spells(spark):
    daily = [
        daily_row("pa_mover", day(1), "B"),
        daily_row("pa_mover", day(2), "B"),
        daily_row("pa_mover", day(3), "C", ("f_1",)),
        daily_row("pa_mover", day(4), "C", ("f_1", "f_2")),
        daily_row("pa_mover", day(5), "B"),
    ] + [daily_row("pa_steady", day(number), "A") for number in range(1, 6)]
    assert splice(spark, [], daily, day(1), day(5), None) == {
        "pa_mover": [
            spell("pa_mover", "B", day(1), day(3)),
            spell("pa_mover", "C", day(3), day(5), ("f_1",)),
            spell("pa_mover", "B", day(5), None),
        ],
        "pa_steady": [spell("pa_steady", "A", day(1), None)],
    }


def test_nightly_run_keeps_an_unchanged_tier_and_closes_a_changed_one(spark):
    history = [
        spell("pa_same", "C", day(1), day(2), ("f_old",)),
        spell("pa_same", "B", day(2), None),
        spell("pa_change", "B", day(2), None),
        spell("pa_rerun", "B", day(2), day(6)),
        spell("pa_rerun", "C", day(6), None, ("f_6",)),
        spell("pa_new_policy", "B", day(2), None, version="credit_tiers/0"),
    ]
    daily = [
        daily_row("pa_same", day(6), "B"),
        daily_row("pa_change", day(6), "C", ("f_9",)),
        daily_row("pa_rerun", day(6), "C", ("f_6",)),
        daily_row("pa_new_policy", day(6), "B"),
        daily_row("pa_first_seen", day(6), "B"),
    ]
    assert splice(spark, history, daily, day(6), day(6), day(5)) == {
        "pa_same": [spell("pa_same", "B", day(2), None)],
        "pa_change": [spell("pa_change", "B", day(2), day(6)), spell("pa_change", "C", day(6), None, ("f_9",))],
        "pa_rerun": [spell("pa_rerun", "B", day(2), day(6)), spell("pa_rerun", "C", day(6), None, ("f_6",))],
        "pa_new_policy": [
            spell("pa_new_policy", "B", day(2), day(6), version="credit_tiers/0"),
            spell("pa_new_policy", "B", day(6), None),
        ],
        "pa_first_seen": [spell("pa_first_seen", "B", day(6), None)],
    }


def later_history(account_id: str, c_until: date) -> list[tuple]:
    return [
        spell(account_id, "A", day(1), day(2)),
        spell(account_id, "B", day(2), day(4)),
        spell(account_id, "C", day(4), c_until, ("f_4",)),
        spell(account_id, "B", c_until, None),
    ]


def test_rerun_of_past_days_keeps_the_spells_written_after_them(spark):
    history = later_history("pa_split", day(8)) + later_history("pa_collapse", day(6))
    history += later_history("pa_unchanged", day(8))
    daily = [
        daily_row("pa_split", day(4), "B"),
        daily_row("pa_split", day(5), "B"),
        daily_row("pa_collapse", day(4), "B"),
        daily_row("pa_collapse", day(5), "B"),
        daily_row("pa_unchanged", day(4), "C", ("f_4",)),
        daily_row("pa_unchanged", day(5), "C", ("f_4",)),
    ]
    assert splice(spark, history, daily, day(4), day(5), day(10)) == {
        "pa_split": [
            spell("pa_split", "B", day(2), day(6)),
            spell("pa_split", "C", day(6), day(8), ("f_4",)),
            spell("pa_split", "B", day(8), None),
        ],
        "pa_collapse": [spell("pa_collapse", "B", day(2), None)],
        "pa_unchanged": later_history("pa_unchanged", day(8))[1:],
    }


def test_rerun_of_the_last_tiered_days_replaces_the_current_spell(spark):
    history = later_history("pa_current", day(8))[:3]
    history[-1] = spell("pa_current", "C", day(4), None, ("f_4",))
    daily = [daily_row("pa_current", day(4), "B"), daily_row("pa_current", day(5), "B")]
    assert splice(spark, history, daily, day(4), day(5), day(5)) == {
        "pa_current": [spell("pa_current", "B", day(2), None)],
    }
