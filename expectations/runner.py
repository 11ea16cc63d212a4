"""Run a table's expectation suite on a Spark DataFrame with an ephemeral GX context."""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

from pyspark.sql import DataFrame

from accountwatch.jobs.core import timing

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import great_expectations as gx  # noqa: E402  - reads the analytics switch at import
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402


class DataQualityError(RuntimeError):
    """Rows about to be written broke their table's expectation suite."""


@dataclass
class QualityOutcome:
    """The results of one suite on one batch of rows."""

    table: str
    results: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failures(self) -> list[str]:
        return [
            f"{self.table}: {result['expectation']}"
            + (f" on {result['column']}" if result["column"] else "")
            + f" failed ({result['unexpected']} unexpected rows)"
            for result in self.results
            if not result["success"]
        ]

    def rows(self, start: date, end: date) -> list[tuple]:
        """Rows in the `dq_results` schema."""
        return [
            (
                self.table,
                start,
                end,
                self.table,
                result["expectation"],
                result["column"],
                result["success"],
                result["evaluated"],
                result["unexpected"],
            )
            for result in self.results
        ]


# dq_results keeps each expectation's row and unexpected counts, not sample values. GX fetches up to
# `partial_unexpected_count` sample values per expectation with one Spark job each; at 0 Spark plans an empty
# result without running a job, and the counts stay the same.
RESULT_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": 0}


@cache
def _context() -> Any:
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    # No spark_config here: GX would otherwise restart the session without the Delta settings.
    context.data_sources.add_spark(name="accountwatch")
    return context


@cache
def _validation(table: str) -> Any:
    context = _context()
    suite_module = importlib.import_module(f"accountwatch.expectations.{table}")
    suite = context.suites.add(gx.ExpectationSuite(name=table, expectations=suite_module.expectations()))
    batch = (
        context.data_sources.get("accountwatch")
        .add_dataframe_asset(name=table)
        .add_batch_definition_whole_dataframe(f"{table}_rows")
    )
    return context.validation_definitions.add(gx.ValidationDefinition(name=table, data=batch, suite=suite))


def validate(table: str, rows: DataFrame) -> QualityOutcome:
    """Validate `rows` against the suite in `expectations/<table>.py` (after its `prepare`, when it has one)."""
    suite_module = importlib.import_module(f"accountwatch.expectations.{table}")
    with timing.stage(f"GX suite {table}"):
        prepared = suite_module.prepare(rows).persist() if hasattr(suite_module, "prepare") else rows
        try:
            result = _validation(table).run(batch_parameters={"dataframe": prepared}, result_format=RESULT_FORMAT)
        finally:
            if prepared is not rows:
                prepared.unpersist()
    outcome = QualityOutcome(table)
    for item in result.results:
        details = item.result or {}
        outcome.results.append(
            {
                "expectation": item.expectation_config.type,
                "column": item.expectation_config.kwargs.get("column"),
                "success": bool(item.success),
                "evaluated": details.get("element_count"),
                "unexpected": details.get("unexpected_count"),
            }
        )
    return outcome
