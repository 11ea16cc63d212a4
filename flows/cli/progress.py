"""What a person at a terminal sees while a run works: the stage it is in, how many are done, the time so far."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from accountwatch.jobs.core import timing

# How many stage names, innermost last, the line shows ("task detect › settle › settle: tiers ...").
SHOWN_DEPTH = 3


class StageProgress:
    """A timing listener that keeps a progress line: the open stages, the count of finished ones, a bar per task.

    The run's stages (`jobs.core.timing.stage`) nest: a flow holds tasks (ingest, detect), a task its steps
    (each landing table, each Great Expectations suite, each Delta write, each detector, each settle step).
    Each task gets its own bar, filled as its steps finish; how many steps a task has is known only once it
    has run, so a bar's total is the steps seen so far plus one until the task ends.
    """

    def __init__(self, progress: Progress, title: str) -> None:
        self._progress = progress
        self._title = title
        self._open: list[str] = []
        self._bars: dict[str, TaskID] = {}
        self._steps: dict[str, int] = {}
        self.finished = 0

    def __call__(self, name: str, started: bool) -> None:
        if started:
            self._open.append(name)
            if len(self._open) == 2:  # a task of the flow
                self._steps[name] = 0
                self._bars[name] = self._progress.add_task(name, total=1)
        else:
            if name in self._open:
                del self._open[len(self._open) - 1 - self._open[::-1].index(name) :]
            self.finished += 1
            task = self._open[1] if len(self._open) >= 2 else None
            if task is not None and len(self._open) == 2:  # a step of that task ended
                self._steps[task] += 1
            if len(self._open) == 1 and name in self._bars:  # the task ended
                steps = self._steps[name]
                self._progress.update(self._bars[name], total=steps or 1, completed=steps or 1, description=name)
        self._refresh()

    def _refresh(self) -> None:
        if len(self._open) < 2:
            return
        task = self._open[1]
        inner = " › ".join(self._open[2:][-SHOWN_DEPTH:])
        steps = self._steps[task]
        self._progress.update(
            self._bars[task],
            total=steps + 1,
            completed=steps,
            description=f"{self._title}: {task}" + (f" › {inner}" if inner else ""),
        )


@contextmanager
def stage_progress(console: Console, title: str) -> Iterator[StageProgress | None]:
    """Show the run's progress on `console` while the block runs; nothing when it is not a terminal (logs, CI)."""
    if not console.is_terminal:
        yield None
        return
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} steps"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    listener = StageProgress(progress, title)
    with progress, timing.listening(listener):
        yield listener
