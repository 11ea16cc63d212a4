from __future__ import annotations

from accountwatch.flows.artifacts import artifact_key, findings_table, summary_markdown

DETECT = {
    "detectors": {
        "dormant_account": {"findings": 0, "judged_days": 0, "skipped": {"2026-07-19": "history too short"}},
        "fake_follower_spike": {"findings": 3, "judged_days": 1, "skipped": {}},
    },
    "standing": {
        "suppressed": 1,
        "listed": [["subject", "sb1"]],
        "lifted": [],
        "tier_rows": 4,
        "current_tiers": {"B": 10, "D": 2},
    },
}
INGEST = {
    "accounts": {"files": 1, "landed": 10, "loaded": 9, "quarantined": {"missing_value": 1}},
    "engagement": {"files": 2, "landed": 50, "loaded": 50, "quarantined": {}},
}
CHECKS = [
    {
        "table_name": "accounts",
        "expectation": "not_null",
        "column_name": "account_id",
        "success": True,
        "unexpected_rows": 0,
    },
    {
        "table_name": "findings",
        "expectation": "values_in_set",
        "column_name": "severity",
        "success": False,
        "unexpected_rows": 2,
    },
]


def test_artifact_keys_are_prefect_keys_one_per_kind_and_content():
    assert artifact_key("nightly", "findings") == "accountwatch-nightly-findings"
    assert artifact_key("backfill", "summary") != artifact_key("nightly", "summary")


def test_findings_table_has_a_row_per_detector_with_why_a_day_was_not_judged():
    rows = findings_table(DETECT)
    assert rows == [
        {
            "detector": "dormant_account",
            "days judged": 0,
            "new findings": 0,
            "not judged": "1 day(s): history too short",
        },
        {"detector": "fake_follower_spike", "days judged": 1, "new findings": 3, "not judged": ""},
    ]


def test_summary_counts_quarantine_by_reason_and_lists_failed_expectations_only():
    text = summary_markdown("nightly", "2026-07-19", "2026-07-19", {"ingest": INGEST, "detect": DETECT}, CHECKS)
    assert text.startswith("# accountwatch nightly 2026-07-19\n")
    assert "| accounts | 1 | 10 | 9 | 1 | missing_value 1 |" in text
    assert "| engagement | 2 | 50 | 50 | 0 | - |" in text
    assert "2 expectations on 2 tables: 1 passed, 1 failed." in text
    assert "| findings | values_in_set | severity | 2 |" in text
    assert "not_null" not in text
    assert "- `fake_follower_spike`: 3" in text and "`dormant_account`" not in text.split("## Findings")[1]
    assert "- listed: 1, lifted: 0" in text and "B 10, D 2 (4 tier rows written)" in text


def test_summary_of_a_clean_run_lists_no_failed_expectation_table():
    passed = [check for check in CHECKS if check["success"]]
    text = summary_markdown("backfill", "2026-07-01", "2026-07-19", {"ingest": INGEST, "detect": DETECT}, passed)
    assert text.startswith("# accountwatch backfill 2026-07-01..2026-07-19\n")
    assert "1 passed, 0 failed." in text and "| table | expectation |" not in text
