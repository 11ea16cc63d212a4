"""Literal rows shared by the tests of `fake_engagement` and of its article baselines."""

from __future__ import annotations

from datetime import date, datetime

from accountwatch.jobs.core.config import EngagementSettings
from accountwatch.schemas.events import ARTICLE_DAILY

D = date(2026, 5, 20)
SETTINGS = EngagementSettings()
USERS = "account_id string, registered_at timestamp, subject_id string"
ACTIVITY = "user_id string, first_active_on date, first_account_id string, elsewhere_since date"
LONG_AGO = datetime(2024, 1, 1)


def no_articles(spark):
    """An `article_daily` with no rows: no article baseline by age."""
    return spark.createDataFrame([], ARTICLE_DAILY)


def activity_frame(spark, rows: list[tuple]):
    """`user_activity` rows; (user, first active) rows leave where unknown: never "active nowhere else"."""
    return spark.createDataFrame([row if len(row) == 4 else (*row, None, None) for row in rows], ACTIVITY)


def crowd(name: str, size: int) -> list[str]:
    return [f"{name}{i}" for i in range(size)]
