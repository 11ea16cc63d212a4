"""The detectors the blacklist makes possible: blacklisted_subject_registration and closed_name_reregistration.

Both judge fresh registrations: public accounts whose registration row reaches the lake on the run day
(registered then, or delivered late within the allowed days), each judged once, on that day.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import date, timedelta

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.config import NameMatchSettings

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


def subject_registrations(listed: DataFrame) -> Callable[[DataFrame], DataFrame]:
    """Fresh registrations by a subject blacklisted (active, listed before the registration's run day)."""

    def transform(fresh: DataFrame) -> DataFrame:
        subjects = listed.where(F.col("entity_type") == "subject").select(
            F.col("entity_id").alias("subject_id"), "entry_id", "listed_on", "rules", "finding_ids"
        )
        matched = fresh.join(subjects, "subject_id").where(F.col("listed_on") < F.col("run_date"))
        return matched.groupBy("run_date", "account_id", "subject_id", "account_name", "registered_at").agg(
            F.lit("high").alias("severity"),
            F.count("entry_id").cast("double").alias("score"),
            F.to_json(
                F.struct(
                    "subject_id",
                    "account_name",
                    "registered_at",
                    F.array_sort(F.collect_list(F.struct("listed_on", "entry_id", "rules", "finding_ids"))).alias(
                        "blacklist_entries"
                    ),
                )
            ).alias("evidence"),
        )

    return transform


def _blocks(frame: DataFrame, column: str) -> DataFrame:
    """Two rows per name, keyed by its first two and its last two characters.

    One edit leaves either intact in a name of four or more characters, so near matches always share a key.
    """
    return frame.select(
        "*",
        F.explode(
            F.array(F.concat(F.lit("^"), F.substring(column, 1, 2)), F.concat(F.lit("$"), F.substring(column, -2, 2)))
        ).alias("_block"),
    )


def name_reregistrations(protected: DataFrame, settings: NameMatchSettings) -> Callable[[DataFrame], DataFrame]:
    """Fresh registrations named like a closed or blacklisted account (after normalise_name).

    `protected`: run_date, account_id, account_name, subject_id, why (closed, blacklisted): the names barred
    on that run day.
    """

    def transform(fresh: DataFrame) -> DataFrame:
        new = _blocks(
            fresh.withColumn("normalised", normalised_name("account_name")).where(F.length("normalised") > 0),
            "normalised",
        )
        barred = _blocks(
            protected.select(
                "run_date",
                F.col("account_id").alias("match_id"),
                F.col("account_name").alias("match_name"),
                F.col("subject_id").alias("match_subject"),
                "why",
            )
            .withColumn("match_normalised", normalised_name("match_name"))
            .where(F.length("match_normalised") > 0),
            "match_normalised",
        )
        edits = F.levenshtein("normalised", "match_normalised")
        near = (
            (edits <= settings.max_edits)
            & (F.length("normalised") >= settings.min_near_length)
            & (F.length("match_normalised") >= settings.min_near_length)
        )
        pairs = (
            new.join(barred, ["run_date", "_block"])
            .where(
                (F.col("account_id") != F.col("match_id")) & ((F.col("normalised") == F.col("match_normalised")) | near)
            )
            .withColumn("edits", edits)
            .dropDuplicates(["run_date", "account_id", "match_id", "why"])
        )
        match = F.struct(
            F.col("edits"),
            F.col("match_id").alias("account_id"),
            F.col("match_name").alias("account_name"),
            F.col("why"),
            F.col("match_subject").eqNullSafe(F.col("subject_id")).alias("same_subject"),
        )
        return pairs.groupBy("run_date", "account_id", "subject_id", "account_name", "normalised", "registered_at").agg(
            F.when(F.min("edits") == 0, "high").otherwise("medium").alias("severity"),
            (1.0 - F.min("edits") / F.max(F.greatest(F.length("normalised"), F.length("match_normalised")))).alias(
                "score"
            ),
            F.to_json(
                F.struct(
                    "account_name",
                    "normalised",
                    "registered_at",
                    F.array_sort(F.collect_list(match)).alias("matches"),
                )
            ).alias("evidence"),
        )

    return transform


def barred_names(snapshots: DataFrame, listed: DataFrame) -> DataFrame:
    """For each snapshot day: closed public accounts, and accounts blacklisted (active) before that day."""
    closed = snapshots.where(F.col("status") == "closed").select(
        "run_date", "account_id", "account_name", "subject_id", F.lit("closed").alias("why")
    )
    accounts = listed.where(F.col("entity_type") == "account").select(
        F.col("entity_id").alias("account_id"), "listed_on"
    )
    blacklisted = (
        snapshots.join(accounts, "account_id")
        .where(F.col("listed_on") < F.col("run_date"))
        .select("run_date", "account_id", "account_name", "subject_id", F.lit("blacklisted").alias("why"))
    )
    return closed.unionByName(blacklisted)
