"""Prefect flows: ingest a day, detect a day, the nightly run and the bulk backfill.

Tasks are thin: they take plain values (dates as ISO strings, folder paths) and call jobs/.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.tasks import exponential_backoff

from accountwatch.expectations.runner import DataQualityError
from accountwatch.flows import artifacts
from accountwatch.flows.runtime import LakeBusyError, open_lake, writer_lock
from accountwatch.jobs.core import timing
from accountwatch.jobs.core.config import ConfigError, load_settings
from accountwatch.jobs.core.lake import LakeError
from accountwatch.jobs.core.pii import MissingPiiKeyError, PiiKeyMismatchError, pii_key_from_environment
from accountwatch.jobs.core.spark import SparkSetupError, sized_for
from accountwatch.jobs.detectors.run import detect_range
from accountwatch.jobs.ingest.landing import LandingError, days_between
from accountwatch.jobs.ingest.load import QuarantineThresholdError, ingest_range

IO_RETRIES = 3
# 10 s, 20 s, 40 s, each stretched by up to half again so retries of parallel runs do not line up.
IO_RETRY_DELAYS = exponential_backoff(backoff_factor=10)
IO_RETRY_JITTER = 0.5
# Bad input and bad set-up fail the same way every time: retrying them only delays the message.
NOT_RETRIED = (
    LandingError,
    QuarantineThresholdError,
    DataQualityError,
    MissingPiiKeyError,
    PiiKeyMismatchError,
    ConfigError,
    SparkSetupError,
    LakeBusyError,
    LakeError,
)


def _worth_retrying(task, task_run, state) -> bool:
    try:
        state.result()
    except NOT_RETRIED:
        return False
    except Exception:
        return True
    return False


def _log(message: str) -> None:
    get_run_logger().info(message)


@task(
    retries=IO_RETRIES,
    retry_delay_seconds=IO_RETRY_DELAYS,
    retry_jitter_factor=IO_RETRY_JITTER,
    retry_condition_fn=_worth_retrying,
    cache_policy=NO_CACHE,
)
def ingest_task(landing: str, lake_dir: str, config_file: str | None, start: str, end: str) -> dict:
    """Load the landing folders from start to end into the lake; the PII key comes from the environment."""
    with timing.stage("task ingest"):
        pii_key = pii_key_from_environment()
        lake, settings = open_lake(lake_dir, config_file)
        first, last = date.fromisoformat(start), date.fromisoformat(end)
        with sized_for(lake.spark, len(days_between(first, last)), settings):
            report = ingest_range(lake, Path(landing), first, last, settings, pii_key, _log)
    return {
        name: {
            "files": load.files,
            "landed": load.rows_landed,
            "loaded": load.rows_loaded,
            "quarantined": load.quarantined_by_reason,
            "redelivered": load.redelivered,
        }
        for name, load in report.tables.items()
    }


@task(
    retries=IO_RETRIES,
    retry_delay_seconds=IO_RETRY_DELAYS,
    retry_jitter_factor=IO_RETRY_JITTER,
    retry_condition_fn=_worth_retrying,
    cache_policy=NO_CACHE,
)
def detect_task(lake_dir: str, config_file: str | None, start: str, end: str, from_current_state: bool) -> dict:
    """Judge the days from start to end and write their findings."""
    with timing.stage("task detect"):
        lake, settings = open_lake(lake_dir, config_file)
        first, last = date.fromisoformat(start), date.fromisoformat(end)
        with sized_for(lake.spark, len(days_between(first, last)), settings):
            outcome = detect_range(lake, first, last, settings, from_current_state, _log)
    standing = outcome.standing
    return {
        "detectors": {
            name: {
                "findings": detected.findings,
                "judged_days": len(detected.judged_days),
                "skipped": {d.isoformat(): why for d, why in detected.skipped.items()},
            }
            for name, detected in outcome.detectors.items()
        },
        "standing": {
            "suppressed": standing.suppressed,
            "listed": [list(key) for key in standing.listed],
            "lifted": [list(key) for key in standing.lifted],
            "tier_rows": sum(standing.tier_moves.values()),
            "current_tiers": standing.current_tiers,
        },
    }


@task(cache_policy=NO_CACHE)
def latest_loaded_day(lake_dir: str, config_file: str | None) -> str | None:
    """The latest day whose landing files are loaded, if any."""
    from pyspark.sql import functions as F

    with timing.stage("task latest_loaded_day"):
        lake, _ = open_lake(lake_dir, config_file)
        latest = lake.read("loaded_days").agg(F.max("ingest_date")).collect()[0][0]
    return latest.isoformat() if latest else None


@flow(name="ingest_day")
def ingest_day(run_date: str, landing: str, lake_dir: str, config_file: str | None = None) -> dict:
    """Ingest one day's landing folders."""
    return ingest_task(landing, lake_dir, config_file, run_date, run_date)


@flow(name="detect_day")
def detect_day(run_date: str, lake_dir: str, config_file: str | None = None) -> dict:
    """Run the detectors for one day, from the compact current state when it is the latest loaded day."""
    latest = latest_loaded_day(lake_dir, config_file)
    from_current_state = latest is None or run_date >= latest
    return detect_task(lake_dir, config_file, run_date, run_date, from_current_state)


@task(cache_policy=NO_CACHE)
def publish_artifacts(kind: str, start: str, end: str, lake_dir: str, config_file: str | None, result: dict) -> None:
    """Publish the run's findings per detector (a table) and its summary (markdown) as Prefect artifacts."""
    from accountwatch.jobs.outputs.report import quality_results

    with timing.stage("task publish_artifacts: data-quality results"):
        lake, _ = open_lake(lake_dir, config_file)
        checks = quality_results(lake, date.fromisoformat(start), date.fromisoformat(end))
    create_table_artifact(
        artifacts.findings_table(result["detect"]),
        key=artifacts.artifact_key(kind, "findings"),
        description=f"accountwatch {kind} {start}..{end}: new findings per detector",
    )
    create_markdown_artifact(
        artifacts.summary_markdown(kind, start, end, result, checks),
        key=artifacts.artifact_key(kind, "summary"),
        description=f"accountwatch {kind} {start}..{end}: ingest, quarantine, data quality, blacklist and tiers",
    )


def yesterday(config_file: str | None) -> str:
    """Yesterday in the platform time zone: the day a nightly run processes by default."""
    settings = load_settings(config_file)
    return (datetime.now(settings.zone).date() - timedelta(days=1)).isoformat()


@flow(name="nightly")
def nightly(
    run_date: str | None = None,
    landing: str = "data/landing",
    lake_dir: str = "data/lake",
    config_file: str | None = None,
) -> dict:
    """The nightly run for one day (by default yesterday in the platform time zone): ingest it, then detect."""
    day = run_date or yesterday(config_file)
    wait = load_settings(config_file).lock_wait_seconds
    with writer_lock(lake_dir, f"the nightly run of {day}", wait, _log):
        loaded = ingest_day(day, landing, lake_dir, config_file)
        found = detect_day(day, lake_dir, config_file)
    result = {"run_date": day, "ingest": loaded, "detect": found}
    publish_artifacts("nightly", day, day, lake_dir, config_file, result)
    return result


@flow(name="backfill")
def backfill(
    start: str, end: str, landing: str = "data/landing", lake_dir: str = "data/lake", config_file: str | None = None
) -> dict:
    """Every day from start to end in one bulk job, with the same results as nightly runs."""
    wait = load_settings(config_file).lock_wait_seconds
    with writer_lock(lake_dir, f"the backfill of {start}..{end}", wait, _log):
        loaded = ingest_task(landing, lake_dir, config_file, start, end)
        found = detect_task(lake_dir, config_file, start, end, False)
    result = {"ingest": loaded, "detect": found}
    publish_artifacts("backfill", start, end, lake_dir, config_file, result)
    return result
