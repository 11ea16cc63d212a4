"""The pipeline's state for schedulers: loaded days and gaps per table, each detector's last run, the recent
quarantine share per day, and who holds the lake's writer lock.

Built from the small `loaded_days` and `detector_runs` tables (collected to the driver) and the lock file; it
reads no event table.
"""

from __future__ import annotations

import fcntl
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from accountwatch.jobs.core.lake import Lake

RECENT_DAYS = 30
MAX_GAPS = 10


@dataclass(frozen=True)
class TableDays:
    """One landing table's loaded folder days: first, last, how many, and the missing ranges between."""

    table: str
    first: date
    last: date
    days: int
    gaps: tuple[tuple[date, date], ...]
    # How many gap ranges there are in all (`gaps` holds the first MAX_GAPS).
    gap_count: int


@dataclass(frozen=True)
class DetectorLastRun:
    """A detector's latest judged or skipped day."""

    detector: str
    run_date: date
    status: str
    findings: int
    message: str | None


@dataclass(frozen=True)
class QuarantineDay:
    """One folder day's rows landed and quarantined over every table, and its worst table."""

    day: date
    landed: int
    quarantined: int
    worst_table: str
    worst_share: float

    @property
    def share(self) -> float:
        return self.quarantined / self.landed if self.landed else 0.0


@dataclass
class PipelineStatus:
    """What `accountwatch status` shows."""

    tables: list[TableDays] = field(default_factory=list)
    detectors: list[DetectorLastRun] = field(default_factory=list)
    quarantine: list[QuarantineDay] = field(default_factory=list)
    # The lock's holder as it wrote itself ("run 2026-07-16 (pid 123, since ...)"), or None when free.
    writer: str | None = None


def gap_ranges(days: set[date]) -> list[tuple[date, date]]:
    """The ranges of missing days between the first and the last of `days`."""
    ordered = sorted(days)
    gaps = []
    for before, after in zip(ordered, ordered[1:], strict=False):
        if (after - before).days > 1:
            gaps.append((before + timedelta(days=1), after - timedelta(days=1)))
    return gaps


def writer_holder(lake_dir: Path, lock_file: str) -> str | None:
    """Who holds the lake's writer lock, or None when nobody does (the lock is only tried, never waited for)."""
    path = lake_dir / lock_file
    if not path.exists():
        return None
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            return handle.read().strip() or "another run"
        fcntl.flock(handle, fcntl.LOCK_UN)
        return None


def pipeline_status(lake: Lake, lake_dir: Path, lock_file: str, recent_days: int = RECENT_DAYS) -> PipelineStatus:
    """Collect the state of the lake's pipeline."""
    status = PipelineStatus(writer=writer_holder(lake_dir, lock_file))
    loaded = lake.read("loaded_days").collect()
    per_table: dict[str, set[date]] = {}
    per_day: dict[date, dict[str, tuple[int, int]]] = {}
    for row in loaded:
        per_table.setdefault(row["table_name"], set()).add(row["ingest_date"])
        per_day.setdefault(row["ingest_date"], {})[row["table_name"]] = (row["rows_landed"], row["rows_quarantined"])
    for table, days in sorted(per_table.items()):
        gaps = gap_ranges(days)
        status.tables.append(
            TableDays(table, min(days), max(days), len(days), tuple(gaps[:MAX_GAPS]), gap_count=len(gaps))
        )
    for day in sorted(per_day)[-recent_days:]:
        tables = per_day[day]
        shares = {name: (bad / landed if landed else 0.0) for name, (landed, bad) in tables.items()}
        worst = max(sorted(shares), key=lambda name: shares[name])
        status.quarantine.append(
            QuarantineDay(
                day,
                sum(landed for landed, _ in tables.values()),
                sum(bad for _, bad in tables.values()),
                worst,
                shares[worst],
            )
        )
    latest: dict[str, DetectorLastRun] = {}
    for row in lake.read("detector_runs").collect():
        current = latest.get(row["detector"])
        if current is None or row["run_date"] > current.run_date:
            latest[row["detector"]] = DetectorLastRun(
                row["detector"], row["run_date"], row["status"], int(row["findings"]), row["message"]
            )
    status.detectors = [latest[name] for name in sorted(latest)]
    return status
