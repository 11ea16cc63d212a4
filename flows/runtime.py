"""What every flow and command needs: settings, the Spark session and the lake, from plain values."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from accountwatch.jobs.core.config import Settings, load_settings
from accountwatch.jobs.core.lake import Lake
from accountwatch.jobs.core.spark import get_spark

# The JVM's own output of every command on a lake, appended, so the terminal shows accountwatch's lines only.
SPARK_LOG = "_accountwatch/spark.log"


def open_lake(lake_dir: str, config_file: str | None) -> tuple[Lake, Settings]:
    """The lake at `lake_dir` with the Spark session configured by `config_file`."""
    settings = load_settings(config_file)
    spark = get_spark(settings, log_file=Path(lake_dir) / SPARK_LOG)
    return Lake(spark, Path(lake_dir), settings), settings


class LakeBusyError(RuntimeError):
    """Another run holds the lake's writer lock."""


LOCK_FILE = ".accountwatch-writer.lock"
LOCK_POLL_SECONDS = 5.0


@contextmanager
def writer_lock(lake_dir: str, holder: str, wait_seconds: float, say=lambda message: None) -> Iterator[None]:
    """Hold the lake's writer lock for the block: one run writes a lake at a time.

    The lock is an OS file lock, released when the process ends however it ends, so a killed run never
    leaves a stale lock. A second run waits up to `wait_seconds` for it, then fails naming the holder.
    """
    folder = Path(lake_dir)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOCK_FILE, "a+") as handle:
        deadline = time.monotonic() + wait_seconds
        waited = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                handle.seek(0)
                current = handle.read().strip() or "another run"
                if time.monotonic() >= deadline:
                    raise LakeBusyError(
                        f"{folder} is being written by {current}; waited {wait_seconds:.0f} s for it to finish "
                        "(rerun when it is done, or raise [runs] lock_wait_seconds)"
                    ) from None
                if not waited:
                    say(f"waiting for {current} to finish writing {folder}")
                    waited = True
                time.sleep(LOCK_POLL_SECONDS)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{holder} (pid {os.getpid()}, since {datetime.now().astimezone().isoformat(timespec='seconds')})")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)
