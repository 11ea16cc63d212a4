"""The compact state ingest keeps beside the raw rows: what the nightly run reads instead of the history.

Each function turns a range's accepted rows into the rows of one state table; the MERGE rules that fold them into
what the table held make a nightly run of D and a backfill through D hold the same state as of D.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from accountwatch.jobs.core.lake import TABLES
from accountwatch.schemas.landing import AUDIENCE_EVENT_TYPES, USE_EVENT_TYPES


def latest_account_rows(changes: DataFrame) -> DataFrame:
    """One row per account: the latest `updated_at`, later deliveries winning ties."""
    latest_first = Window.partitionBy("account_id").orderBy(
        F.col("updated_at").desc(), F.col("ingest_date").desc(), F.col("source_file").desc(), F.col("source_row").desc()
    )
    return changes.withColumn("_rank", F.row_number().over(latest_first)).where("_rank = 1").drop("_rank")


def daily_account_counts(subscriptions: DataFrame, engagement: DataFrame) -> DataFrame:
    """Per account, event day and delivering folder day: operator use, audience counts and the top article's."""

    def count_of(event_type: str) -> Column:
        return F.sum(F.when(F.col("event_type") == event_type, F.col("count")).otherwise(0))

    def last_of(event_type: str) -> Column:
        return F.max(F.when(F.col("event_type") == event_type, F.col("event_ts")))

    keys = ["account_id", "event_date", "ingest_date"]
    engagement_daily = engagement.groupBy(*keys).agg(
        count_of("login").alias("logins"),
        count_of("publish").alias("publishes"),
        last_of("login").alias("last_login_at"),
        last_of("publish").alias("last_publish_at"),
        count_of("read").alias("reads"),
        count_of("like").alias("likes"),
        count_of("share").alias("shares"),
        count_of("comment").alias("comments"),
    )
    top_article = (
        engagement.where(F.col("event_type").isin(*AUDIENCE_EVENT_TYPES) & F.col("content_id").isNotNull())
        .groupBy(*keys, "content_id")
        .agg(F.sum("count").alias("article_events"))
        .groupBy(*keys)
        .agg(F.max("article_events").alias("top_article_events"))
    )
    follow_daily = subscriptions.groupBy(*keys).agg(
        F.sum(F.when(F.col("action") == "follow", 1).otherwise(0)).cast("long").alias("follows"),
        F.sum(F.when(F.col("action") == "unfollow", 1).otherwise(0)).cast("long").alias("unfollows"),
    )
    counts = ["logins", "publishes", "reads", "likes", "shares", "comments", "follows", "unfollows"]
    return (
        engagement_daily.join(top_article, keys, "left")
        .join(follow_daily, keys, "full")
        .fillna(0, subset=counts)
        .select(*TABLES["account_daily"].schema.fieldNames())
    )


def daily_article_counts(engagement: DataFrame) -> DataFrame:
    """Per account, article, event day and delivering folder day: the article's audience events (counts included)."""
    named = engagement.where(F.col("event_type").isin(*AUDIENCE_EVENT_TYPES) & F.col("content_id").isNotNull())
    return named.groupBy("account_id", "content_id", "event_date", "ingest_date").agg(
        F.sum("count").cast("long").alias("events")
    )


def latest_use(engagement: DataFrame) -> DataFrame:
    """Per account, the latest login and publish in `engagement`."""
    uses = engagement.where(F.col("event_type").isin(*USE_EVENT_TYPES))
    return uses.groupBy("account_id").agg(
        F.max(F.when(F.col("event_type") == "login", F.col("event_ts"))).alias("last_login_at"),
        F.max(F.when(F.col("event_type") == "publish", F.col("event_ts"))).alias("last_publish_at"),
    )


def audience_activity(engagement: DataFrame) -> DataFrame:
    """Per acting user, the `USER_ACTIVITY` row of their reads, likes, shares and comments.

    The first folder day and the first and last time they acted; the account of that first day and the first
    folder day they acted on a second account.
    """
    acts = engagement.where(F.col("event_type").isin(*AUDIENCE_EVENT_TYPES) & F.col("actor_id").isNotNull())
    per_account = acts.groupBy(F.col("actor_id").alias("user_id"), "account_id").agg(
        F.min("ingest_date").alias("first_on"), F.min("event_ts").alias("first_at"), F.max("event_ts").alias("last_at")
    )
    # The user's accounts in the order they first reached them (ties: the least id first).
    reached = F.array_sort(F.collect_list(F.struct("first_on", "account_id")))
    return (
        per_account.groupBy("user_id")
        .agg(
            reached.alias("reached"),
            F.min("first_at").alias("first_active_at"),
            F.max("last_at").alias("last_active_at"),
        )
        .select(
            "user_id",
            F.get("reached", 0)["first_on"].alias("first_active_on"),
            "first_active_at",
            "last_active_at",
            F.get("reached", 0)["account_id"].alias("first_account_id"),
            F.get("reached", 1)["first_on"].alias("elsewhere_since"),
        )
    )


# Merging a user's activity: least / greatest of the times; the accounts as one summary of both. A user the table
# held before it kept accounts (first_account_id null) stays unknown.
AUDIENCE_ACTIVITY_MERGE = {
    "first_active_on": "least(target.first_active_on, source.first_active_on)",
    "first_active_at": "least(target.first_active_at, source.first_active_at)",
    "last_active_at": "greatest(target.last_active_at, source.last_active_at)",
    "first_account_id": "CASE WHEN target.first_account_id IS NULL THEN NULL"
    " WHEN source.first_active_on < target.first_active_on THEN source.first_account_id"
    " WHEN source.first_active_on > target.first_active_on THEN target.first_account_id"
    " ELSE least(target.first_account_id, source.first_account_id) END",
    # The second account's first day: with the same first account, the sooner of the two; with different ones,
    # also the later first day (the account reached second by the union).
    "elsewhere_since": "CASE WHEN target.first_account_id IS NULL THEN NULL"
    " WHEN target.first_account_id = source.first_account_id"
    " THEN least(target.elsewhere_since, source.elsewhere_since)"
    " ELSE least(target.elsewhere_since, source.elsewhere_since,"
    " greatest(target.first_active_on, source.first_active_on)) END",
}
