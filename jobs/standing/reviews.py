"""Analysts' verdicts on findings, and what they change: dismissed findings stop counting."""

from __future__ import annotations

import hashlib
from datetime import datetime

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from accountwatch.jobs.core.lake import Lake
from accountwatch.schemas.standing import VERDICTS


class ReviewError(ValueError):
    """A review that cannot be recorded: an unknown finding, a bad verdict, no reviewer."""


def latest_verdicts(lake: Lake) -> DataFrame:
    """The verdict that counts for each reviewed finding: its latest."""
    latest = Window.partitionBy("finding_id").orderBy(F.col("reviewed_at").desc(), F.col("review_id").desc())
    return (
        lake.read("reviews").withColumn("_rank", F.row_number().over(latest)).where(F.col("_rank") == 1).drop("_rank")
    )


def dismissed_ids(verdicts: DataFrame) -> DataFrame:
    """finding_id of every finding whose latest verdict is `dismissed`."""
    return verdicts.where(F.col("verdict") == "dismissed").select("finding_id")


def counting(findings: DataFrame, verdicts: DataFrame) -> DataFrame:
    """The findings that count toward tiers and the blacklist: all but the dismissed ones."""
    return findings.join(dismissed_ids(verdicts), "finding_id", "left_anti")


def without_dismissed_evidence(findings: DataFrame, verdicts: DataFrame) -> DataFrame:
    """Drop findings that repeat a dismissed finding's evidence under another id.

    The dismissed finding itself (same finding_id) stays: it is the record the review points at.
    """
    dismissed = verdicts.where(F.col("verdict") == "dismissed").select(
        "detector", "account_id", "evidence_key", F.col("finding_id").alias("_dismissed_id")
    )
    repeats = (
        findings.join(dismissed, ["detector", "account_id", "evidence_key"], "inner")
        .where(F.col("finding_id") != F.col("_dismissed_id"))
        .select("finding_id")
    )
    return findings.join(repeats, "finding_id", "left_anti")


def record_review(
    lake: Lake, finding_id: str, verdict: str, reviewer: str, note: str | None, reviewed_at: datetime
) -> dict:
    """Append a verdict on a finding; returns the review row. Earlier verdicts stay, the latest counts."""
    if verdict not in VERDICTS:
        raise ReviewError(f"unknown verdict {verdict!r} (expected {' or '.join(VERDICTS)})")
    if not reviewer.strip():
        raise ReviewError("--reviewer must name the analyst")
    found = (
        lake.read("findings")
        .where(F.col("finding_id") == finding_id)
        .select("finding_id", "run_date", "detector", "account_id", "evidence_key")
        .collect()
    )
    if not found:
        raise ReviewError(f"no finding with id {finding_id!r} in {lake.root}")
    finding = found[0]
    stamp = reviewed_at.isoformat()
    review_id = hashlib.sha256(f"{finding_id}|{reviewer}|{stamp}".encode()).hexdigest()[:32]
    row = {
        "review_id": review_id,
        "finding_id": finding_id,
        "run_date": finding["run_date"],
        "detector": finding["detector"],
        "account_id": finding["account_id"],
        "evidence_key": finding["evidence_key"],
        "verdict": verdict,
        "reviewer": reviewer.strip(),
        "note": note,
        "reviewed_at": reviewed_at,
    }
    from accountwatch.jobs.core.lake import TABLES

    lake.upsert("reviews", lake.spark.createDataFrame([row], TABLES["reviews"].schema), ["review_id"])
    return row
