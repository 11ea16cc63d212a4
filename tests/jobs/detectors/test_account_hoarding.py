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


OPERATORS = "account_id string, actor_id string, first_seen_on date, last_seen_on date"
TAKEOVERS = "account_id string, actor_id string, taken_over_on date"


def _spread(prefix: str, count: int, last_publish: datetime | None) -> list:
    """`count` public accounts of `count` subjects (one each, far below a subject's threshold)."""
    return [
        (D, f"{prefix}_{i}", "public", f"{prefix}_subject_{i}", "individual", OLD, "active", None, last_publish)
        for i in range(count)
    ]


def _operated(operator: str, accounts: list, first_seen: date = date(2026, 1, 5)):
    return [(row[1], operator, first_seen, date(2026, 6, 29)) for row in accounts]


def by_operator(spark, rows, operators, takeovers=None) -> dict[str, tuple]:
    snapshots = spark.createDataFrame(rows, SNAPSHOT)
    found = snapshots.transform(
        hoarded_accounts(
            SETTINGS,
            spark.createDataFrame(operators, OPERATORS),
            spark.createDataFrame(takeovers or [], TAKEOVERS),
        )
    )
    return {row["account_id"]: (row["holder"], row["operator_id"], row["idle_count"]) for row in found.collect()}


def test_one_operator_holding_five_idle_accounts_of_five_subjects_is_a_hoard(spark):
    spread = _spread("spread", 5, None)
    few = _spread("few", 4, None)
    agency = _spread("client", 6, datetime(2026, 6, 28))
    operators = _operated("op_spread", spread) + _operated("op_few", few)
    operators += _operated("op_agency", agency)
    # An operator who only starts on an account after the day does not hold it yet.
    late = [(row[1], "op_few", date(2026, 7, 2), date(2026, 7, 2)) for row in _spread("late", 1, None)]
    found = by_operator(spark, spread + few + agency + _spread("late", 1, None), operators + late)
    assert found == {f"spread_{i}": ("operator", "op_spread", 5) for i in range(5)}


def test_a_subjects_hoard_is_named_by_its_subject_even_when_one_operator_runs_it(spark):
    rows = holder("media_house", 5, None)
    found = by_operator(spark, rows, _operated("op_staff", rows))
    assert set(found.values()) == {("subject", None, 5)}


def test_aged_accounts_taken_over_within_the_window_count_although_they_now_publish(spark):
    # Five aged accounts the operator took over ten days ago and publishes from now: not idle, but bought stock.
    taken = _spread("aged", 5, datetime(2026, 6, 29))
    takeovers = [(row[1], "op_buyer", date(2026, 6, 20)) for row in taken]
    operators = _operated("op_buyer", taken, date(2026, 6, 20))
    found = by_operator(spark, taken, operators, takeovers)
    assert found == {f"aged_{i}": ("operator", "op_buyer", 5) for i in range(5)}
    # Taken over more than takeover_days before the day: used since, so no longer held.
    stale = [(account, actor, date(2026, 5, 30)) for account, actor, _ in takeovers]
    assert by_operator(spark, taken, operators, stale) == {}
    # Four taken over and one idle account logged in to: five in all.
    mixed_rows = taken[:4] + _spread("idle", 1, None)
    mixed_ops = _operated("op_buyer", mixed_rows, date(2026, 6, 20))
    assert len(by_operator(spark, mixed_rows, mixed_ops, takeovers[:4])) == 5


def test_a_takeover_counts_only_when_the_account_had_aged_unused_before_it(spark):
    from accountwatch.jobs.detectors.account_hoarding import aged_takeovers

    taken_on = date(2026, 6, 20)
    operators = spark.createDataFrame(
        [(name, "op_buyer", taken_on, taken_on) for name in ("aged", "young", "published", "published_late")],
        OPERATORS,
    )
    registrations = spark.createDataFrame(
        [("aged", OLD), ("young", datetime(2026, 5, 1)), ("published", OLD), ("published_late", OLD)],
        "account_id string, registered_at timestamp",
    )
    publishes = spark.createDataFrame(
        [
            # Published in the 90 days before the takeover: in use, not aged stock.
            ("published", date(2026, 5, 1), date(2026, 5, 1)),
            # A publish delivered after the takeover day is not known on it (so a backfill equals nightly runs).
            ("published_late", date(2026, 6, 10), date(2026, 6, 25)),
            # Published more than 90 days before: aged since.
            ("aged", date(2026, 3, 1), date(2026, 3, 1)),
        ],
        "account_id string, event_date date, ingest_date date",
    )
    found = aged_takeovers(operators, publishes, registrations, SETTINGS)
    assert sorted(row["account_id"] for row in found.collect()) == ["aged", "published_late"]


def test_operator_evidence_names_the_operator_and_the_taken_over_accounts(spark):
    taken = _spread("aged", 5, datetime(2026, 6, 29))
    takeovers = [(row[1], "op_buyer", date(2026, 6, 20)) for row in taken[:2]]
    idle_rows = [(*row[:8], None) for row in taken[2:]]
    rows = taken[:2] + idle_rows
    operators = _operated("op_buyer", rows, date(2026, 6, 20))
    found = spark.createDataFrame(rows, SNAPSHOT).transform(
        hoarded_accounts(
            SETTINGS, spark.createDataFrame(operators, OPERATORS), spark.createDataFrame(takeovers, TAKEOVERS)
        )
    )
    evidence = json.loads(found.transform(hoarding_evidence(SETTINGS)).collect()[0]["evidence"])
    assert (evidence["holder"], evidence["operator_id"], evidence["taken_over"]) == (
        "operator",
        "op_buyer",
        ["aged_0", "aged_1"],
    )
    assert sentence(evidence) == (
        "one of 5 unused public accounts operated by op_buyer across subjects, 2 of them taken over after they had "
        "aged unused (threshold 5); last publish " + (evidence["last_publish_at"] or "never")
    )
