"""The compact per-account daily counts ingest keeps (jobs/ingest/load.py), on literal frames."""

from __future__ import annotations

from datetime import date, datetime

from accountwatch.jobs.ingest.load import daily_account_counts
from accountwatch.schemas.events import ENGAGEMENT, SUBSCRIPTIONS

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
