from __future__ import annotations

from datetime import date, datetime

from expectations.runner import validate
from schemas.events import ENGAGEMENT

DAY = date(2026, 3, 1)


def engagement_rows(spark, rows):
    return spark.createDataFrame(
        [
            (event_id, "pa_1", "op", event_type, datetime(2026, 3, 1, 9), count, DAY, DAY, "f", 1)
            for event_id, event_type, count in rows
        ],
        ENGAGEMENT,
    )


def test_engagement_suite_passes_clean_rows(spark):
    outcome = validate("engagement", engagement_rows(spark, [("e1", "login", 1), ("e2", "read", 3)]))
    assert outcome.failures == []
    assert all(result["evaluated"] == 2 for result in outcome.results if result["evaluated"] is not None)


def test_engagement_suite_fails_duplicate_ids_and_counts_below_one(spark):
    outcome = validate("engagement", engagement_rows(spark, [("e1", "login", 1), ("e1", "read", 0)]))
    failed = {result["expectation"] for result in outcome.results if not result["success"]}
    assert failed == {"expect_column_values_to_be_unique", "expect_column_values_to_be_between"}
    assert any("event_id" in failure for failure in outcome.failures)


def test_results_become_dq_rows_for_the_ingest_range(spark):
    outcome = validate("engagement", engagement_rows(spark, [("e1", "login", 1)]))
    rows = outcome.rows(date(2026, 3, 1), date(2026, 3, 2))
    assert rows and all(row[:3] == ("engagement", DAY, date(2026, 3, 2)) for row in rows)
