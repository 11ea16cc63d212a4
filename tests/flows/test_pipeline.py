from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

from pyspark.sql import functions as F
from typer.testing import CliRunner

from accountwatch.flows.cli import app
from accountwatch.jobs.detectors.registry import names as detector_names
from accountwatch.jobs.evaluate import score_detectors

REPOSITORY = Path(__file__).resolve().parents[2]


def test_nightly_flow_after_backfill_finds_exactly_the_planted_accounts(platform_run):
    truth, lake, result = platform_run
    assert result["ingest"]["engagement"]["loaded"] > 0
    assert result["detect"]["detectors"]["dormant_account"]["judged_days"] == 1
    for score in score_detectors(lake.read("findings"), truth):
        assert score.planted > 0
        assert (score.precision, score.recall) == (1.0, 1.0), score


def test_bought_followers_are_flagged_on_the_purchase_day_and_viral_growth_never(platform_run):
    truth, lake, _ = platform_run
    spikes = lake.read("findings").where("detector = 'fake_follower_spike'").collect()
    assert truth.viral_days and truth.bought_followers()
    assert {(row["account_id"], row["run_date"]) for row in spikes} == set(truth.bought_followers())
    for row in spikes:
        evidence = json.loads(row["evidence"])
        assert evidence["observed_follows"] > evidence["baseline"]["expected_follows"]
        assert evidence["sample_follower_ids"]


def test_batch_registered_accounts_are_flagged_on_their_registration_day(platform_run):
    truth, lake, _ = platform_run
    batch = lake.read("findings").where("detector = 'batch_registration'").collect()
    assert {row["account_id"]: row["run_date"] for row in batch} == truth.batch_registration_days()
    negatives = {account_id for ids in truth.batch_negatives.values() for account_id in ids}
    assert negatives and not negatives & {row["account_id"] for row in batch}


def test_quarantine_holds_exactly_the_planted_bad_rows(platform_run):
    truth, lake, _ = platform_run
    counts = {row["reason"]: row["count"] for row in lake.read("quarantine").groupBy("reason").count().collect()}
    assert counts == {reason: count for reason, count in truth.bad_rows.items() if count}


def test_findings_command_prints_csv_with_the_findings_columns(platform_run):
    truth, lake, _ = platform_run
    result = CliRunner().invoke(
        app,
        [
            "findings",
            "--start",
            truth.start.isoformat(),
            "--end",
            truth.end.isoformat(),
            "--format",
            "csv",
            "--lake",
            str(lake.root),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == [
        "finding_id",
        "run_date",
        "detector",
        "account_id",
        "subject_id",
        "severity",
        "score",
        "evidence",
        "rule_version",
        "recommended_action",
        "evidence_key",
    ]
    assert len(rows) == lake.read("findings").count()
    assert all(isinstance(json.loads(row["evidence"]), dict) for row in rows)


def test_findings_command_filters_by_detector_as_json(platform_run):
    truth, lake, _ = platform_run
    result = CliRunner().invoke(
        app,
        [
            "findings",
            "--start",
            truth.start.isoformat(),
            "--end",
            truth.end.isoformat(),
            "--detector",
            "quota_overrun",
            "--format",
            "json",
            "--lake",
            str(lake.root),
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert {item["account_id"] for item in payload} == set(truth.quota_overrun)
    assert all(item["evidence"]["limit"] >= 1 for item in payload)


def test_a_blacklisted_subjects_return_and_closed_name_look_alikes_are_flagged_and_common_or_distant_names_not(
    platform_run,
):
    truth, lake, _ = platform_run
    found = {
        detector: {
            (row["account_id"], row["run_date"]): row
            for row in lake.read("findings").where(F.col("detector") == detector).collect()
        }
        for detector in ("blacklisted_subject_registration", "closed_name_reregistration")
    }
    assert set(found["blacklisted_subject_registration"]) == set(truth.blacklisted_subject_registration)
    assert set(found["closed_name_reregistration"]) == set(truth.closed_name_reregistration)
    severities = sorted(row["severity"] for row in found["closed_name_reregistration"].values())
    assert severities == ["high", "high", "high", "medium", "medium"]
    assert truth.closed_name_negatives and truth.common_name_collisions
    flagged = {account for account, _ in found["closed_name_reregistration"]}
    assert not flagged & {account for account, _ in truth.common_name_collisions}
    assert not flagged & set(truth.closed_name_negatives)
    listed = lake.read("blacklist").where("entity_type = 'subject' AND status = 'active'").collect()
    assert listed and all(row["finding_ids"] for row in listed)


def test_evaluate_command_scores_every_detector_against_the_planted_truth(platform_run):
    _, lake, _ = platform_run
    result = CliRunner().invoke(
        app,
        ["evaluate", "--landing", str(lake.root.parent / "landing"), "--lake", str(lake.root)],
        env={"COLUMNS": "160"},
    )
    assert result.exit_code == 0, result.output
    score_lines = [line for line in result.stdout.splitlines() if "1.000" in line]
    detectors = (*[name for name in detector_names() if name != "fake_follower_spike"], "fake_follower_spike")
    for detector in detectors:
        assert any(detector in line and line.count("1.000") == 2 for line in score_lines), result.stdout


def test_evaluate_refuses_a_landing_folder_without_planted_truth(tmp_path):
    result = run_cli("evaluate", "--landing", str(tmp_path), "--lake", str(tmp_path / "lake"))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"accountwatch: error: no truth.json in {tmp_path}: only a synthetic platform (accountwatch demo) has one"
    )


def run_cli(*arguments: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "accountwatch.flows.cli", *arguments],
        capture_output=True,
        text=True,
        cwd=REPOSITORY,
        env=env,
        timeout=120,
    )


def test_run_without_pii_key_fails_with_one_line(tmp_path):
    import os

    env = {key: value for key, value in os.environ.items() if key != "ACCOUNTWATCH_PII_KEY"}
    result = run_cli(
        "run", "--date", "2026-03-01", "--landing", str(tmp_path), "--lake", str(tmp_path / "lake"), env=env
    )
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "ACCOUNTWATCH_PII_KEY" in result.stderr


def test_bad_date_fails_with_one_line(tmp_path):
    result = run_cli("backfill", "--start", "2026-02-30", "--end", "2026-03-01", "--lake", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.strip() == "accountwatch: error: --start '2026-02-30' is not a date (expected YYYY-MM-DD)"


def test_findings_needs_a_date_or_a_range(tmp_path):
    result = run_cli("findings", "--lake", str(tmp_path))
    assert result.returncode == 1 and "give --date D, or --start D1 and --end D2" in result.stderr
