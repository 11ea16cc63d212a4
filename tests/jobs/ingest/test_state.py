"""The compact state ingest keeps (jobs/ingest/state.py): daily counts on literal frames, user activity merged."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pyspark.sql import functions as F

from accountwatch.jobs.core.lake import local_rows
from accountwatch.jobs.ingest.state import (
    AUDIENCE_ACTIVITY_MERGE,
    audience_activity,
    daily_account_counts,
    daily_article_counts,
)
from accountwatch.schemas.events import ENGAGEMENT, SUBSCRIPTIONS, USER_ACTIVITY

DAY = date(2026, 3, 10)
AT = datetime(2026, 3, 10, 9)


def engagement(account: str, kind: str, count: int, content: str | None) -> tuple:
    return (
        f"{account}-{kind}-{content}-{count}",
        account,
        "u1",
        kind,
        AT,
        count,
        DAY,
        DAY,
        "f",
        1,
        content,
        None,
        None,
    )


def test_the_top_article_is_the_largest_audience_of_one_article_and_null_without_article_ids(spark):
    rows = [
        engagement("pa_1", "read", 5, "a1"),
        engagement("pa_1", "like", 2, "a1"),
        engagement("pa_1", "read", 6, "a2"),
        engagement("pa_1", "publish", 1, "a3"),  # the operator's publish is not audience
        engagement("pa_1", "read", 9, None),  # no article named: counted in the day, not in an article
        engagement("pa_2", "read", 4, None),
    ]
    follows = [("e1", "pa_3", "u2", "follow", AT, "search", DAY, DAY, "f", 1)]
    daily = daily_account_counts(spark.createDataFrame(follows, SUBSCRIPTIONS), spark.createDataFrame(rows, ENGAGEMENT))
    got = {
        row["account_id"]: (row["reads"], row["likes"], row["follows"], row["top_article_events"])
        for row in daily.collect()
    }
    assert got == {"pa_1": (20, 2, 0, 7), "pa_2": (4, 0, 0, None), "pa_3": (0, 0, 1, None)}


def test_an_articles_day_counts_its_audience_events_and_leaves_out_rows_naming_no_article(spark):
    rows = [
        engagement("pa_1", "read", 5, "a1"),
        engagement("pa_1", "like", 2, "a1"),
        engagement("pa_1", "share", 1, "a1"),
        engagement("pa_1", "read", 6, "a2"),
        engagement("pa_1", "publish", 1, "a3"),  # the operator's publish is not audience
        engagement("pa_1", "read", 9, None),
        engagement("pa_2", "comment", 3, "b1"),
    ]
    articles = daily_article_counts(spark.createDataFrame(rows, ENGAGEMENT))
    got = {
        (row["account_id"], row["content_id"], row["event_date"], row["ingest_date"]): row["events"]
        for row in articles.collect()
    }
    assert got == {("pa_1", "a1", DAY, DAY): 8, ("pa_1", "a2", DAY, DAY): 6, ("pa_2", "b1", DAY, DAY): 3}


def read(actor: str, account: str, event_day: date, folder_day: date | None = None) -> tuple:
    stamp = datetime.combine(event_day, datetime.min.time()) + timedelta(hours=9)
    folder = folder_day or event_day
    return (
        f"{actor}-{account}-{folder}",
        account,
        actor,
        "read",
        stamp,
        1,
        event_day,
        folder,
        "f",
        1,
        "a1",
        None,
        None,
    )


def test_user_activity_merged_day_by_day_equals_one_range_and_a_user_first_seen_before_it_kept_accounts_stays_unknown(
    spark, lake
):
    one, two, three = DAY, DAY + timedelta(days=1), DAY + timedelta(days=2)
    rows = [
        read("u1", "pa_a", one),
        read("u1", "pa_a", two),
        read("u1", "pa_b", three),  # a second account on day three
        read("u2", "pa_b", one),
        read("u2", "pa_a", one),  # two accounts on its first day: the least id first, elsewhere that day
        read("u3", "pa_b", two),
        read("u3", "pa_a", three),
        read("u4", "pa_c", three),  # one account only
        read("u5", "pa_a", one, folder_day=three),  # delivered late: counts from its folder day
        read("u5", "pa_b", two),
        read("old", "pa_a", two),
    ]
    events = spark.createDataFrame(rows, ENGAGEMENT)
    legacy = (datetime(2025, 1, 1, 9), datetime(2025, 1, 1, 9), None, None)
    lake.upsert("user_activity", local_rows(spark, [("old", date(2025, 1, 1), *legacy)], USER_ACTIVITY), ["user_id"])

    def merge(folder_day: date) -> None:
        day = audience_activity(events.where(F.col("ingest_date") == folder_day))
        lake.upsert("user_activity", day, ["user_id"], update_set=AUDIENCE_ACTIVITY_MERGE)

    for folder_day in (one, two, three, two):  # the last: a rerun of day two
        merge(folder_day)
    where = {
        row["user_id"]: (row["first_active_on"], row["first_account_id"], row["elsewhere_since"])
        for row in lake.read("user_activity").collect()
    }
    assert where == {
        "u1": (one, "pa_a", three),
        "u2": (one, "pa_a", one),
        "u3": (two, "pa_b", three),
        "u4": (three, "pa_c", None),
        "u5": (two, "pa_b", three),
        "old": (date(2025, 1, 1), None, None),
    }
    in_one_range = audience_activity(events.where(F.col("actor_id") != "old")).collect()
    assert {row["user_id"]: tuple(row) for row in in_one_range} == {
        row["user_id"]: tuple(row) for row in lake.read("user_activity").where(F.col("user_id") != "old").collect()
    }
