"""What a person at a terminal sees while a run works: the stage it is in, how many are done, the time so far."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from accountwatch.jobs.core import timing

# How many stage names, innermost last, the line shows after its task ("detect › settle: tiers (suite and write)").
SHOWN_DEPTH = 1
# Characters of the open stages shown, so the bar and the counts stay on one line of a narrow terminal.
SHOWN_CHARACTERS = 60


class StageProgress:
    """A timing listener that keeps a progress line: the open stages, the count of finished ones, a bar per task.

    The run's stages (`jobs.core.timing.stage`) nest: a flow holds tasks (ingest, detect), a task its steps
    (each landing table, each Great Expectations suite, each Delta write, each detector, each settle step).
    Each task gets its own bar, filled as its steps finish; how many steps a task has is known only once it
    has run, so a bar's total is the steps seen so far plus one until the task ends.
    """

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._open: list[str] = []
        self._bars: dict[str, TaskID] = {}
        self._steps: dict[str, int] = {}
        self.finished = 0

    def __call__(self, name: str, started: bool) -> None:
        if started:
            self._open.append(name)
            if len(self._open) == 2:  # a task of the flow
                self._steps[name] = 0
                self._bars[name] = self._progress.add_task(_short(name), total=1)
        else:
            if name in self._open:
                del self._open[len(self._open) - 1 - self._open[::-1].index(name) :]
            self.finished += 1
            task = self._open[1] if len(self._open) >= 2 else None
            if task is not None and len(self._open) == 2:  # a step of that task ended
                self._steps[task] += 1
            if len(self._open) == 1 and name in self._bars:  # the task ended
                steps = self._steps[name]
                done = steps or 1
                self._progress.update(self._bars[name], total=done, completed=done, description=_short(name))
        self._refresh()

    def _refresh(self) -> None:
        if len(self._open) < 2:
            return
        task = self._open[1]
        inner = " › ".join(self._open[2:][-SHOWN_DEPTH:])
        steps = self._steps[task]
        description = _short(task) + (f" › {inner}" if inner else "")
        if len(description) > SHOWN_CHARACTERS:
            description = description[: SHOWN_CHARACTERS - 1] + "…"
        self._progress.update(self._bars[task], total=steps + 1, completed=steps, description=description)


# Prefect's console handler, set from the environment when Prefect configures logging (its first flow run).
PREFECT_CONSOLE_LEVEL = "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"


def _short(task: str) -> str:
    """A task's stage name without the word "task" ("task ingest" -> "ingest")."""
    return task.removeprefix("task ")


@contextmanager
def _prefect_console_quiet() -> Iterator[None]:
    """Prefect's flow and task lines stay off the terminal (its API handler still gets them); warnings still show."""
    from prefect.logging.handlers import PrefectConsoleHandler

    handlers = [handler for handler in logging.getLogger().handlers if isinstance(handler, PrefectConsoleHandler)]
    levels = [handler.level for handler in handlers]
    had_variable = PREFECT_CONSOLE_LEVEL in os.environ
    os.environ.setdefault(PREFECT_CONSOLE_LEVEL, "WARNING")
    for handler in handlers:
        handler.setLevel(max(handler.level, logging.WARNING))
    try:
        yield
    finally:
        for handler, level in zip(handlers, levels, strict=True):
            handler.setLevel(level)
        if not had_variable:
            os.environ.pop(PREFECT_CONSOLE_LEVEL, None)


@contextmanager
def stage_progress(console: Console, title: str) -> Iterator[StageProgress | None]:
    """Show the run's progress on `console` while the block runs; nothing when it is not a terminal (logs, CI).

    While the progress line is shown, Prefect's own info lines (flow and task runs starting and finishing, its
    temporary server) are kept off the terminal: the line says where the run is.
    """
    if not console.is_terminal:
        yield None
        return
    console.print(title)
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(bar_width=24),
        TextColumn("{task.completed}/{task.total} steps"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    listener = StageProgress(progress)
    with _prefect_console_quiet(), progress, timing.listening(listener):
        yield listener
