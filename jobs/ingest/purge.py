"""Purging phone numbers that earlier runs left in clear in the quarantine table, its old files and its Delta log.

Delta keeps old copies of a table twice over: the data files a rewrite removed stay on disk until VACUUM, and the
log's commits and checksums keep each file's smallest and largest `raw` text (its first 32 characters) as
statistics until log cleanup, which VACUUM never touches. So masking the rows in place and vacuuming would leave
numbers in `_delta_log`. The purge instead writes the masked rows as a new table beside the lake and swaps it in
for the old folder, which it then deletes whole: the quarantine's history restarts at the purge.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from accountwatch.jobs.core.lake import Lake
from accountwatch.jobs.core.pii import PHONE_LIKE, masked_phones

QUARANTINE = "quarantine"
# Beside the tables, in the lake's own folder: an interrupted purge is finished from here by the next one.
PURGE_FOLDER = Path("_accountwatch") / "purge"
RAW_VALUES = "map<string,string>"
# The one raw value that is already a keyed pseudonym: its hex digits are not a phone number.
PSEUDONYM = "phone_pseudonym"
DELTA_LOG = "_delta_log"


class PurgeError(RuntimeError):
    """The rewritten quarantine table does not hold what the old one did; nothing was swapped."""


@dataclass(frozen=True)
class PurgeReport:
    """What a purge rewrote and removed (or, in a dry run, would)."""

    rows: int
    rows_rewritten: int
    data_files_removed: int
    log_files_removed: int
    versions_removed: int
    dry_run: bool


def _raw_values(raw: Column) -> Column:
    return F.from_json(raw, RAW_VALUES)


def holds_phone(raw: Column) -> Column:
    """Whether a stored `raw` JSON text holds a phone-like value outside its pseudonym."""
    values = F.map_values(F.map_filter(_raw_values(raw), lambda key, value: key != PSEUDONYM))
    in_values = F.exists(values, lambda value: F.coalesce(value.rlike(PHONE_LIKE), F.lit(False)))
    # Text that is not a JSON object is judged whole.
    return F.coalesce(in_values, raw.rlike(PHONE_LIKE))


def masked_raw(raw: Column) -> Column:
    """A stored `raw` JSON text with every phone-like value masked and its pseudonym kept."""
    masked = F.transform_values(
        _raw_values(raw), lambda key, value: F.when(key == PSEUDONYM, value).otherwise(masked_phones(value))
    )
    return F.coalesce(F.to_json(masked), masked_phones(raw))


def mask_quarantine(rows: DataFrame) -> DataFrame:
    """Quarantine rows with the phone-like values of their raw text masked; other rows unchanged, byte for byte."""
    return rows.withColumn("raw", F.when(holds_phone(F.col("raw")), masked_raw(F.col("raw"))).otherwise(F.col("raw")))


def _files(table_dir: Path) -> tuple[int, int]:
    """Parquet data files and log files (commits, checksums, checkpoints) under a table folder.

    Hidden files (the file system's own checksums of each file) go with their file and are not counted.
    """
    data = log = 0
    for folder, _, names in os.walk(table_dir):
        shown = [name for name in names if not name.startswith(".")]
        if Path(folder).relative_to(table_dir).parts[:1] == (DELTA_LOG,):
            log += len(shown)
        else:
            data += sum(1 for name in shown if name.endswith(".parquet"))
    return data, log


def _finish_interrupted(table_dir: Path, work: Path, say: Callable[[str], None]) -> None:
    """Complete or undo a purge that stopped midway, so the table is never left missing."""
    ready = work / "ready" / QUARANTINE
    if ready.is_dir() and not table_dir.exists():
        say(f"finishing an interrupted purge: moving its rewritten table to {table_dir}")
        os.rename(ready, table_dir)
    if work.exists():
        shutil.rmtree(work)


def purge_quarantine_pii(lake: Lake, dry_run: bool = False, say: Callable[[str], None] = lambda m: None) -> PurgeReport:
    """Mask the phone-like values quarantine rows still hold and delete every older copy: old files and log.

    The caller holds the lake's writer lock (not needed for a dry run, which changes nothing).
    """
    table_dir = Path(lake.path(QUARANTINE))
    work = lake.root / PURGE_FOLDER
    if not dry_run:
        _finish_interrupted(table_dir, work, say)
    elif work.exists():
        say(f"an interrupted purge left {work}: the purge will complete or undo it first")
    version = lake.version(QUARANTINE)
    if version is None:
        return PurgeReport(0, 0, 0, 0, 0, dry_run)
    current = lake.read(QUARANTINE, version)
    rows = current.count()
    rewritten = current.where(holds_phone(F.col("raw"))).count()
    data_files, log_files = _files(table_dir)
    report = PurgeReport(rows, rewritten, data_files, log_files, version + 1, dry_run)
    if dry_run:
        return report
    say(f"writing the {rows} quarantine rows, {rewritten} of them masked, as a new table")
    staging = Lake(lake.spark, work / "writing", lake.settings)
    staging.replace(QUARANTINE, current.transform(mask_quarantine), "true")
    written = staging.read(QUARANTINE).count()
    if written != rows:
        raise PurgeError(f"the rewritten quarantine table holds {written} rows, the old one {rows}: nothing changed")
    ready = work / "ready" / QUARANTINE
    ready.parent.mkdir(parents=True)
    os.rename(staging.path(QUARANTINE), ready)
    old = work / "old" / QUARANTINE
    old.parent.mkdir(parents=True)
    say(f"replacing {table_dir} and deleting its {data_files} data files and {log_files} log files")
    os.rename(table_dir, old)
    os.rename(ready, table_dir)
    shutil.rmtree(work)
    return report
