"""What every flow and command needs: settings, the Spark session and the lake, from plain values."""

from __future__ import annotations

from pathlib import Path

from jobs.config import Settings, load_settings
from jobs.lake import Lake
from jobs.spark import get_spark


def open_lake(lake_dir: str, config_file: str | None) -> tuple[Lake, Settings]:
    """The lake at `lake_dir` with the Spark session configured by `config_file`."""
    settings = load_settings(config_file)
    spark = get_spark(settings)
    return Lake(spark, Path(lake_dir), settings), settings
