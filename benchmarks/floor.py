"""The floor of a nightly run on this stack: its skeleton with the least work each of its steps can do.

python -m accountwatch.benchmarks.floor [--runs 3] [--root data/floor]

Each run is a fresh process, as a nightly run is, timed from its start to its exit. It does what no nightly
run can skip, with one row where the real run has a day's rows:

- start Python and import what `accountwatch run` imports;
- give Prefect its temporary server and run the nightly run's flows and tasks (`nightly` with the subflows
  `ingest_day` and `detect_day`, the four tasks and the two artifacts), as `accountwatch run` does;
- start the JVM and the Spark session with the Delta jars, with the nightly run's session settings;
- read each table a nightly run writes (a count of one day's rows each) and make the nightly run's 19 Delta commits
  (12 in ingest, 7 in detect: `NIGHTLY_COMMITS`), each of one row into a table of a few rows;
- run the four Great Expectations suites a nightly run runs, each on an empty frame.

What a real run does beyond this (reading the landing files, judging rows, the detectors' plans) only adds to
it, so the sum is a lower bound for the nightly run on this stack. The breakdown of the median run is printed
beside the nightly run's 10 s target.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

TARGET_SECONDS = 10.0
DAY = date(2026, 8, 28)
ROWS_PER_TABLE = 5
# The Delta commits of a nightly run on a day without a bad row and without a blacklist change, in the order
# the run makes them (the wide platform's day 240, `accountwatch run --profile`): (task, table, kind).
NIGHTLY_COMMITS = (
    ("ingest", "account_changes", "replace"),
    ("ingest", "accounts", "merge"),
    ("ingest", "subscriptions", "replace"),
    ("ingest", "engagement", "replace"),
    ("ingest", "account_daily", "replace"),
    ("ingest", "article_daily", "replace"),
    ("ingest", "operator_daily", "replace"),
    ("ingest", "account_operators", "merge"),
    ("ingest", "account_activity", "merge"),
    ("ingest", "user_activity", "merge"),
    ("ingest", "dq_results", "replace"),
    ("ingest", "loaded_days", "merge"),
    ("detect", "findings", "replace"),
    ("detect", "findings", "replace"),
    ("detect", "dq_results", "replace"),
    ("detect", "account_tiers", "merge"),
    ("detect", "detector_state", "replace"),
    ("detect", "registration_keys", "replace"),
    ("detect", "detector_runs", "replace"),
)
# The suites a nightly run validates: the three landing tables in ingest, the tiers in detect.
NIGHTLY_SUITES = {"ingest": ("accounts", "subscriptions", "engagement"), "detect": ("account_tiers",)}
# After the cold run, the same process runs the skeleton again: what a run costs once the JVM is warm.
WARM_RUNS = 1


def _tables(kind: str) -> list[str]:
    return sorted({table for task, table, _ in NIGHTLY_COMMITS if task == kind})


def set_up(lake: Path) -> None:
    """The lake of small tables the runs write into: one per table a nightly run commits to."""
    from pyspark.sql import SparkSession

    from accountwatch.jobs.core.config import load_settings
    from accountwatch.jobs.core.spark import get_spark

    spark: SparkSession = get_spark(load_settings(None), app_name="accountwatch-floor-setup")
    rows = spark.sql(
        f"SELECT CONCAT('k', CAST(id AS STRING)) AS key, DATE_SUB(DATE'{DAY}', CAST(id AS INT) + 1) AS day,"
        f" id AS value FROM RANGE({ROWS_PER_TABLE})"
    )
    for table in sorted({table for _, table, _ in NIGHTLY_COMMITS}):
        rows.write.format("delta").mode("overwrite").save(str(lake / table))
    spark.stop()


def _commit(spark, lake: Path, task: str, table: str, kind: str, number: int) -> None:
    from delta.tables import DeltaTable

    from accountwatch.jobs.core import timing

    row = spark.sql(f"SELECT 'k{task}{number}' AS key, DATE'{DAY}' AS day, CAST({number} AS BIGINT) AS value")
    with timing.stage(f"delta {kind} {table}"):
        timing.delta_commit()
        if kind == "replace":
            row.write.format("delta").mode("overwrite").option("replaceWhere", f"day = DATE'{DAY}'").save(
                str(lake / table)
            )
        else:
            (
                DeltaTable.forPath(spark, str(lake / table))
                .alias("target")
                .merge(row.alias("source"), "target.key = source.key")
                .whenMatchedUpdateAll()
                .whenNotMatchedInsertAll()
                .execute()
            )


def _work(lake: str, task: str) -> None:
    """One task's least work: read each table it writes, its suites on empty frames, its one-row commits."""
    from accountwatch.expectations import runner
    from accountwatch.jobs.core import timing
    from accountwatch.jobs.core.config import load_settings
    from accountwatch.jobs.core.lake import TABLES, local_rows
    from accountwatch.jobs.core.spark import get_spark, sized_for

    settings = load_settings(None)
    spark = get_spark(settings, log_file=Path(lake) / "spark.log")
    with sized_for(spark, 1, settings):
        for table in _tables(task):
            with timing.stage(f"delta read {table} (the day's rows counted)"):
                spark.read.format("delta").load(f"{lake}/{table}").where(f"day = DATE'{DAY}'").count()
        for table in NIGHTLY_SUITES[task]:
            runner.validate(table, local_rows(spark, [], TABLES[table].schema))
        for number, (of_task, table, kind) in enumerate(NIGHTLY_COMMITS):
            if of_task == task:
                _commit(spark, Path(lake), task, table, kind, number)


def run_skeleton(lake: str) -> dict:
    """The nightly run's flows and tasks around the least work; returns what the tasks returned."""
    from prefect import flow, task
    from prefect.artifacts import create_markdown_artifact, create_table_artifact
    from prefect.cache_policies import NO_CACHE

    @task(cache_policy=NO_CACHE)
    def ingest_task(lake: str) -> dict:
        _work(lake, "ingest")
        return {"task": "ingest"}

    @task(cache_policy=NO_CACHE)
    def latest_loaded_day(lake: str) -> str:
        return DAY.isoformat()

    @task(cache_policy=NO_CACHE)
    def detect_task(lake: str) -> dict:
        _work(lake, "detect")
        return {"task": "detect"}

    @task(cache_policy=NO_CACHE)
    def publish_artifacts(result: dict) -> None:
        create_table_artifact([{"detector": "none", "findings": 0}], key="floor-findings")
        create_markdown_artifact(f"floor run: {json.dumps(result)}", key="floor-summary")

    @flow(name="ingest_day")
    def ingest_day(lake: str) -> dict:
        return ingest_task(lake)

    @flow(name="detect_day")
    def detect_day(lake: str) -> dict:
        latest_loaded_day(lake)
        return detect_task(lake)

    @flow(name="nightly")
    def nightly(lake: str) -> dict:
        result = {"ingest": ingest_day(lake), "detect": detect_day(lake)}
        publish_artifacts(result)
        return result

    return nightly(lake)


def child(template: str, lake: str) -> None:
    """Measured runs in this fresh process: the first cold, the second warm; prints both breakdowns as JSON."""
    from accountwatch.flows.cli.runs import _prepare_prefect, _process_started
    from accountwatch.jobs.core import timing

    timing.enable()
    timing.add("process start and imports", time.time() - _process_started())
    _prepare_prefect(None)
    breakdowns = []
    for number in range(WARM_RUNS + 1):
        copy = f"{lake}-{number}"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(template, copy)
        started = time.monotonic()
        with timing.stage("the nightly skeleton", rest="Prefect: temporary server, flows, tasks and artifacts"):
            run_skeleton(copy)
        breakdowns.append({"seconds": time.monotonic() - started, "stages": timing.as_rows()})
        timing.reset()
    print(json.dumps(breakdowns))


def _one_run(template: Path, lake: Path) -> tuple[float, list[dict]]:
    """A fresh process's cold run (seconds from its start to its exit) and its breakdowns, cold then warm."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "accountwatch.benchmarks.floor", "--child", str(template), str(lake)],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"floor run failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
    breakdowns = json.loads(done.stdout.strip().splitlines()[-1])
    # The process's own time, less its warm runs: its cold run from the process start to the exit.
    return seconds - sum(run["seconds"] for run in breakdowns[1:]), breakdowns


PARTS = (
    "process start and imports",
    "JVM and Spark session start",
    "Prefect: temporary server, flows, tasks and artifacts",
    "Delta: read each table written (one small count each)",
    f"Delta: {len(NIGHTLY_COMMITS)} one-row commits",
    "Great Expectations: 4 suites on empty frames",
    "the rest (process exit, Spark's shutdown)",
)


def _part(name: str) -> str | None:
    if name.startswith("delta read"):
        return PARTS[3]
    if name.startswith(("delta replace", "delta merge")):
        return PARTS[4]
    if name.startswith("GX suite"):
        return PARTS[5]
    return name if name in PARTS else None


def summary(stages: list[dict], end_to_end: float) -> dict[str, tuple[float, int]]:
    """A breakdown grouped into the parts of `PARTS`: part -> (seconds, Spark jobs)."""
    parts: dict[str, tuple[float, int]] = {}
    for row in stages:
        part = _part(row["stage"])
        if part is not None:
            seconds, jobs = parts.get(part, (0.0, 0))
            parts[part] = (seconds + row["seconds"], jobs + row["spark_jobs"])
    parts[PARTS[-1]] = (end_to_end - sum(seconds for seconds, _ in parts.values()), 0)
    return parts


def _median_run(runs: list[tuple[float, dict]]) -> tuple[float, dict]:
    median = statistics.median(seconds for seconds, _ in runs)
    return min(runs, key=lambda run: abs(run[0] - median))


def report(runs: list[tuple[float, list[dict]]]) -> str:
    """The cold and warm breakdowns of the median runs, side by side, against the target."""
    cold_seconds, cold = _median_run([(seconds, breakdowns[0]) for seconds, breakdowns in runs])
    warm_seconds, warm = _median_run([(breakdowns[1]["seconds"], breakdowns[1]) for _, breakdowns in runs])
    cold_parts, warm_parts = summary(cold["stages"], cold_seconds), summary(warm["stages"], warm_seconds)
    lines = [
        f"the floor of a nightly run, the median of {len(runs)} fresh processes: cold (a fresh process, as a "
        "nightly run is) and warm (the same process again)",
        f"{'part':<56} {'cold s':>7} {'jobs':>5} {'warm s':>7} {'jobs':>5}",
    ]
    for part in PARTS:
        cold_part, warm_part = cold_parts.get(part, (0.0, 0)), warm_parts.get(part, (0.0, 0))
        lines.append(f"{part:<56} {cold_part[0]:>7.1f} {cold_part[1]:>5} {warm_part[0]:>7.1f} {warm_part[1]:>5}")
    lines.append(f"{'end to end':<56} {cold_seconds:>7.1f} {'':>5} {warm_seconds:>7.1f}")
    lines.append(
        f"the target is {TARGET_SECONDS:.0f} s: the skeleton alone takes {cold_seconds / TARGET_SECONDS:.1f} times it "
        f"cold and {warm_seconds / TARGET_SECONDS:.1f} times it warm"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="fresh processes; the median is shown (default 3)")
    parser.add_argument("--root", type=Path, default=Path("data/floor"), help="working folder (replaced)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--set-up", dest="set_up", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return
    if args.set_up:
        set_up(Path(args.set_up))
        return
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    root = args.root.absolute()
    shutil.rmtree(root, ignore_errors=True)
    template = root / "template"
    template.mkdir(parents=True)
    print(f"setting up {len({t for _, t, _ in NIGHTLY_COMMITS})} small Delta tables in {template}", flush=True)
    subprocess.run([sys.executable, "-m", "accountwatch.benchmarks.floor", "--set-up", str(template)], check=True)
    runs = []
    for number in range(1, args.runs + 1):
        seconds, breakdowns = _one_run(template, root / "lake")
        print(f"process {number}: cold {seconds:.1f} s, warm {breakdowns[1]['seconds']:.1f} s", flush=True)
        runs.append((seconds, breakdowns))
    print()
    print(report(runs))
    (root / "floor.json").write_text(json.dumps([{"cold_s": s, "runs": b} for s, b in runs], indent=2))


if __name__ == "__main__":
    main()
