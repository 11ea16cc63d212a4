"""An article's audience over its own first days against the account's earlier articles at the same age.

An article draws most of its audience in its first days. An article bought days after it came out hides inside the
account's day (its newest article draws more) and inside the day's top article (older articles draw less), but not
against the account's earlier articles on the same day of their life. Per account and run day D, each article that
drew at least `min_events` on D, on day k of its life (k = D minus the first day of its life, at most
`article_age_days`), is compared with the account's articles first read within the `baseline_days` before it (at
least `min_baseline_articles` of them) on their own day k: median and MAD, the same robust z as the account's
baselines. The day keeps its article furthest above its baseline, with both curves (its audience on days 0..k and
the baseline's) for the evidence and the chart.

Reads the compact `article_daily`, on-time rows only (delivered by their own day). An article's life starts on a day
it drew an audience after `quiet_days` without any, judged from the days before it alone, so an article's days
as of D read the same in a nightly run of D and in a backfill; an old article that revives starts a new life.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from accountwatch.jobs.core.config import EngagementSettings
from accountwatch.jobs.detectors.robust import robust_z

# The columns `article_age_spikes` adds per account and run day.
AGE_COLUMNS = (
    "age_content",
    "age_first_day",
    "age_days",
    "age_observed",
    "age_expected",
    "age_scale",
    "age_z",
    "age_articles",
    "observed_by_age",
    "expected_by_age",
)


def quiet_days(settings: EngagementSettings) -> int:
    """Days without audience before a day that make it the first of an article's life (twice the oldest age)."""
    return 2 * settings.article_age_days


def first_read_day(start: date, settings: EngagementSettings) -> date:
    """The first event day the article baselines of a run from `start` read."""
    return start - timedelta(days=settings.baseline_days + settings.article_age_days + quiet_days(settings))


def median_of(values: Column) -> Column:
    """The median of an array of numbers (the mean of the middle two when even; null when empty)."""
    ordered = F.array_sort(values)
    size = F.size(ordered)
    # Indexes from 1; an empty array gives index 1, out of bounds: null.
    low = F.try_element_at(ordered, F.greatest(((size + 1) / 2).cast("int"), F.lit(1)))
    high = F.try_element_at(ordered, (size / 2).cast("int") + 1)
    return (low + high) / F.lit(2.0)


def article_curves(start: date, end: date, settings: EngagementSettings) -> Callable[[DataFrame], DataFrame]:
    """Per account, article and life: the first day of the life and its audience on days 0..`article_age_days`.

    A life starts on a day the article drew an audience after `quiet_days` without any (its first day, or a revival
    of an old article); a day too close to the first day read to know is no start, nor are the days after it.
    """
    oldest, quiet, first_read = settings.article_age_days, quiet_days(settings), first_read_day(start, settings)

    def transform(articles: DataFrame) -> DataFrame:
        on_time = articles.where(
            F.col("event_date").between(F.lit(first_read), F.lit(end)) & (F.col("ingest_date") <= F.col("event_date"))
        )
        per_day = on_time.groupBy("account_id", "content_id", "event_date").agg(F.sum("events").alias("events"))
        in_order = Window.partitionBy("account_id", "content_id").orderBy("event_date")
        previous = F.lag("event_date").over(in_order)
        starts = F.when(
            (F.col("event_date") >= F.lit(first_read + timedelta(days=quiet)))
            & (previous.isNull() | (F.datediff("event_date", previous) > quiet)),
            F.col("event_date"),
        )
        by_age = F.map_from_entries(F.collect_list(F.struct("age", "events")))
        return (
            per_day.withColumn("_start", starts)
            .withColumn("first_day", F.max("_start").over(in_order.rowsBetween(Window.unboundedPreceding, 0)))
            .where(F.col("first_day").isNotNull())
            .withColumn("age", F.datediff("event_date", "first_day"))
            .where(F.col("age") <= oldest)
            .groupBy("account_id", "content_id", "first_day")
            .agg(by_age.alias("_by_age"))
            .select(
                "account_id",
                "content_id",
                "first_day",
                F.transform(
                    F.sequence(F.lit(0), F.lit(oldest)),
                    lambda age: F.coalesce(F.try_element_at("_by_age", age), F.lit(0)),
                ).alias("by_age"),
            )
        )

    return transform


# Long: the candidates, their earlier articles gathered, then both curves and the robust z in one projection.
def article_age_spikes(start: date, end: date, settings: EngagementSettings) -> Callable[[DataFrame], DataFrame]:
    """Per account and run day of start..end: its article furthest above its baseline by age (`AGE_COLUMNS`).

    `articles` are `article_daily` rows; an article-day without `min_baseline_articles` earlier articles has none.
    """

    def transform(articles: DataFrame) -> DataFrame:
        # Only accounts with an article drawing `min_events` on a run day can have a candidate: their curves alone.
        busy = (
            articles.where(F.col("event_date").between(F.lit(start), F.lit(end)))
            .groupBy("account_id", "content_id", "event_date")
            .agg(F.sum("events").alias("_events"))
            .where(F.col("_events") >= settings.min_events)
            .select("account_id")
            .distinct()
        )
        curves = articles.join(busy, "account_id", "semi").transform(article_curves(start, end, settings))
        candidates = (
            curves.withColumn("age", F.explode(F.sequence(F.lit(0), F.lit(settings.article_age_days))))
            .withColumn("run_date", F.date_add("first_day", F.col("age")))
            .withColumn("observed", F.col("by_age")[F.col("age")])
            .where(F.col("run_date").between(F.lit(start), F.lit(end)) & (F.col("observed") >= settings.min_events))
        )
        earlier = curves.select(
            F.col("account_id"),
            F.col("first_day").alias("_earlier_first"),
            F.col("by_age").alias("_earlier_by_age"),
        )
        window = (F.col("_earlier_first") < F.col("first_day")) & (
            F.col("_earlier_first") >= F.date_sub("first_day", settings.baseline_days)
        )
        keys = ["account_id", "run_date", "content_id", "first_day", "age", "observed", "by_age"]
        gathered = (
            candidates.join(earlier, "account_id")
            .where(window)
            .groupBy(*keys)
            .agg(F.collect_list("_earlier_by_age").alias("_earlier"))
            .where(F.size("_earlier") >= settings.min_baseline_articles)
        )
        expected_by_age = F.transform(
            F.sequence(F.lit(0), F.col("age")),
            lambda age: median_of(F.transform("_earlier", lambda curve: curve[age])),
        )
        expected = F.element_at("expected_by_age", F.col("age") + 1)
        mad = median_of(F.transform("_earlier", lambda curve: F.abs(curve[F.col("age")] - expected)))
        scale, z = robust_z(F.col("observed"), F.col("age_expected"), mad)
        scored = (
            gathered.withColumn("expected_by_age", expected_by_age)
            .withColumn("age_expected", expected)
            .withColumn("age_scale", scale)
            .withColumn("age_z", z)
        )
        best = F.max_by(
            F.struct(
                F.col("content_id").alias("age_content"),
                F.col("first_day").alias("age_first_day"),
                F.col("age").alias("age_days"),
                F.col("observed").alias("age_observed"),
                "age_expected",
                "age_scale",
                "age_z",
                F.size("_earlier").alias("age_articles"),
                F.slice("by_age", 1, F.col("age") + 1).alias("observed_by_age"),
                F.transform("expected_by_age", lambda value: F.round(value, 1)).alias("expected_by_age"),
            ),
            F.struct("age_z", "content_id"),
        )
        return (
            scored.groupBy("account_id", "run_date")
            .agg(best.alias("_best"))
            .select("account_id", "run_date", *[F.col(f"_best.{column}").alias(column) for column in AGE_COLUMNS])
        )

    return transform
