"""Operational tables: quarantined rows, data-quality results and the days loaded."""

from __future__ import annotations

from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DateType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

QUARANTINE = StructType(
    [
        StructField("table_name", StringType(), False),
        StructField("ingest_date", DateType(), False),
        StructField("source_file", StringType(), False),
        StructField("source_row", LongType(), False),
        StructField("reason", StringType(), False),
        StructField("column_name", StringType(), True),
        StructField("problems", ArrayType(StringType(), False), False),
        StructField("raw", StringType(), False),
    ]
)

DQ_RESULTS = StructType(
    [
        StructField("table_name", StringType(), False),
        StructField("ingest_start", DateType(), False),
        StructField("ingest_end", DateType(), False),
        StructField("suite", StringType(), False),
        StructField("expectation", StringType(), False),
        StructField("column_name", StringType(), True),
        StructField("success", BooleanType(), False),
        StructField("evaluated_rows", LongType(), True),
        StructField("unexpected_rows", LongType(), True),
    ]
)

LOADED_DAYS = StructType(
    [
        StructField("table_name", StringType(), False),
        StructField("ingest_date", DateType(), False),
        StructField("files", LongType(), False),
        StructField("rows_landed", LongType(), False),
        StructField("rows_loaded", LongType(), False),
        StructField("rows_quarantined", LongType(), False),
    ]
)

# One row per evidence bundle written: who exported what, when, where, and the digest of its manifest.
EXPORTS = StructType(
    [
        StructField("export_id", StringType(), False),
        StructField("exported_at", TimestampType(), False),
        StructField("exported_by", StringType(), False),
        StructField("entity_type", StringType(), False),
        StructField("entity_id", StringType(), False),
        StructField("range_start", DateType(), True),
        StructField("range_end", DateType(), True),
        StructField("out_dir", StringType(), False),
        StructField("findings", LongType(), False),
        StructField("files", LongType(), False),
        StructField("data_sha256", StringType(), False),
        StructField("manifest_sha256", StringType(), False),
    ]
)
