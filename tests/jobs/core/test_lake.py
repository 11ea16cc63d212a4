"""The lake's fault-injection hook: inert unless asked, one count per Delta commit, a kill at the chosen one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, date, datetime
from urllib.parse import unquote

import pytest
from chispa import assert_df_equality
from delta.tables import DeltaTable

from accountwatch.jobs.core import lake as lake_module
from accountwatch.jobs.core.lake import (
    FAULT_AT_VARIABLE,
    FAULT_TRACE_VARIABLE,
    TABLES,
    between,
    fault_point,
    local_rows,
)
from accountwatch.jobs.core.spark import session_conf
from accountwatch.schemas.standing import BLACKLIST


@pytest.fixture
def fresh_count(monkeypatch):
    monkeypatch.setattr(lake_module, "_commits_seen", 0)
    monkeypatch.delenv(FAULT_AT_VARIABLE, raising=False)
    monkeypatch.delenv(FAULT_TRACE_VARIABLE, raising=False)


def test_fault_hook_counts_nothing_while_its_variables_are_unset(fresh_count, monkeypatch, tmp_path):
    for _ in range(3):
        fault_point("replace", "findings", "before")
        fault_point("replace", "findings", "after")
    trace = tmp_path / "commits.tsv"
    monkeypatch.setenv(FAULT_TRACE_VARIABLE, str(trace))
    fault_point("upsert", "blacklist", "before")
    fault_point("upsert", "blacklist", "after")
    assert trace.read_text().splitlines() == ["1\tupsert\tblacklist"]


def test_replace_and_upsert_are_each_one_counted_commit(fresh_count, monkeypatch, lake, spark, tmp_path):
    trace = tmp_path / "commits.tsv"
    monkeypatch.setenv(FAULT_TRACE_VARIABLE, str(trace))
    day = spark.createDataFrame([("subscriptions", date(2026, 3, 1), 1, 5, 5, 0)], TABLES["loaded_days"].schema)
    lake.replace("loaded_days", day, "ingest_date = DATE'2026-03-01'")
    lake.upsert("loaded_days", day, ["table_name", "ingest_date"])
    assert trace.read_text().splitlines() == ["1\treplace\tloaded_days", "2\tupsert\tloaded_days"]


def test_version_is_the_newest_commit_of_the_log_as_delta_history_gives_it(lake, spark):
    assert lake.version("loaded_days") is None
    day = spark.createDataFrame([("subscriptions", date(2026, 3, 1), 1, 5, 5, 0)], TABLES["loaded_days"].schema)
    lake.replace("loaded_days", day, "ingest_date = DATE'2026-03-01'")
    lake.upsert("loaded_days", day, ["table_name", "ingest_date"])
    log = lake.root / "loaded_days" / "_delta_log"
    # What a writer leaves in the log besides commits: a checkpoint of a later version and a commit being written.
    (log / "00000000000000000009.checkpoint.parquet").write_bytes(b"")
    (log / ".00000000000000000009.json.5f1c.tmp").write_bytes(b"")
    history = DeltaTable.forPath(spark, lake.path("loaded_days")).history(1).collect()[0]["version"]
    assert lake.version("loaded_days") == history == 2


@pytest.mark.parametrize(
    ("fault_at", "traced"), [("2:before", ["1\treplace\tt"]), ("2:after", ["1\treplace\tt", "2\treplace\tt"])]
)
def test_fault_hook_kills_its_process_at_the_chosen_commit(fault_at, traced, tmp_path):
    trace = tmp_path / "commits.tsv"
    commits = "\n".join(
        ["from accountwatch.jobs.core.lake import fault_point", "for _ in range(3):"]
        + [f"    fault_point('replace', 't', {position!r})" for position in ("before", "after")]
    )
    done = subprocess.run(
        [sys.executable, "-c", commits],
        env={**os.environ, FAULT_AT_VARIABLE: fault_at, FAULT_TRACE_VARIABLE: str(trace)},
    )
    assert done.returncode == -signal.SIGKILL
    assert trace.read_text().splitlines() == traced


def test_local_rows_hold_the_same_rows_and_types_as_create_dataframe(spark):
    changed = datetime(2026, 3, 4, 5, 6, 7, 890000, tzinfo=UTC)
    naive = datetime(2026, 3, 4, 5, 6, 7, 123)  # in the process's time zone, as createDataFrame takes it
    rows = [
        ("e1", "account", "a1", None, ["r1"], "why", ["f1", "f2"], date(2026, 3, 1), "v1", "active", "run", changed,
         "listed", None, True),
        ("e2", "subject", "s1", "s1", [], "why", ["f3"], date(2026, 3, 2), "v1", "lifted", "ana", naive, "lift",
         date(2026, 3, 3), False),
    ]  # fmt: skip
    expected = spark.createDataFrame(rows, BLACKLIST)
    assert_df_equality(local_rows(spark, rows, BLACKLIST), expected, ignore_row_order=True, ignore_nullable=True)
    assert local_rows(spark, [], BLACKLIST).count() == 0
    assert local_rows(spark, [], BLACKLIST).dtypes == expected.dtypes


def test_many_local_rows_are_planned_without_a_python_rdd_and_hold_every_value(spark):
    # A backfill's data-quality rows: a thousand, where the old literal plan stopped at 256.
    schema = TABLES["dq_results"].schema
    rows = [
        ("engagement", date(2026, 1, 1), date(2026, 7, day % 28 + 1), "suite", f"e{day}", None, day % 2 == 0, day, 0)
        for day in range(1000)
    ]
    made = local_rows(spark, rows, schema)
    assert "ExistingRDD" not in made._jdf.queryExecution().executedPlan().toString()
    assert_df_equality(made, spark.createDataFrame(rows, schema), ignore_row_order=True, ignore_nullable=True)
    naive = [(date(2026, 3, 1), "a", "ok", 1, None), (date(2026, 3, 2), "b", "failed", 0, 'ümlaut "quoted"')]
    runs = TABLES["detector_runs"].schema
    assert_df_equality(local_rows(spark, naive, runs), spark.createDataFrame(naive, runs), ignore_nullable=True)


def test_local_rows_refuse_a_value_of_the_wrong_type_rather_than_store_null(spark):
    rows = [(date(2026, 3, 1), "a", "ok", "many", None)]
    with pytest.raises(Exception, match="(?i)malformed|FAILFAST"):
        local_rows(spark, rows, TABLES["detector_runs"].schema).collect()


def test_replace_rewrites_only_its_slice_empties_it_when_given_no_rows_and_refuses_a_row_outside_it(lake, spark):
    schema = TABLES["loaded_days"].schema
    first, second = date(2026, 3, 1), date(2026, 3, 2)
    days = [("subscriptions", first, 1, 5, 5, 0), ("subscriptions", second, 1, 7, 7, 0)]
    lake.replace("loaded_days", spark.createDataFrame(days, schema), "ingest_date >= DATE'2026-03-01'")
    lake.replace("loaded_days", spark.createDataFrame([], schema), "ingest_date = DATE'2026-03-02'")
    assert [tuple(row) for row in lake.read("loaded_days").collect()] == [days[0]]
    outside = spark.createDataFrame([("subscriptions", second, 1, 9, 9, 0)], schema)
    with pytest.raises(Exception, match="replaceWhere|DELTA_REPLACE_WHERE_MISMATCH"):
        lake.replace("loaded_days", outside, "ingest_date = DATE'2026-03-01'")
    assert [tuple(row) for row in lake.read("loaded_days").collect()] == [days[0]]


def test_a_replace_over_several_days_leaves_one_file_a_day_whatever_the_shuffle_partitions(lake, spark):
    schema = TABLES["detector_state"].schema
    days = [date(2026, 3, day) for day in range(1, 7)]
    rows = [(day, "dormant_account", f"pa_{n}") for day in days for n in range(8)]
    # Every day's rows in each of four partitions, as they come out of a shuffle in production (4 partitions).
    spread = spark.createDataFrame(rows, schema).repartition(4)
    with session_conf(spark, {"spark.sql.shuffle.partitions": "4"}):
        lake.replace("detector_state", spread, between("run_date", days[0], days[-1]))
    files: dict[str, int] = {}
    for path in lake.read("detector_state").inputFiles():
        folder = unquote(path).rsplit("/", 2)[-2]
        files[folder] = files.get(folder, 0) + 1
    assert files == {f"run_date={day.isoformat()}": 1 for day in days}
    assert sorted(tuple(row) for row in lake.read("detector_state").collect()) == sorted(rows)
