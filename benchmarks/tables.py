"""Comparing every table of two lakes: what a rerun of a killed day must leave as an uninterrupted run did."""

from __future__ import annotations

from accountwatch.jobs.core.lake import TABLES, Lake

# Columns that record when a run happened rather than what it found.
RUN_TIME_COLUMNS: dict[str, tuple[str, ...]] = {"blacklist": ("changed_at",)}


def table_rows(lake: Lake, name: str) -> list[tuple]:
    """The table's rows, sorted, without its run-time columns (an empty list when it was never written)."""
    rows = lake.read(name).drop(*RUN_TIME_COLUMNS.get(name, ())).collect()
    return sorted((tuple(row) for row in rows), key=repr)


def lake_rows(lake: Lake) -> dict[str, list[tuple]]:
    """Every table's rows, as table_rows gives them."""
    return {name: table_rows(lake, name) for name in TABLES}


def differing_tables(lake: Lake, reference: dict[str, list[tuple]]) -> list[str]:
    """The tables whose rows in `lake` are not those of `reference` (lake_rows of the lake to match)."""
    return [name for name in TABLES if table_rows(lake, name) != reference[name]]
