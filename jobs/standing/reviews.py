"""Analysts' verdicts on findings, and what they change: dismissed findings stop counting."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from accountwatch.jobs.core.lake import Lake
from accountwatch.jobs.core.pii import mask_phones_text
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
    return record_reviews(lake, [finding_id], verdict, reviewer, note, reviewed_at)[0]


def record_reviews(
    lake: Lake, finding_ids: Sequence[str], verdict: str, reviewer: str, note: str | None, reviewed_at: datetime
) -> list[dict]:
    """Append one verdict on each of `finding_ids` in one commit; returns the review rows, in the order given.

    Nothing is written unless every id names a finding. The note is free text: a phone number typed into it is
    stored masked, as in the quarantine.
    """
    if verdict not in VERDICTS:
        raise ReviewError(f"unknown verdict {verdict!r} (expected {' or '.join(VERDICTS)})")
    if not reviewer.strip():
        raise ReviewError("--reviewer must name the analyst")
    ids = list(dict.fromkeys(finding_ids))
    if not ids:
        raise ReviewError("no finding selected")
    found = {
        row["finding_id"]: row
        for row in lake.read("findings")
        .where(F.col("finding_id").isin(ids))
        .select("finding_id", "run_date", "detector", "account_id", "evidence_key")
        .collect()
    }
    missing = [finding_id for finding_id in ids if finding_id not in found]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise ReviewError(f"no finding with id {missing[0]!r} in {lake.root}{more}")
    stamp = reviewed_at.isoformat()
    rows = [
        {
            "review_id": hashlib.sha256(f"{finding_id}|{reviewer}|{stamp}".encode()).hexdigest()[:32],
            "finding_id": finding_id,
            "run_date": found[finding_id]["run_date"],
            "detector": found[finding_id]["detector"],
            "account_id": found[finding_id]["account_id"],
            "evidence_key": found[finding_id]["evidence_key"],
            "verdict": verdict,
            "reviewer": reviewer.strip(),
            "note": None if note is None else mask_phones_text(note),
            "reviewed_at": reviewed_at,
        }
        for finding_id in ids
    ]
    from accountwatch.jobs.core.lake import TABLES

    lake.upsert("reviews", lake.spark.createDataFrame(rows, TABLES["reviews"].schema), ["review_id"])
    return rows
