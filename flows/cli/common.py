"""What every command shares: the options, errors, output formats and the demo's local PII key."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from accountwatch.jobs.outputs.csvsafe import spreadsheet_safe

# No outbound telemetry; its heartbeat also races the no-server mode's SQLite ("database is locked").
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# Nor the client's usage telemetry (Prefect's SDK reads the DO_NOT_TRACK convention).
os.environ.setdefault("DO_NOT_TRACK", "1")

console = Console(stderr=True)
DEMO_MARKER = ".accountwatch-demo"

LandingOption = Annotated[
    Path, typer.Option("--landing", envvar="ACCOUNTWATCH_LANDING", help="Landing folder (input files).")
]
LakeOption = Annotated[Path, typer.Option("--lake", envvar="ACCOUNTWATCH_LAKE", help="Lake folder (Delta tables).")]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", envvar="ACCOUNTWATCH_CONFIG", help="TOML file overriding the built-in defaults."),
]
DEFAULT_LANDING = Path("data/landing")
DEFAULT_LAKE = Path("data/lake")


class CommandError(RuntimeError):
    """A failure reported to the user as one line."""


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def _parse_day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"{option} {value!r} is not a date (expected YYYY-MM-DD)") from error


def _config_arg(config: Path | None) -> str | None:
    if config is None:
        return None
    if not config.is_file():
        raise CommandError(f"configuration file {config} does not exist")
    return str(config)


def _pii_key(lake: Path) -> bytes:
    """ACCOUNTWATCH_PII_KEY, or for a lake the demo wrote, the demo's local key (then also set for the flows)."""
    from accountwatch.jobs.core.pii import PII_KEY_VARIABLE, pii_key_from_environment

    demo_key = lake.absolute().parent / "demo-pii.key"
    if not os.environ.get(PII_KEY_VARIABLE) and (lake / DEMO_MARKER).exists() and demo_key.is_file():
        os.environ[PII_KEY_VARIABLE] = demo_key.read_text().strip()
    return pii_key_from_environment()


def _plain(value):
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _emit(rows: list[dict], columns: tuple[str, ...], shown: tuple[str, ...], title: str, output: OutputFormat) -> None:
    """Print rows as a table (the `shown` columns), or every column as CSV or JSON on stdout."""
    rows = [{column: _plain(row[column]) for column in columns} for row in rows]
    if output is OutputFormat.csv:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(
            {
                key: spreadsheet_safe(json.dumps(value) if isinstance(value, list) else value)
                for key, value in row.items()
            }
            for row in rows
        )
        sys.stdout.write(buffer.getvalue())
    elif output is OutputFormat.json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
    else:
        table = Table(title=title)
        for column in shown:
            # Ids, dates and codes stay on one line; the last column (reasons, finding ids) wraps.
            last = column == shown[-1]
            table.add_column(column, no_wrap=not last, overflow="fold" if last else "ellipsis")
        for row in rows:
            cells = []
            for column in shown:
                value = row[column]
                cells.append(", ".join(value) if isinstance(value, list) else "" if value is None else str(value))
            table.add_row(*cells)
        Console().print(table)


def _open_existing(lake: Path, config: Path | None, table: str, hint: str):
    from accountwatch.flows.runtime import open_lake

    if not (lake / table).is_dir():
        raise CommandError(f"no {table} table under {lake}: {hint}")
    return open_lake(str(lake), _config_arg(config))
