"""Reading, writing and merging the path-based Delta tables under the lake folder."""

from __future__ import annotations

import json
import os
import re
import signal
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import unquote

from delta.tables import DeltaTable
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import (
    ArrayType,
    DataType,
    DateType,
    DecimalType,
    IntegerType,
    LongType,
    StructField,
    StructType,
    TimestampNTZType,
    TimestampType,
)

from accountwatch.jobs.core import timing
from accountwatch.jobs.core.config import Settings
from accountwatch.schemas import accounts, events, findings, operations, standing


@dataclass(frozen=True)
class TableSpec:
    """A lake table: its schema, partitioning and whether it is evidence kept for the regulator."""

    name: str
    schema: StructType
    partition_by: tuple[str, ...] = ()
    evidence: bool = True


TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec("account_changes", accounts.ACCOUNT_CHANGES, ("ingest_date",)),
        TableSpec("accounts", accounts.ACCOUNTS),
        TableSpec("subscriptions", events.SUBSCRIPTIONS, ("event_date",)),
        TableSpec("engagement", events.ENGAGEMENT, ("event_date",)),
        TableSpec("transfers", events.TRANSFERS),
        TableSpec("account_activity", events.ACCOUNT_ACTIVITY),
        TableSpec("account_daily", events.ACCOUNT_DAILY, ("ingest_date",)),
        TableSpec("article_daily", events.ARTICLE_DAILY, ("ingest_date",)),
        TableSpec("operator_daily", events.OPERATOR_DAILY, ("ingest_date",)),
        TableSpec("account_operators", events.ACCOUNT_OPERATORS, evidence=False),
        TableSpec("user_activity", events.USER_ACTIVITY, evidence=False),
        TableSpec("quarantine", operations.QUARANTINE, ("ingest_date",)),
        TableSpec("dq_results", operations.DQ_RESULTS),
        TableSpec("loaded_days", operations.LOADED_DAYS),
        TableSpec("findings", findings.FINDINGS, ("run_date",)),
        TableSpec("detector_state", findings.DETECTOR_STATE, ("run_date",), evidence=False),
        TableSpec("detector_runs", findings.DETECTOR_RUNS),
        TableSpec("registration_keys", findings.REGISTRATION_KEYS, ("reg_date",), evidence=False),
        TableSpec("reviews", standing.REVIEWS),
        TableSpec("account_tiers", standing.ACCOUNT_TIERS),
        TableSpec("blacklist", standing.BLACKLIST),
        TableSpec("exports", operations.EXPORTS),
    )
}


# What the detectors read: a detect run reads these at the versions it found when it started, and records them.
SOURCE_TABLES = (
    "account_changes",
    "accounts",
    "subscriptions",
    "engagement",
    "transfers",
    "account_activity",
    "account_daily",
    "article_daily",
    "operator_daily",
    "account_operators",
    "user_activity",
)
# A commit of a Delta table: its log's `00000000000000000007.json` (not the checkpoints, checksums or temporary files).
COMMIT_FILE = re.compile(r"(\d{20})\.json")
# Delta attaches this session setting to every commit as its userMetadata.
COMMIT_METADATA_CONF = "spark.databricks.delta.commitInfo.userMetadata"

# Fault-injection hook for the fault campaign (benchmarks/faults.py); both variables unset, it does nothing.
# ACCOUNTWATCH_FAULT_AT="<n>:before" (or "<n>:after") SIGKILLs the process right before (after) its n-th Delta
# commit; ACCOUNTWATCH_FAULT_TRACE=<file> appends each commit's number, operation and table to the file.
FAULT_AT_VARIABLE = "ACCOUNTWATCH_FAULT_AT"
FAULT_TRACE_VARIABLE = "ACCOUNTWATCH_FAULT_TRACE"
_commits_seen = 0


def fault_point(operation: str, name: str, position: str) -> None:
    """Count a Delta commit and, when the fault campaign asks for it, kill the process at it (see FAULT_AT)."""
    global _commits_seen
    fault_at, trace = os.environ.get(FAULT_AT_VARIABLE), os.environ.get(FAULT_TRACE_VARIABLE)
    if not fault_at and not trace:
        return
    if position == "before":
        _commits_seen += 1
    elif trace:
        with open(trace, "a") as handle:
            handle.write(f"{_commits_seen}\t{operation}\t{name}\n")
    if fault_at == f"{_commits_seen}:{position}":
        os.kill(os.getpid(), signal.SIGKILL)


# How Spark and Hadoop name a data file that vanished: the error class, then the file's path or URI.
MISSING_FILE = re.compile(r"(?:FileNotFoundException|FILE_NOT_EXIST)")
FILE_PATH = re.compile(r"(?:file:)?(/[^\s'\"`,;]+\.parquet)")


class LakeError(RuntimeError):
    """A lake table that cannot be read as its Delta log says; the message names the table and the file."""


def _json_type(data_type: DataType) -> DataType | None:
    """How `local_rows` carries a column through JSON: dates as day numbers, timestamps as microseconds.

    None for a type it does not carry (a date or timestamp inside an array, map or struct, a timestamp without time
    zone, a decimal).
    """
    if isinstance(data_type, DateType):
        return IntegerType()
    if isinstance(data_type, TimestampType):
        return LongType()
    if isinstance(data_type, (TimestampNTZType, DecimalType)):
        return None
    nested = re.search(r"\b(date|timestamp|timestamp_ntz|decimal)\b", data_type.simpleString())
    return None if nested else data_type


def local_rows(spark: SparkSession, rows: Sequence[Sequence[object]], schema: StructType) -> DataFrame:
    """Driver-side rows (tuples in `schema`'s order) as a DataFrame that Spark plans without Python workers.

    createDataFrame ships the rows as a Python RDD, so every job that reads them starts Python worker processes
    (pyspark.daemon). These rows go as one JSON literal instead (one py4j call, folded once by the optimizer, parsed
    in FAILFAST mode so a value of the wrong type fails rather than turning null): the run's frames built on the
    driver (loaded days, data-quality results, run records, blacklist entries), however many a backfill makes.
    Dates and timestamps travel as the numbers createDataFrame would store (`toInternal`), so both give the same rows.
    """
    if not rows:
        return spark.range(0).select(*[F.lit(None).cast(field.dataType).alias(field.name) for field in schema])
    carried = [_json_type(field.dataType) for field in schema.fields]
    fields = [
        StructField(field.name, carried_type)
        for field, carried_type in zip(schema, carried, strict=True)
        if carried_type
    ]
    if len(fields) < len(schema.fields):
        return spark.createDataFrame(list(rows), schema)
    records = [
        {
            field.name: None if value is None else field.dataType.toInternal(value)
            for value, field in zip(row, schema.fields, strict=True)
        }
        for row in rows
    ]
    shape = ArrayType(StructType(fields))
    parsed = spark.range(1).select(F.inline(F.from_json(F.lit(json.dumps(records)), shape, {"mode": "FAILFAST"})))

    def restored(field: StructField) -> Column:
        column = F.col(field.name)
        if isinstance(field.dataType, DateType):
            return F.date_from_unix_date(column).alias(field.name)
        if isinstance(field.dataType, TimestampType):
            return F.timestamp_micros(column).alias(field.name)
        return column.cast(field.dataType).alias(field.name)

    return parsed.select(*[restored(field) for field in schema.fields])


def _one_file_per_partition(rows: DataFrame, partition_by: Sequence[str]) -> DataFrame:
    """The rows of each partition value (a day) gathered into one task, so that a write leaves one file a day.

    Rows come out of a shuffle spread over every shuffle partition; written as they are, a backfill left one file per
    day and shuffle partition (the tiny platform's 199 days: 796 `engagement` files for 99,482 rows), and every later
    read opened them all. With one shuffle partition (the suite's session) they are already together.
    """
    if not partition_by or rows.sparkSession.conf.get("spark.sql.shuffle.partitions") == "1":
        return rows
    return rows.repartition(*partition_by)


def between(column: str, start: date, end: date) -> str:
    """A SQL predicate for start <= column <= end (Delta's replaceWhere cannot take BETWEEN on a partition column)."""
    return f"{column} >= DATE'{start.isoformat()}' AND {column} <= DATE'{end.isoformat()}'"


class Lake:
    """The lake folder: one Delta table per name, created on first use with the configured retention."""

    def __init__(self, spark: SparkSession, root: Path | str, settings: Settings) -> None:
        self.spark = spark
        # Delta takes a relative location for a table name: always hand it an absolute path.
        self.root = Path(root).absolute()
        self.settings = settings
        self._ensured: dict[str, DeltaTable] = {}
        self._pins: dict[str, int] = {}

    def path(self, name: str) -> str:
        return str(self.root / name)

    def missing_file(self, error: BaseException) -> LakeError | None:
        """A LakeError naming the table and file when `error` is Spark failing on a lake data file that is gone."""
        message = str(error)
        if not MISSING_FILE.search(message):
            return None
        for match in FILE_PATH.finditer(message):
            # Spark puts file URIs in its messages, with special characters %-escaped and `file:///` or `file:/`.
            path = Path("/" + unquote(match.group(1)).lstrip("/"))
            if not path.is_relative_to(self.root):
                continue
            table = path.relative_to(self.root).parts[0]
            return LakeError(
                f"lake table {table}: data file {path} is missing (removed outside accountwatch?); "
                "restore it from a copy of the lake"
            )
        return None

    @contextmanager
    def naming_missing_files(self) -> Iterator[None]:
        """Turn Spark's failure on a vanished data file of this lake into a one-line LakeError."""
        try:
            yield
        except Exception as error:
            missing = self.missing_file(error)
            if missing is None:
                raise
            raise missing from None

    def exists(self, name: str) -> bool:
        return DeltaTable.isDeltaTable(self.spark, self.path(name))

    def holds(self, name: str, predicate: str) -> bool:
        """Whether the table exists and has a row matching `predicate` (one small job)."""
        return self.exists(name) and self.read(name).where(F.expr(predicate)).limit(1).count() > 0

    def ensure(self, name: str) -> DeltaTable:
        """Create the table if it does not exist yet and return it."""
        if name in self._ensured:
            return self._ensured[name]
        spec = TABLES[name]
        builder = DeltaTable.createIfNotExists(self.spark).location(self.path(name)).addColumns(spec.schema)
        if spec.partition_by:
            builder = builder.partitionedBy(*spec.partition_by)
        if spec.evidence:
            builder = builder.property("delta.logRetentionDuration", self.settings.log_retention).property(
                "delta.deletedFileRetentionDuration", self.settings.deleted_file_retention
            )
        table = builder.execute()
        # A table written before a column was added to its schema (an optional landing column) gains it, as null.
        present = {field.name for field in table.toDF().schema}
        missing = [field for field in spec.schema if field.name not in present]
        if missing:
            added = ", ".join(f"`{field.name}` {field.dataType.simpleString()}" for field in missing)
            self.spark.sql(f"ALTER TABLE delta.`{self.path(name)}` ADD COLUMNS ({added})")
            table = DeltaTable.forPath(self.spark, self.path(name))
        self._ensured[name] = table
        return table

    def version(self, name: str) -> int | None:
        """The table's latest version, or None when it was never written.

        Delta names each commit `_delta_log/<version, 20 digits>.json` and never removes the newest, so the
        highest such name is the table's version. Read from the folder's listing: `history(1)` costs a Spark job
        and a snapshot per table, and a detect run pins eleven tables, a console page seven.
        """
        try:
            entries = os.scandir(os.path.join(self.path(name), "_delta_log"))
        except (FileNotFoundError, NotADirectoryError):
            return None
        with entries:
            versions = [int(match[1]) for entry in entries if (match := COMMIT_FILE.fullmatch(entry.name))]
        return max(versions, default=None)

    def read(self, name: str, version: int | None = None) -> DataFrame:
        """The table's rows (at `version`, or the pinned or current one), or an empty frame when never written."""
        if version is None:
            version = self._pins.get(name)
        with timing.stage(f"delta read {name}"):
            if version is None and not self.exists(name):
                return local_rows(self.spark, [], TABLES[name].schema)
            reader = self.spark.read.format("delta")
            if version is not None:
                reader = reader.option("versionAsOf", version)
            frame = reader.load(self.path(name))
            # A version written before a column joined the schema reads it as null (`ensure` adds it on write).
            missing = [field for field in TABLES[name].schema if field.name not in frame.columns]
            for field in missing:
                frame = frame.withColumn(field.name, F.lit(None).cast(field.dataType))
            return frame

    @contextmanager
    def pinned(self, names: Sequence[str]) -> Iterator[dict[str, int]]:
        """Read `names` at their current versions until the block ends; yields those versions."""
        versions = {name: version for name in names if (version := self.version(name)) is not None}
        previous, self._pins = self._pins, {**self._pins, **versions}
        try:
            yield versions
        finally:
            self._pins = previous

    @contextmanager
    def commit_metadata(self, metadata: Mapping[str, object]) -> Iterator[None]:
        """Attach `metadata` (as JSON) to every Delta commit made in the block."""
        conf = self.spark.conf
        previous = conf.get(COMMIT_METADATA_CONF, None)
        conf.set(COMMIT_METADATA_CONF, json.dumps(metadata, sort_keys=True, separators=(",", ":")))
        try:
            yield
        finally:
            if previous is None:
                conf.unset(COMMIT_METADATA_CONF)
            else:
                conf.set(COMMIT_METADATA_CONF, previous)

    def commits(self, name: str) -> list[dict]:
        """The table's commits still in its log: version, timestamp, operation and parsed userMetadata."""
        if not self.exists(name):
            return []
        history = DeltaTable.forPath(self.spark, self.path(name)).history()
        rows = history.select("version", "timestamp", "operation", "userMetadata").collect()
        commits = []
        for row in rows:
            try:
                metadata = json.loads(row["userMetadata"]) if row["userMetadata"] else None
            except ValueError:
                metadata = None
            commits.append({**row.asDict(), "userMetadata": metadata})
        return sorted(commits, key=lambda commit: commit["version"])

    def replace(self, name: str, rows: DataFrame, predicate: str) -> None:
        """Atomically replace the rows matching `predicate` with `rows` (one commit)."""
        self.ensure(name)
        fault_point("replace", name, "before")
        with timing.stage(f"delta replace {name}"), self.naming_missing_files():
            timing.delta_commit()
            spec = TABLES[name]
            (
                _one_file_per_partition(rows.select(*[field.name for field in spec.schema]), spec.partition_by)
                .write.format("delta")
                .mode("overwrite")
                .option("replaceWhere", predicate)
                .save(self.path(name))
            )
        fault_point("replace", name, "after")

    def upsert(
        self,
        name: str,
        rows: DataFrame,
        keys: Sequence[str],
        update_when: str | None = None,
        update_set: dict[str, str] | None = None,
    ) -> None:
        """MERGE `rows` on `keys`: insert new rows, update matched ones (when `update_when` holds)."""
        table = self.ensure(name)
        on = " AND ".join(f"target.{key} <=> source.{key}" for key in keys)
        merge = (
            table.alias("target")
            .merge(rows.select(*[field.name for field in TABLES[name].schema]).alias("source"), on)
            .whenNotMatchedInsertAll()
        )
        if update_set:
            merge = merge.whenMatchedUpdate(condition=update_when, set=dict(update_set.items()))  # type: ignore[arg-type]
        else:
            merge = merge.whenMatchedUpdateAll(condition=update_when)
        fault_point("upsert", name, "before")
        with timing.stage(f"delta merge {name}"), self.naming_missing_files():
            timing.delta_commit()
            merge.execute()
        fault_point("upsert", name, "after")
