"""The compact operator state: per account, operator and folder day, the uses, devices and networks seen.

`unapproved_transfer` reads it instead of the raw engagement history: who ran an account over the last 90 days
is a few rows per account and day, whatever the audience's size.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from accountwatch.jobs.core.networks import network_of
from accountwatch.schemas.landing import USE_EVENT_TYPES

# The most devices and networks one operator's day keeps (a farm of phones would otherwise grow a row without end).
MAX_PER_DAY = 50


def daily_operators(engagement: DataFrame) -> DataFrame:
    """Per account, operator (the actor of a login or publish) and folder day: uses, first and last, devices, networks.

    Keyed by the folder day that delivered the events, so a nightly run of D and a backfill through D see the
    same state as of D.
    """
    uses = engagement.where(F.col("event_type").isin(*USE_EVENT_TYPES) & F.col("actor_id").isNotNull())

    def capped(values: Column) -> Column:
        return F.slice(F.array_sort(F.collect_set(values)), 1, MAX_PER_DAY)

    return uses.groupBy("account_id", "actor_id", "ingest_date").agg(
        F.sum("count").alias("uses"),
        F.min("event_ts").alias("first_at"),
        F.max("event_ts").alias("last_at"),
        capped(F.col("device_id")).alias("devices"),
        capped(network_of(F.col("ip"))).alias("networks"),
    )
