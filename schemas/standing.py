"""What findings feed: analysts' reviews, the credit tiers and the blacklist."""

from __future__ import annotations

from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DateType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

VERDICTS = ("confirmed", "dismissed")
TIERS = ("A", "B", "C", "D")
ENTITY_TYPES = ("account", "subject")
BLACKLIST_STATUSES = ("active", "lifted")
ACTIONS = ("warning", "limit_functions", "suspend_updates", "close_account", "blacklist", "bar_re_registration")

# One row per verdict, appended; the latest verdict on a finding is the one that counts.
REVIEWS = StructType(
    [
        StructField("review_id", StringType(), False),
        StructField("finding_id", StringType(), False),
        StructField("run_date", DateType(), False),
        StructField("detector", StringType(), False),
        StructField("account_id", StringType(), False),
        StructField("evidence_key", StringType(), False),
        StructField("verdict", StringType(), False),
        StructField("reviewer", StringType(), False),
        StructField("note", StringType(), True),
        StructField("reviewed_at", TimestampType(), False),
    ]
)

# Each public account's credit tier over time: a row per spell, valid_from inclusive, valid_to exclusive.
ACCOUNT_TIERS = StructType(
    [
        StructField("account_id", StringType(), False),
        StructField("tier", StringType(), False),
        StructField("rule", StringType(), False),
        StructField("reasons", ArrayType(StringType()), False),
        StructField("policy_version", StringType(), False),
        StructField("valid_from", DateType(), False),
        StructField("valid_to", DateType(), True),
        StructField("is_current", BooleanType(), False),
    ]
)

# Every listing and every lift is a row; the row with is_current = true is an entry's state now.
BLACKLIST = StructType(
    [
        StructField("entry_id", StringType(), False),
        StructField("entity_type", StringType(), False),
        StructField("entity_id", StringType(), False),
        StructField("subject_id", StringType(), True),
        StructField("rules", ArrayType(StringType()), False),
        StructField("reason", StringType(), False),
        StructField("finding_ids", ArrayType(StringType()), False),
        StructField("listed_on", DateType(), False),
        StructField("rule_version", StringType(), False),
        StructField("status", StringType(), False),
        StructField("changed_by", StringType(), False),
        StructField("changed_at", TimestampType(), False),
        StructField("change_reason", StringType(), False),
        # A lift by an analyst covers the findings of the days judged when it was made (up to this day): only
        # findings of later days can list the entity again.
        StructField("covers_through", DateType(), True),
        StructField("is_current", BooleanType(), False),
    ]
)
