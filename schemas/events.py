"""Event tables and the compact per-account state derived from them."""

from __future__ import annotations

from pyspark.sql.types import ArrayType, DateType, LongType, StringType, StructField, StructType, TimestampType

SUBSCRIPTIONS = StructType(
    [
        StructField("event_id", StringType(), False),
        StructField("account_id", StringType(), False),
        StructField("user_id", StringType(), False),
        StructField("action", StringType(), False),
        StructField("event_ts", TimestampType(), False),
        StructField("channel", StringType(), True),
        StructField("event_date", DateType(), False),
        StructField("ingest_date", DateType(), False),
        StructField("source_file", StringType(), False),
        StructField("source_row", LongType(), False),
    ]
)

ENGAGEMENT = StructType(
    [
        StructField("event_id", StringType(), False),
        StructField("account_id", StringType(), False),
        StructField("actor_id", StringType(), True),
        StructField("event_type", StringType(), False),
        StructField("event_ts", TimestampType(), False),
        StructField("count", LongType(), False),
        StructField("event_date", DateType(), False),
        StructField("ingest_date", DateType(), False),
        StructField("source_file", StringType(), False),
        StructField("source_row", LongType(), False),
        # Optional landing columns added later; a lake written before them gains them as null columns.
        StructField("content_id", StringType(), True),
        StructField("ip", StringType(), True),
        StructField("device_id", StringType(), True),
    ]
)

# The platform's decisions on applications to transfer or give away a public account, one row per application.
TRANSFERS = StructType(
    [
        StructField("application_id", StringType(), False),
        StructField("account_id", StringType(), False),
        StructField("from_subject_id", StringType(), False),
        StructField("to_subject_id", StringType(), False),
        StructField("kind", StringType(), False),
        StructField("decision", StringType(), False),
        StructField("decided_at", TimestampType(), False),
        StructField("ingest_date", DateType(), False),
        StructField("source_file", StringType(), False),
        StructField("source_row", LongType(), False),
    ]
)

# Per account, operator (actor of a login or publish) and delivering folder day: what `unapproved_transfer` reads.
OPERATOR_DAILY = StructType(
    [
        StructField("account_id", StringType(), False),
        StructField("actor_id", StringType(), False),
        StructField("ingest_date", DateType(), False),
        StructField("uses", LongType(), False),
        StructField("first_at", TimestampType(), False),
        StructField("last_at", TimestampType(), False),
        StructField("devices", ArrayType(StringType()), False),
        StructField("networks", ArrayType(StringType()), False),
    ]
)

# Per account and operator: the first and last folder day that showed them log in or publish, MERGEd daily.
ACCOUNT_OPERATORS = StructType(
    [
        StructField("account_id", StringType(), False),
        StructField("actor_id", StringType(), False),
        StructField("first_seen_on", DateType(), False),
        StructField("last_seen_on", DateType(), False),
    ]
)

# Per public account: its latest operator use, MERGEd from each day's engagement.
ACCOUNT_ACTIVITY = StructType(
    [
        StructField("account_id", StringType(), False),
        StructField("last_login_at", TimestampType(), True),
        StructField("last_publish_at", TimestampType(), True),
    ]
)

# Per user (actor_id): when they first and last acted as audience (read, like, share, comment), MERGEd daily.
# first_active_on is the first folder day that showed such an action, so "active by day D" reads the same in
# a nightly run of D and in a backfill that has loaded later days too. Where: first_account_id is the account of
# that first folder day (the least id when several), elsewhere_since the first folder day that showed such an action
# on a second account (null while there is none), so "active nowhere else but A by day D" reads the same way. Both are
# null for a user first seen before they joined the table (not known, so never "nowhere else").
USER_ACTIVITY = StructType(
    [
        StructField("user_id", StringType(), False),
        StructField("first_active_on", DateType(), False),
        StructField("first_active_at", TimestampType(), False),
        StructField("last_active_at", TimestampType(), False),
        StructField("first_account_id", StringType(), True),
        StructField("elsewhere_since", DateType(), True),
    ]
)

# Per account, event day and the folder day that delivered the events: compact daily counts.
ACCOUNT_DAILY = StructType(
    [
        StructField("account_id", StringType(), False),
        StructField("event_date", DateType(), False),
        StructField("ingest_date", DateType(), False),
        StructField("logins", LongType(), False),
        StructField("publishes", LongType(), False),
        StructField("last_login_at", TimestampType(), True),
        StructField("last_publish_at", TimestampType(), True),
        StructField("reads", LongType(), False),
        StructField("likes", LongType(), False),
        StructField("shares", LongType(), False),
        StructField("comments", LongType(), False),
        StructField("follows", LongType(), False),
        StructField("unfollows", LongType(), False),
        # The largest audience (reads, likes, shares, comments) of one article among the rows; null when no audience
        # row names its article (files written before `content_id`).
        StructField("top_article_events", LongType(), True),
    ]
)

# Per account, article (content_id), event day and the folder day that delivered the events: the article's audience
# (reads, likes, shares, comments, counts included) from the rows that name it. What an article's baseline over its
# own first days reads (`fake_engagement`).
ARTICLE_DAILY = StructType(
    [
        StructField("account_id", StringType(), False),
        StructField("content_id", StringType(), False),
        StructField("event_date", DateType(), False),
        StructField("ingest_date", DateType(), False),
        StructField("events", LongType(), False),
    ]
)
