"""Account tables: the change history and the current state per account."""

from __future__ import annotations

from pyspark.sql.types import DateType, LongType, StringType, StructField, StructType, TimestampType

# One row per landed account row; `accounts` holds the same columns, one row per account.
ACCOUNT_COLUMNS = StructType(
    [
        StructField("account_id", StringType(), False),
        StructField("account_type", StringType(), False),
        StructField("subject_id", StringType(), True),
        StructField("subject_type", StringType(), True),
        StructField("account_name", StringType(), False),
        StructField("registered_at", TimestampType(), False),
        StructField("registration_ip", StringType(), True),
        StructField("device_id", StringType(), True),
        StructField("phone_pseudonym", StringType(), True),
        StructField("phone_block", StringType(), True),
        StructField("content_category", StringType(), True),
        StructField("status", StringType(), False),
        StructField("updated_at", TimestampType(), False),
        StructField("ingest_date", DateType(), False),
        StructField("source_file", StringType(), False),
        StructField("source_row", LongType(), False),
    ]
)

ACCOUNT_CHANGES = ACCOUNT_COLUMNS
ACCOUNTS = ACCOUNT_COLUMNS
