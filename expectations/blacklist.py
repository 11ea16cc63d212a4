"""Expectations on the blacklist before it is written."""

from __future__ import annotations

import great_expectations as gx
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from accountwatch.schemas.standing import BLACKLIST_STATUSES, ENTITY_TYPES


def prepare(rows: DataFrame) -> DataFrame:
    """Per-row facts the suite checks: cited findings, current rows per entry, active entries per entity."""
    active = (F.col("status") == "active") & F.col("is_current")
    return (
        rows.withColumn("cited_findings", F.size("finding_ids"))
        .withColumn("current_rows", F.sum(F.col("is_current").cast("int")).over(Window.partitionBy("entry_id")))
        .withColumn(
            "active_entries_of_entity",
            F.sum(active.cast("int")).over(Window.partitionBy("entity_type", "entity_id")),
        )
        .withColumn("row_key", F.concat_ws("|", "entry_id", "status"))
    )


def expectations() -> list:
    """The `blacklist` suite."""
    required = ["entry_id", "entity_type", "entity_id", "reason", "listed_on", "status", "changed_by", "changed_at"]
    return [
        *[gx.expectations.ExpectColumnValuesToNotBeNull(column=name) for name in required],
        gx.expectations.ExpectColumnValuesToBeInSet(column="entity_type", value_set=list(ENTITY_TYPES)),
        gx.expectations.ExpectColumnValuesToBeInSet(column="status", value_set=list(BLACKLIST_STATUSES)),
        # Every entry cites the findings that put the entity on the list.
        gx.expectations.ExpectColumnValuesToBeBetween(column="cited_findings", min_value=1),
        gx.expectations.ExpectColumnValuesToBeBetween(column="current_rows", min_value=1, max_value=1),
        gx.expectations.ExpectColumnValuesToBeBetween(column="active_entries_of_entity", min_value=0, max_value=1),
        gx.expectations.ExpectColumnValuesToBeUnique(column="row_key"),
    ]
