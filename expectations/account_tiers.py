"""Expectations on the credit-tier history before it is written."""

from __future__ import annotations

import great_expectations as gx
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from accountwatch.schemas.standing import TIERS


def prepare(rows: DataFrame) -> DataFrame:
    """Per-row facts the suite checks: current rows per account, explained restrictions, ordered spells."""
    per_account = Window.partitionBy("account_id")
    return (
        rows.withColumn("current_rows", F.sum(F.col("is_current").cast("int")).over(per_account))
        .withColumn("unexplained", F.col("tier").isin("C", "D") & (F.size("reasons") == 0))
        .withColumn("spell_ordered", F.col("valid_to").isNull() | (F.col("valid_to") > F.col("valid_from")))
        .withColumn("spell_key", F.concat_ws("|", "account_id", F.col("valid_from").cast("string")))
    )


def expectations() -> list:
    """The `account_tiers` suite."""
    return [
        *[
            gx.expectations.ExpectColumnValuesToNotBeNull(column=name)
            for name in ("account_id", "tier", "rule", "policy_version", "valid_from", "is_current")
        ],
        gx.expectations.ExpectColumnValuesToBeInSet(column="tier", value_set=list(TIERS)),
        # Exactly one current row per public account.
        gx.expectations.ExpectColumnValuesToBeBetween(column="current_rows", min_value=1, max_value=1),
        # A watched or restricted tier always cites the findings (or blacklist entry) behind it.
        gx.expectations.ExpectColumnValuesToBeInSet(column="unexplained", value_set=[False]),
        gx.expectations.ExpectColumnValuesToBeInSet(column="spell_ordered", value_set=[True]),
        gx.expectations.ExpectColumnValuesToBeUnique(column="spell_key"),
    ]
