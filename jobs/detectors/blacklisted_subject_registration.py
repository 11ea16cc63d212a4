"""blacklisted_subject_registration: a fresh public account registered by a subject blacklisted before the day."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from accountwatch.jobs.detectors.barred import changes_window
from accountwatch.jobs.detectors.base import BarringInputs, Detector, FindingView, RawRows, Scoring, evidence_field

NAME = "blacklisted_subject_registration"


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


def bar(inputs: BarringInputs) -> DataFrame:
    """The day's fresh registrations by a blacklisted subject."""
    return inputs.fresh.transform(subject_registrations(inputs.listed))


def sentence(evidence: dict[str, Any]) -> str:
    """What a blacklisted_subject_registration finding shows, in one sentence."""
    listed = ", ".join(entry.get("listed_on", "") for entry in evidence.get("blacklist_entries") or [])
    return f"registered by subject {evidence.get('subject_id')}, blacklisted on {listed}"


def raw_rows(finding: FindingView) -> RawRows:
    """The new account's registration, and the subject's accounts."""
    first = changes_window(finding.run_date, finding.settings.max_late_days)
    return RawRows(
        registrations=((finding.account_id, first, finding.run_date),),
        accounts=(("subject_id", finding.evidence["subject_id"]),),
    )


def evidence_key() -> list[Column]:
    """A barred registration is the subject."""
    return [evidence_field("$.subject_id")]


DETECTOR = Detector(
    name=NAME,
    rule="bar blacklisted subjects from registering again",
    section=NAME,
    reads=("account_changes", "blacklist"),
    phase="after_blacklist",
    severities=("high",),
    sentence=sentence,
    raw_rows=raw_rows,
    evidence_key=evidence_key,
    scoring=Scoring(case="account_day", planted=lambda truth: truth.blacklisted_subject_registration),
    bar=bar,
)
