"""`accountwatch status`: the pipeline's state for the people who schedule it."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from accountwatch.flows.cli.common import (
    DEFAULT_LAKE,
    DEFAULT_LANDING,
    ConfigOption,
    LakeOption,
    LandingOption,
    OutputFormat,
    _open_existing,
)


def _tables(status) -> list[Table]:
    loaded = Table(title="loaded folder days per table")
    for column in ("table", "first", "last", "days", "gaps"):
        loaded.add_column(column, overflow="fold")
    for table in status.tables:
        gaps = ", ".join(first.isoformat() if first == last else f"{first}..{last}" for first, last in table.gaps)
        more = f" and {table.gap_count - len(table.gaps)} more" if table.gap_count > len(table.gaps) else ""
        loaded.add_row(table.table, str(table.first), str(table.last), str(table.days), (gaps + more) or "none")
    runs = Table(title="last run per detector")
    for column in ("detector", "run date", "state", "findings", "note"):
        runs.add_column(column, overflow="fold")
    for run in status.detectors:
        runs.add_row(run.detector, str(run.run_date), run.status, str(run.findings), run.message or "")
    quarantine = Table(title=f"quarantined share per folder day (last {len(status.quarantine)} loaded days)")
    for column in ("day", "rows landed", "quarantined", "share", "worst table"):
        quarantine.add_column(column)
    for day in status.quarantine:
        worst = f"{day.worst_table} {day.worst_share:.2%}" if day.quarantined else ""
        quarantine.add_row(str(day.day), f"{day.landed:,}", f"{day.quarantined:,}", f"{day.share:.2%}", worst)
    return [loaded, runs, quarantine]


def status(
    output: Annotated[OutputFormat, typer.Option("--format", help="table or json.")] = OutputFormat.table,
    landing: LandingOption = DEFAULT_LANDING,
    lake: LakeOption = DEFAULT_LAKE,
    config: ConfigOption = None,
) -> None:
    """Show the loaded days and gaps per table, each detector's last run, the recent quarantine share, the writer."""
    from accountwatch.flows.runtime import LOCK_FILE
    from accountwatch.jobs.outputs.status import pipeline_status

    lake_tables, _ = _open_existing(lake, config, "loaded_days", "run `accountwatch run` or `backfill` first")
    state = pipeline_status(lake_tables, lake, LOCK_FILE)
    if output is OutputFormat.json:
        sys.stdout.write(json.dumps(asdict(state), default=str, indent=2) + "\n")
        return
    out = Console()
    for table in _tables(state):
        out.print(table)
    out.print(f"writer lock: {'held by ' + state.writer if state.writer else 'free'}")
