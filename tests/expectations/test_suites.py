from __future__ import annotations

from datetime import date, datetime

from accountwatch.expectations.runner import validate
from accountwatch.schemas.events import ENGAGEMENT, TRANSFERS

DAY = date(2026, 3, 1)


def engagement_rows(spark, rows):
    return spark.createDataFrame(
        [
            (event_id, "pa_1", "op", event_type, datetime(2026, 3, 1, 9), count, DAY, DAY, "f", 1, None, None, None)
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


def test_transfers_suite_fails_duplicate_applications_and_unknown_decisions(spark):
    def decision(application_id: str, decision: str) -> tuple:
        return (application_id, "pa_1", "s_1", "s_2", "transfer", decision, datetime(2026, 3, 1, 9), DAY, "f", 1)

    clean = validate(
        "transfers", spark.createDataFrame([decision("a1", "approved"), decision("a2", "rejected")], TRANSFERS)
    )
    assert clean.failures == []
    bad = validate(
        "transfers", spark.createDataFrame([decision("a1", "approved"), decision("a1", "pending")], TRANSFERS)
    )
    failed = {(result["expectation"], result["column"]) for result in bad.results if not result["success"]}
    assert failed == {
        ("expect_column_values_to_be_unique", "application_id"),
        ("expect_column_values_to_be_in_set", "decision"),
    }


def tier_rows(spark, rows):
    from accountwatch.schemas.standing import ACCOUNT_TIERS

    return spark.createDataFrame(
        [
            (account, tier, "rule", reasons, "credit_tiers/1", valid_from, valid_to, valid_to is None)
            for account, tier, reasons, valid_from, valid_to in rows
        ],
        ACCOUNT_TIERS,
    )


def test_tier_suite_passes_a_clean_history_and_fails_two_current_rows_or_an_unexplained_restriction(spark):
    clean = [("pa_1", "C", ["f1"], DAY, date(2026, 3, 5)), ("pa_1", "B", [], date(2026, 3, 5), None)]
    assert validate("account_tiers", tier_rows(spark, clean)).failures == []
    broken = [("pa_1", "C", ["f1"], DAY, None), ("pa_1", "D", [], date(2026, 3, 5), None)]
    failures = validate("account_tiers", tier_rows(spark, broken)).failures
    assert any("current_rows" in failure for failure in failures)
    assert any("unexplained" in failure for failure in failures)


def test_blacklist_suite_fails_an_entry_citing_no_findings_and_two_active_entries_for_one_entity(spark):
    from accountwatch.schemas.standing import BLACKLIST

    def entry(entry_id, finding_ids):
        stamp = datetime(2026, 3, 1, 2)
        return (
            entry_id,
            "account",
            "pa_1",
            "s_1",
            ["r"],
            "why",
            finding_ids,
            DAY,
            "blacklist/1",
            "active",
            "accountwatch",
            stamp,
            "listed",
            None,
            True,
        )

    assert validate("blacklist", spark.createDataFrame([entry("e1", ["f1"])], BLACKLIST)).failures == []
    failures = validate("blacklist", spark.createDataFrame([entry("e1", ["f1"]), entry("e2", [])], BLACKLIST)).failures
    assert any("cited_findings" in failure for failure in failures)
    assert any("active_entries_of_entity" in failure for failure in failures)
