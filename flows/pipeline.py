"""Prefect flows: ingest a day, detect a day, the nightly run and the bulk backfill.

Tasks are thin: they take plain values (dates as ISO strings, folder paths) and call jobs/.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from expectations.runner import DataQualityError
from flows.runtime import open_lake
from jobs.config import ConfigError
from jobs.detect import detect_range
from jobs.ingest import QuarantineThresholdError, ingest_range
from jobs.landing import LandingError
from jobs.pii import MissingPiiKeyError, pii_key_from_environment
from jobs.spark import SparkSetupError

IO_RETRIES = 2
IO_RETRY_DELAYS: list[float] = [10.0, 60.0]
# Bad input and bad set-up fail the same way every time: retrying them only delays the message.
NOT_RETRIED = (
    LandingError,
    QuarantineThresholdError,
    DataQualityError,
    MissingPiiKeyError,
    ConfigError,
    SparkSetupError,
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
    retries=IO_RETRIES, retry_delay_seconds=IO_RETRY_DELAYS, retry_condition_fn=_worth_retrying, cache_policy=NO_CACHE
)
def ingest_task(landing: str, lake_dir: str, config_file: str | None, start: str, end: str) -> dict:
    """Load the landing folders from start to end into the lake; the PII key comes from the environment."""
    pii_key = pii_key_from_environment()
    lake, settings = open_lake(lake_dir, config_file)
    report = ingest_range(
        lake, Path(landing), date.fromisoformat(start), date.fromisoformat(end), settings, pii_key, _log
    )
    return {
        name: {
            "files": load.files,
            "landed": load.rows_landed,
            "loaded": load.rows_loaded,
            "quarantined": load.quarantined_by_reason,
        }
        for name, load in report.tables.items()
    }


@task(
    retries=IO_RETRIES, retry_delay_seconds=IO_RETRY_DELAYS, retry_condition_fn=_worth_retrying, cache_policy=NO_CACHE
)
def detect_task(lake_dir: str, config_file: str | None, start: str, end: str, from_current_state: bool) -> dict:
    """Judge the days from start to end and write their findings."""
    lake, settings = open_lake(lake_dir, config_file)
    outcome = detect_range(lake, date.fromisoformat(start), date.fromisoformat(end), settings, from_current_state, _log)
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


@flow(name="nightly")
def nightly(run_date: str, landing: str, lake_dir: str, config_file: str | None = None) -> dict:
    """The nightly run for one day: ingest it, then detect."""
    loaded = ingest_day(run_date, landing, lake_dir, config_file)
    found = detect_day(run_date, lake_dir, config_file)
    return {"ingest": loaded, "detect": found}


@flow(name="backfill")
def backfill(start: str, end: str, landing: str, lake_dir: str, config_file: str | None = None) -> dict:
    """Every day from start to end in one bulk job, with the same results as nightly runs."""
    loaded = ingest_task(landing, lake_dir, config_file, start, end)
    found = detect_task(lake_dir, config_file, start, end, False)
    return {"ingest": loaded, "detect": found}
