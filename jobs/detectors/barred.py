"""What the detectors judged after the blacklist share: fresh registrations, and names as the platform compares them.

Both judge fresh registrations: public accounts whose registration row reaches the lake on the run day
(registered then, or delivered late within the allowed days), each judged once, on that day.
"""

from __future__ import annotations

import unicodedata
from datetime import date, timedelta

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
# Full-width forms (U+FF01..U+FF5E) and the ideographic space, with their ASCII counterparts.
FULL_WIDTH = "".join(chr(code) for code in range(0xFF01, 0xFF5F)) + "\u3000"
HALF_WIDTH = "".join(chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)) + " "
_FOLD = str.maketrans(FULL_WIDTH, HALF_WIDTH)
# Java regex: Unicode whitespace, zero-width characters and decimal digits of any script.
DROPPED = f"(?U)[\\s\\p{{Nd}}{ZERO_WIDTH}]"


def normalise_name(name: str | None) -> str:
    """Fold width and case, drop spaces and digits: "Ｄａｉｌｙ News 2" and "dailynews" are one name.

    The same rule as `normalised_name`, in plain Python (for tests and for analysts' notebooks).
    """
    if not name:
        return ""
    folded = name.translate(_FOLD).lower()
    return "".join(ch for ch in folded if not (ch.isspace() or ch in ZERO_WIDTH or unicodedata.category(ch) == "Nd"))


def normalised_name(column: str) -> Column:
    """normalise_name as a Spark expression (no Python workers)."""
    return F.regexp_replace(F.lower(F.translate(F.col(column), FULL_WIDTH, HALF_WIDTH)), DROPPED, "")


def fresh_registrations(changes: DataFrame, start: date, end: date, max_late_days: int) -> DataFrame:
    """Public accounts first delivered on a day of start..end with a registration time in the delivery window.

    `changes` must hold the account_changes folders from start - max_late_days - 1 to end. Returns run_date
    (the delivery day), account_id, subject_id, account_name, registered_at.
    """
    first_seen = Window.partitionBy("account_id").orderBy("ingest_date", F.col("updated_at").desc(), "source_row")
    window_start = F.to_timestamp(F.date_sub("ingest_date", max_late_days))
    window_end = F.to_timestamp(F.date_add("ingest_date", 1))
    return (
        changes.withColumn("_order", F.row_number().over(first_seen))
        .where(
            (F.col("_order") == 1)
            & (F.col("ingest_date") >= F.lit(start))
            & (F.col("ingest_date") <= F.lit(end))
            & (F.col("account_type") == "public")
            & (F.col("registered_at") >= window_start)
            & (F.col("registered_at") < window_end)
        )
        .select(F.col("ingest_date").alias("run_date"), "account_id", "subject_id", "account_name", "registered_at")
    )


def changes_window(start: date, max_late_days: int) -> date:
    """The first account_changes folder fresh_registrations needs for a run starting on `start`."""
    return start - timedelta(days=max_late_days + 1)
