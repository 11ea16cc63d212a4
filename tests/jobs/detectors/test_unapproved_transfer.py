from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from pyspark.sql import functions as F

from accountwatch.jobs.core.config import TransferSettings
from accountwatch.jobs.detectors.unapproved_transfer import (
    operator_handovers,
    sentence,
    subject_changes,
    transfer_evidence,
    unapproved,
)

D = date(2026, 5, 20)
SETTINGS = TransferSettings()
OPERATOR_DAILY = (
    "account_id string, actor_id string, ingest_date date, uses long, first_at timestamp, last_at timestamp, "
    "devices array<string>, networks array<string>"
)
FIRST_SEEN = "account_id string, actor_id string, first_seen_on date, last_seen_on date"
CHANGES = (
    "account_id string, account_type string, subject_id string, updated_at timestamp, ingest_date date, "
    "source_file string, source_row long"
)
APPLICATIONS = "account_id string, application_id string, decision string, decided_at timestamp, to_subject_id string"


def day(offset: int) -> date:
    return D + timedelta(days=offset)


def use(account: str, actor: str, offset: int, device: str | None, network: str | None) -> tuple:
    at = datetime.combine(day(offset), datetime.min.time()) + timedelta(hours=10)
    return (account, actor, day(offset), 1, at, at, [device] if device else [], [network] if network else [])


def history(
    account: str, actor: str, first: int, last: int, device: str | None, network: str | None, every: int = 3
) -> list:
    return [use(account, actor, offset, device, network) for offset in range(first, last + 1, every)]


def handovers(spark, rows: list[tuple], subject_of: dict[str, str] | None = None):
    daily = spark.createDataFrame(rows, OPERATOR_DAILY)
    seen = (
        daily.groupBy("account_id", "actor_id")
        .agg({"ingest_date": "min"})
        .withColumnRenamed("min(ingest_date)", "first_seen_on")
    )
    seen = seen.withColumn("last_seen_on", seen["first_seen_on"])
    subjects = spark.createDataFrame(
        [(account, D, (subject_of or {}).get(account, f"s_{account}")) for account in sorted({row[0] for row in rows})],
        "account_id string, run_date date, subject_id string",
    )
    return daily.transform(operator_handovers([D], seen, subjects, SETTINGS))


def accounts(frame) -> list[str]:
    return sorted(row["account_id"] for row in frame.select("account_id").collect())


def test_new_operators_from_new_devices_and_networks_replacing_silent_old_ones_are_a_handover(spark):
    rows = [
        # sold: the seller ran it for two months, stopped five days ago; the buyer starts today elsewhere.
        *history("sold", "op_seller", -60, -5, "dev-s", "10.0.1.0/24"),
        use("sold", "op_buyer", 0, "dev-b", "172.16.9.0/24"),
        # rotation with overlap: the old operator still acts today.
        *history("overlap", "op_old", -60, -3, "dev-o", "10.0.2.0/24"),
        use("overlap", "op_old", 0, "dev-o", "10.0.2.0/24"),
        use("overlap", "op_new", 0, "dev-n", "10.0.3.0/24"),
        # rotation inside one office: the old one stopped, the new one uses the office's network.
        *history("office", "op_left", -60, -10, "dev-l", "10.0.4.0/24"),
        use("office", "op_joined", 0, "dev-j", "10.0.4.0/24"),
        # the old operator last acted the day before: within the overlap days.
        *history("recent", "op_a", -61, -1, "dev-a", "10.0.5.0/24"),
        use("recent", "op_b", 0, "dev-b2", "10.0.6.0/24"),
        # one operator on a new phone: the same operator, so nobody new.
        *history("phone", "op_same", -60, -6, "dev-old", "10.0.7.0/24"),
        use("phone", "op_same", 0, "dev-new", "10.0.8.0/24"),
        # a new account's first operator: no old operators to replace.
        use("fresh", "op_first", 0, "dev-f", "10.0.9.0/24"),
        # old operators outside the 90-day window do not count.
        use("long_silent", "op_gone", -120, "dev-g", "10.0.10.0/24"),
        use("long_silent", "op_back", 0, "dev-k", "10.0.11.0/24"),
    ]
    found = handovers(spark, rows)
    assert accounts(found) == ["sold"]
    row = found.collect()[0]
    assert (row["old_operators"], row["new_operators"], row["last_old_use"]) == (["op_seller"], ["op_buyer"], day(-6))
    assert (row["new_devices"], row["new_networks"]) == (["dev-b"], ["172.16.9.0/24"])


def test_the_subjects_own_staff_and_operators_showing_no_device_or_address_are_no_handover(spark):
    rows = [
        # op_staff already ran the organisation's other account: staff moving between its accounts.
        *history("main", "op_a", -60, -5, "dev-a", "10.2.0.0/24"),
        *history("second", "op_staff", -60, -1, "dev-s", "10.2.1.0/24"),
        use("main", "op_staff", 0, "dev-s2", "10.2.2.0/24"),
        # rows without a device or an address (files written before those columns) cannot show a new source.
        *history("legacy", "op_old", -60, -5, None, None),
        use("legacy", "op_new", 0, None, None),
    ]
    assert accounts(handovers(spark, rows, {"main": "org", "second": "org"})) == []
    # The same day, with the staff member unknown to the organisation: a handover.
    assert accounts(handovers(spark, rows, {"main": "org", "second": "other"})) == ["main"]


def test_a_known_operator_returning_is_not_new_even_after_the_window(spark):
    rows = [
        use("rare", "op_x", -150, "dev-x", "10.1.0.0/24"),
        *history("rare", "op_y", -80, -10, "dev-y", "10.1.1.0/24", every=20),
        use("rare", "op_x", 0, "dev-x2", "10.1.2.0/24"),
    ]
    assert accounts(handovers(spark, rows)) == []


def test_a_handover_within_the_overlap_days_is_judged_once_the_old_operator_has_stayed_away_that_long(spark):
    rows = [
        # the seller acted last the day before the buyer began, then never again: a handover, seen on day 2.
        *history("sold_at_once", "op_seller", -61, -1, "dev-s", "10.3.0.0/24"),
        *[use("sold_at_once", "op_buyer", offset, "dev-b", "172.16.3.0/24") for offset in range(0, 5)],
        # the old operator still acts on the new one's first day and the day after: they overlap, never a handover.
        *history("overlap", "op_old", -60, -3, "dev-o", "10.3.1.0/24"),
        use("overlap", "op_old", 0, "dev-o", "10.3.1.0/24"),
        use("overlap", "op_old", 1, "dev-o", "10.3.1.0/24"),
        *[use("overlap", "op_new", offset, "dev-n", "10.3.2.0/24") for offset in range(0, 5)],
    ]
    daily = spark.createDataFrame(rows, OPERATOR_DAILY)
    seen = daily.groupBy("account_id", "actor_id").agg(F.min("ingest_date").alias("first_seen_on"))
    seen = seen.withColumn("last_seen_on", F.col("first_seen_on"))
    days = [day(offset) for offset in range(-1, 5)]
    subjects = spark.createDataFrame(
        [(account, run_day, f"s_{account}") for account in ("sold_at_once", "overlap") for run_day in days],
        "account_id string, run_date date, subject_id string",
    )
    found = daily.transform(operator_handovers(days, seen, subjects, SETTINGS)).collect()
    assert [(row["account_id"], row["run_date"]) for row in found] == [("sold_at_once", day(2))]
    assert (found[0]["old_operators"], found[0]["new_operators"], found[0]["last_old_use"]) == (
        ["op_seller"],
        ["op_buyer"],
        day(-1),
    )
    # A run of day 2 alone (the nightly run) judges it the same.
    nightly = daily.transform(operator_handovers([day(2)], seen, subjects, SETTINGS)).collect()
    assert [(row["account_id"], row["run_date"]) for row in nightly] == [("sold_at_once", day(2))]


def test_subject_changes_are_taken_per_folder_day_against_the_row_before(spark):
    at = datetime(2026, 5, 20, 9)
    rows = [
        ("moved", "public", "s_1", datetime(2025, 1, 1), date(2025, 1, 1), "a.csv", 1),
        ("moved", "public", "s_2", at, D, "b.csv", 1),
        ("renamed", "public", "s_3", datetime(2025, 1, 1), date(2025, 1, 1), "a.csv", 2),
        ("renamed", "public", "s_3", at, D, "b.csv", 2),
        ("earlier", "public", "s_4", datetime(2025, 1, 1), date(2025, 1, 1), "a.csv", 3),
        ("earlier", "public", "s_5", datetime(2026, 4, 1), date(2026, 4, 1), "c.csv", 1),
        ("earlier", "public", "s_5", at, D, "b.csv", 3),
    ]
    changes = spark.createDataFrame(rows, CHANGES).transform(subject_changes(D, D)).collect()
    assert [(row["account_id"], row["from_subject_id"], row["to_subject_id"]) for row in changes] == [
        ("moved", "s_1", "s_2")
    ]


def test_an_approved_application_covers_the_handover_a_rejected_one_makes_it_high(spark):
    changes = spark.createDataFrame(
        [(D, acc, "s_1", "s_2", datetime(2026, 5, 20, 9)) for acc in ("approved", "rejected", "stale", "none")],
        "run_date date, account_id string, from_subject_id string, to_subject_id string, changed_at timestamp",
    )
    empty = spark.createDataFrame(
        [],
        "account_id string, run_date date, new_operators array<string>, new_devices array<string>, "
        "new_networks array<string>, old_operators array<string>, last_old_use date",
    )
    applications = spark.createDataFrame(
        [
            ("approved", "app-1", "approved", datetime(2026, 4, 25, 10), "s_2"),
            ("rejected", "app-2", "rejected", datetime(2026, 5, 1, 10), "s_2"),
            # approved, but 31 days before the end of the day: too old to cover it.
            ("stale", "app-3", "approved", datetime(2026, 4, 19, 23), "s_2"),
        ],
        APPLICATIONS,
    )
    found = changes.transform(unapproved(empty, applications, SETTINGS)).withColumn(
        "subject_id", F.col("to_subject_id")
    )
    shaped = {row["account_id"]: row for row in found.transform(transfer_evidence(SETTINGS)).collect()}
    assert sorted(shaped) == ["none", "rejected", "stale"]
    assert shaped["rejected"]["score"] == 2.0 and shaped["none"]["score"] == 1.0
    evidence = json.loads(shaped["rejected"]["evidence"])
    assert evidence["changes"] == ["subject"]
    assert [app["application_id"] for app in evidence["applications"]] == ["app-2"]
    assert sentence(evidence) == (
        "subject changed from s_1 to s_2, after rejected application app-2 in the 30 days before"
    )
