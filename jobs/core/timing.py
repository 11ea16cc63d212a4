"""An opt-in breakdown of a run: per stage its wall time, Spark jobs and Delta commits.

Off unless `ACCOUNTWATCH_PROFILE` is set (the CLI's `--profile` sets it), so a run pays nothing for it. Stages
nest; a stage's counts include its inner stages'. Spark jobs are counted from the scheduler's job ids, which
grow by one per job in the process, so a count is exact whatever else Spark keeps of finished jobs.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

PROFILE_VARIABLE = "ACCOUNTWATCH_PROFILE"


@dataclass
class Stage:
    """One timed stage: its name, nesting depth, wall seconds, Spark jobs and Delta commits."""

    name: str
    depth: int
    seconds: float = 0.0
    spark_jobs: int = 0
    delta_commits: int = 0


_stages: list[Stage] = []
_depth = 0
_commits = 0
# Called with (stage name, True) when a stage starts and (stage name, False) when it ends, breakdown on or off.
StageListener = Callable[[str, bool], None]
_listeners: list[StageListener] = []


def enabled() -> bool:
    """Whether the breakdown is being recorded."""
    return bool(os.environ.get(PROFILE_VARIABLE))


def enable() -> None:
    """Record the breakdown from now on in this process (and in processes it starts)."""
    os.environ[PROFILE_VARIABLE] = "1"


def _spark_jobs_started() -> int:
    """How many Spark jobs this process has started so far (0 before the session exists)."""
    from pyspark import SparkContext

    context = SparkContext._active_spark_context
    if context is None:
        return 0
    try:
        # The DAG scheduler numbers jobs from 0 in submission order: the next id is the count so far.
        next_id = context._jsc.sc().dagScheduler().nextJobId()
        return int(next_id if isinstance(next_id, int) else next_id.get())
    except Exception:
        ids = context.statusTracker().getJobIdsForGroup(None)
        return max(ids) + 1 if ids else 0


def delta_commit() -> None:
    """Count one Delta commit (the lake calls this for every write it makes)."""
    global _commits
    _commits += 1


@contextmanager
def listening(listener: StageListener) -> Iterator[None]:
    """Tell `listener` when each stage starts and ends while the block runs (a progress display)."""
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)


def _tell(name: str, started: bool) -> None:
    for listener in list(_listeners):
        listener(name, started)


@contextmanager
def stage(name: str, rest: str | None = None) -> Iterator[None]:
    """Record the block's wall time, Spark jobs and Delta commits as stage `name` (when the breakdown is on).

    With `rest`, the block's time outside its inner stages is recorded as one more inner stage called `rest`
    (for a flow: what Prefect itself takes). Listeners hear of the stage either way.
    """
    _tell(name, True)
    try:
        with _recorded(name, rest):
            yield
    finally:
        _tell(name, False)


@contextmanager
def _recorded(name: str, rest: str | None) -> Iterator[None]:
    global _depth
    if not enabled():
        yield
        return
    record = Stage(name, _depth)
    _stages.append(record)
    first_inner = len(_stages)
    jobs_before, commits_before, started = _spark_jobs_started(), _commits, time.monotonic()
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        record.seconds = time.monotonic() - started
        record.spark_jobs = _spark_jobs_started() - jobs_before
        record.delta_commits = _commits - commits_before
        if rest is not None:
            inner = [inner for inner in _stages[first_inner:] if inner.depth == record.depth + 1]
            outside = Stage(rest, record.depth + 1, record.seconds - sum(inner.seconds for inner in inner))
            outside.spark_jobs = record.spark_jobs - sum(inner.spark_jobs for inner in inner)
            _stages.append(outside)


def add(name: str, seconds: float, spark_jobs: int = 0, depth: int = 0) -> None:
    """Record a stage measured elsewhere (process start, Prefect's share of a flow)."""
    if enabled():
        _stages.append(Stage(name, depth, seconds, spark_jobs))


def stages() -> list[Stage]:
    """The stages recorded so far, in the order they started."""
    return list(_stages)


def reset() -> None:
    """Forget the stages recorded so far."""
    global _commits
    _stages.clear()
    _commits = 0


def as_rows() -> list[dict[str, Any]]:
    """The breakdown as plain rows (for JSON and benchmarks)."""
    return [
        {
            "stage": record.name,
            "depth": record.depth,
            "seconds": round(record.seconds, 2),
            "spark_jobs": record.spark_jobs,
            "delta_commits": record.delta_commits,
        }
        for record in _stages
    ]


def as_text() -> str:
    """The breakdown as a fixed-width table, inner stages indented under their stage."""
    lines = [f"{'stage':<64} {'seconds':>8} {'jobs':>6} {'commits':>7}"]
    for record in _stages:
        label = ("  " * record.depth + record.name)[:64]
        lines.append(f"{label:<64} {record.seconds:>8.2f} {record.spark_jobs:>6} {record.delta_commits:>7}")
    return "\n".join(lines)
