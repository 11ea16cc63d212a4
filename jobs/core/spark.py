"""The one place a SparkSession is built."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

from pyspark.sql import SparkSession

from accountwatch.jobs.core import timing
from accountwatch.jobs.core.config import Settings

DELTA_JAR_PREFIXES = ("delta-spark_", "delta-storage-")


# Where the JVM's own output (log4j lines, Java warnings) of this process goes, once a command chose a file.
spark_log: Path | None = None


@contextmanager
def _jvm_output_to(path: Path) -> Iterator[None]:
    """Point file descriptors 1 and 2 at `path` while the JVM is launched, so it inherits them; then restore.

    Python's own output goes back to the terminal; the JVM keeps writing to the file for the rest of its life.
    """
    global spark_log
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(path, "ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])
    spark_log = path


class SparkSetupError(RuntimeError):
    """Spark cannot start as configured (for example the Delta jars were never fetched)."""


def delta_jars(settings: Settings) -> list[str]:
    """The local Delta jar paths; fails when `make setup` has not fetched them."""
    folder = settings.jars_dir
    jars = sorted(str(path) for path in folder.glob("*.jar")) if folder.is_dir() else []
    for prefix in DELTA_JAR_PREFIXES:
        if not any(os.path.basename(jar).startswith(prefix) for jar in jars):
            raise SparkSetupError(f"no {prefix}*.jar in {folder}: run `make setup` to fetch the Delta jars")
    return jars


def get_spark(settings: Settings, app_name: str = "accountwatch", log_file: Path | None = None) -> SparkSession:
    """Return the process's SparkSession, built from `settings` on first use.

    With `log_file`, the JVM's own output (Spark's log4j lines, Java warnings) goes to that file, not the terminal.
    """
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    builder = (
        SparkSession.builder.appName(app_name)
        .master(settings.spark_master)
        .config("spark.jars", ",".join(delta_jars(settings)))
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        .config("spark.sql.session.timeZone", settings.time_zone)
        .config("spark.sql.shuffle.partitions", str(settings.shuffle_partitions))
        .config("spark.driver.memory", settings.driver_memory)
        # A landing file must stay in one partition so its row numbers can be counted in order.
        .config("spark.sql.files.maxPartitionBytes", str(1 << 30))
        # A day is many small files: pack them into few partitions instead of one task per file.
        .config("spark.sql.files.openCostInBytes", str(64 << 10))
        # A backfill names thousands of landing files; listing them on the driver beats a Spark job per read.
        .config("spark.sql.sources.parallelPartitionDiscovery.threshold", "100000")
        # Spark cannot type nanosecond Parquet timestamps; the landing reader converts them from longs.
        .config("spark.sql.legacy.parquet.nanosAsLong", "true")
        .config("spark.ui.enabled", "false")
        # Python workers (if a plan ever needs them) run this interpreter, with its packages.
        .config("spark.pyspark.python", sys.executable)
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.databricks.delta.snapshotPartitions", "2")
        .config("spark.sql.adaptive.enabled", "true")
        # Spark keeps the classes it compiles for its plans in a cache of 100 by default: a backfill, or the suite's
        # long-lived session running the same days' plans again, meets more and compiled them again and again
        # (tests/jobs/ingest/test_transfers.py alone: 3,179 compiles with 100 entries, 736 with enough room).
        .config("spark.sql.codegen.cache.maxEntries", "4096")
    )
    with timing.stage("JVM and Spark session start"), _jvm_output_to(log_file) if log_file else nullcontext():
        spark = builder.getOrCreate()
        spark.sparkContext.setLogLevel("ERROR")
    return spark


# Spark compiles each plan's expressions and stages to Java (Janino) before it runs them. A nightly run's plans are
# many and small and a fresh process compiles every one, so the compiling outweighs the work. The tiny platform's
# day 200 from a fresh process each time (2026-12-02, idle machine): ingest and detect took 106 s and 105 s
# compiled, 68 s and 73 s interpreted; whole-stage generation alone off left ingest at 99 s. The factory mode is
# Spark's own switch for its interpreted expressions (the path it falls back to when a compile fails).
INTERPRETED_SQL = {
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
}


@contextmanager
def session_conf(spark: SparkSession, values: dict[str, str]) -> Iterator[None]:
    """Set the SQL settings `values` on the session for the block, then put back what each was (or unset it)."""
    before: dict[str, str | None] = {key: spark.conf.get(key, None) for key in values}
    for key, value in values.items():
        spark.conf.set(key, value)
    try:
        yield
    finally:
        for key, earlier in before.items():
            if earlier is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, earlier)


def sized_for(spark: SparkSession, days: int, settings: Settings) -> AbstractContextManager[None]:
    """The block's plans run interpreted when the run covers at most `interpreted_max_days` days.

    The results are the same either way (Spark's contract); a backfill's big plans keep their generated code.
    """
    return session_conf(spark, INTERPRETED_SQL) if days <= settings.interpreted_max_days else nullcontext()
