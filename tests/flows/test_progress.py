"""The progress line a person at a terminal sees during a run."""

from __future__ import annotations

import io

from rich.console import Console
from rich.progress import Progress

from accountwatch.flows.cli.progress import StageProgress, stage_progress
from accountwatch.jobs.core import timing


def _bars(progress: Progress) -> list[tuple[str, float, float | None]]:
    return [(task.description, task.completed, task.total) for task in progress.tasks]


def test_each_task_gets_a_bar_filled_as_its_steps_end():
    progress = Progress(console=Console(file=io.StringIO(), force_terminal=True))
    listener = StageProgress(progress)
    listener("nightly flow", True)
    listener("task ingest", True)
    listener("ingest subscriptions: read", True)
    assert _bars(progress) == [("ingest › ingest subscriptions: read", 0, 1)]
    listener("ingest subscriptions: read", False)
    listener("ingest: Delta writes", True)
    listener("delta merge account_activity", True)
    assert _bars(progress) == [("ingest › delta merge account_activity", 1, 2)]
    listener("delta merge account_activity", False)
    listener("ingest: Delta writes", False)
    listener("task ingest", False)
    listener("task detect", True)
    assert _bars(progress) == [("ingest", 2, 2), ("detect", 0, 1)]
    assert listener.finished == 4


def test_no_progress_is_drawn_when_the_console_is_not_a_terminal():
    output = io.StringIO()
    with stage_progress(Console(file=output, force_terminal=False), "backfill") as listener:
        with timing.stage("task ingest"):
            pass
    assert listener is None
    assert output.getvalue() == ""


def test_a_terminal_run_shows_its_stages_and_leaves_no_bar_behind():
    output = io.StringIO()
    console = Console(file=output, force_terminal=True, width=120)
    with stage_progress(console, "backfill") as listener:
        with timing.stage("backfill flow"), timing.stage("task ingest"), timing.stage("GX suite engagement"):
            pass
    assert listener is not None and listener.finished == 3
    assert "backfill" in output.getvalue() and "ingest" in output.getvalue()


def test_a_long_stage_name_is_cut_to_keep_the_bar_on_one_line():
    progress = Progress(console=Console(file=io.StringIO(), force_terminal=True))
    listener = StageProgress(progress)
    for name in ("nightly flow", "task detect", "settle: blacklist inputs and plan (computes the detectors' rows)"):
        listener(name, True)
    (description, _, _), *_ = _bars(progress)
    assert description.startswith("detect › settle: blacklist inputs") and description.endswith("…")
    assert len(description) == 60
