from __future__ import annotations

from datetime import date

from accountwatch.flows.runtime import LOCK_FILE, writer_lock
from accountwatch.jobs.core.lake import TABLES, local_rows
from accountwatch.jobs.outputs.status import gap_ranges, pipeline_status, writer_holder


def test_gap_ranges_are_the_missing_runs_between_the_first_and_last_day():
    days = {date(2026, 3, day) for day in (1, 2, 3, 6, 8, 9)}
    assert gap_ranges(days) == [(date(2026, 3, 4), date(2026, 3, 5)), (date(2026, 3, 7), date(2026, 3, 7))]
    assert gap_ranges({date(2026, 3, 1)}) == []


def test_the_writer_lock_names_its_holder_while_held_and_is_free_after(tmp_path):
    assert writer_holder(tmp_path, LOCK_FILE) is None
    with writer_lock(str(tmp_path), "run 2026-03-10", wait_seconds=0):
        assert writer_holder(tmp_path, LOCK_FILE).startswith("run 2026-03-10 (pid ")
    assert writer_holder(tmp_path, LOCK_FILE) is None


def test_status_shows_loaded_days_with_gaps_each_detectors_last_run_and_the_quarantine_share(spark, lake, tmp_path):
    loaded = [
        ("engagement", date(2026, 3, 1), 1, 1000, 990, 10),
        ("engagement", date(2026, 3, 2), 1, 1000, 1000, 0),
        ("engagement", date(2026, 3, 5), 1, 500, 500, 0),
        ("accounts", date(2026, 3, 1), 1, 100, 50, 50),
    ]
    lake.replace("loaded_days", local_rows(spark, loaded, TABLES["loaded_days"].schema), "true")
    runs = [
        (date(2026, 3, 4), "dormant_account", "history_too_short", 0, "history too short"),
        (date(2026, 3, 5), "dormant_account", "ok", 2, None),
        (date(2026, 3, 5), "quota_overrun", "ok", 0, None),
    ]
    lake.replace("detector_runs", local_rows(spark, runs, TABLES["detector_runs"].schema), "true")
    state = pipeline_status(lake, tmp_path, LOCK_FILE)
    tables = {table.table: table for table in state.tables}
    assert tables["engagement"].gaps == ((date(2026, 3, 3), date(2026, 3, 4)),)
    assert (tables["accounts"].days, tables["accounts"].gaps) == (1, ())
    assert [(run.detector, run.run_date, run.status, run.findings) for run in state.detectors] == [
        ("dormant_account", date(2026, 3, 5), "ok", 2),
        ("quota_overrun", date(2026, 3, 5), "ok", 0),
    ]
    first = state.quarantine[0]
    assert (first.day, first.landed, first.quarantined, first.worst_table) == (date(2026, 3, 1), 1100, 60, "accounts")
    assert round(first.share, 4) == round(60 / 1100, 4) and first.worst_share == 0.5
    assert state.writer is None
