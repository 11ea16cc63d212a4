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
