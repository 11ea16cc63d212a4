"""unapproved_transfer: a public account that changed hands without an approved transfer application.

Two ways an account changes hands on a day D:
- its `subject_id` changed (an account row delivered on D names another subject than the row before it);
- its operators were replaced: an operator never seen before on the account or on another account of its
  subject began on day F (one of the `overlap_days` before D, or D itself), none of the operators of the
  `operator_window_days` before F acts on D or the `overlap_days` before it, D is the first such day, and the new
  operators act from devices or networks (/24) that are none of the old operators' (rows without a device and an
  address cannot show that, so they never make a handover). So a handover is judged on F when the old operators
  stopped more than `overlap_days` before it, and otherwise once their silence has lasted that long.

Either is a finding unless an application for the account was approved in the `approval_days` before the end of
D. Staff rotation (old and new operators overlap, or share the organisation's devices or networks), one operator
on a new phone (the same operator) and an agency that runs the account all along (an old operator still acting)
are not handovers. A rejected application followed by the handover anyway makes the finding high severity.

Reads the compact operator state (`operator_daily` of the window, `account_operators`), the changed accounts'
rows of `account_changes` and the window's `transfers`: never the raw engagement history.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from accountwatch.jobs.core.config import TransferSettings
from accountwatch.jobs.detectors.base import (
    Detection,
    Detector,
    FindingView,
    RawRows,
    RunInputs,
    Scoring,
    evidence_field,
)

NAME = "unapproved_transfer"


def subject_changes(start: date, end: date) -> Callable[[DataFrame], DataFrame]:
    """From account rows (the full history of the accounts that changed), the subject changes delivered start..end.

    One row per account and folder day: the subject before the day's first change and after its last.
    """

    def transform(changes: DataFrame) -> DataFrame:
        public = changes.where((F.col("account_type") == "public") & F.col("subject_id").isNotNull())
        in_order = Window.partitionBy("account_id").orderBy("updated_at", "ingest_date", "source_file", "source_row")
        moves = (
            public.withColumn("_before", F.lag("subject_id").over(in_order))
            .where(F.col("_before").isNotNull() & (F.col("_before") != F.col("subject_id")))
            .where(F.col("ingest_date").between(F.lit(start), F.lit(end)))
        )
        return moves.groupBy(F.col("ingest_date").alias("run_date"), "account_id").agg(
            F.min_by("_before", "updated_at").alias("from_subject_id"),
            F.max_by("subject_id", "updated_at").alias("to_subject_id"),
            F.max("updated_at").alias("changed_at"),
        )

    return transform


def _merged(values: Column) -> Column:
    return F.array_sort(F.array_distinct(F.flatten(F.collect_list(values))))


def _new_to_the_subject(first_here: DataFrame, first_seen: DataFrame, subjects: DataFrame) -> DataFrame:
    """The rows of operators first seen on their account that day who never acted on another of its subject's.

    An operator who already ran another of the subject's accounts is the organisation's own staff.
    """
    with_subject = first_here.join(subjects, ["account_id", "run_date"])
    sightings = (
        first_seen.join(first_here.select("actor_id").distinct(), "actor_id", "semi")
        .join(subjects, "account_id")
        .select(
            F.col("actor_id").alias("_actor"),
            F.col("subject_id").alias("_subject"),
            F.col("run_date").alias("_day"),
            F.col("first_seen_on").alias("_seen"),
        )
    )
    earlier = (
        (F.col("actor_id") == F.col("_actor"))
        & (F.col("subject_id") == F.col("_subject"))
        & (F.col("run_date") == F.col("_day"))
        & (F.col("_seen") < F.col("first_seen_on"))
    )
    return with_subject.join(sightings, earlier, "anti")


# Long: the handover rule's steps in order (first days, operators new to the subject, the old operators' last use,
# the day judged after the overlap, devices and networks apart), one transform as every detector step returns.
def operator_handovers(
    days: list[date], first_seen: DataFrame, subjects: DataFrame, settings: TransferSettings
) -> Callable[[DataFrame], DataFrame]:
    """From `operator_daily` rows of the window, the days whose new operators took over from the old ones.

    `first_seen` holds `account_operators`: an operator is new on D when D is the first folder day they acted on
    the account and on every other account of its subject; `subjects` maps (account_id, run_date) to subject_id.
    """

    def transform(daily: DataFrame) -> DataFrame:
        # An operator's first day on the account (F), for each run day D from F to the last of its overlap days.
        first_days = (
            daily.join(first_seen.select("account_id", "actor_id", "first_seen_on"), ["account_id", "actor_id"])
            .where(F.col("first_seen_on") == F.col("ingest_date"))
            .withColumn(
                "run_date",
                F.explode(F.sequence(F.col("first_seen_on"), F.date_add("first_seen_on", settings.overlap_days))),
            )
            .where(F.col("run_date").isin(*days))
        )
        newcomers = _new_to_the_subject(first_days, first_seen, subjects)
        arrivals = newcomers.groupBy("account_id", "run_date").agg(
            F.min("first_seen_on").alias("arrived_on"),
            F.array_sort(F.collect_set("actor_id")).alias("new_operators"),
            _merged(F.col("devices")).alias("new_devices"),
            _merged(F.col("networks")).alias("new_networks"),
        )
        a = arrivals.select("account_id", "run_date", "arrived_on").alias("a")
        # One pass over the window before the arrival and up to the run day: the old operators are those who acted
        # before the arrival; their devices and networks are those of before it, their last use counts to the day.
        seen = daily.alias("d").join(
            a,
            (F.col("d.account_id") == F.col("a.account_id"))
            & F.col("d.ingest_date").between(
                F.date_sub("a.arrived_on", settings.operator_window_days), F.col("a.run_date")
            ),
        )
        before_arrival = F.col("d.ingest_date") < F.col("a.arrived_on")
        per_actor = seen.groupBy("a.account_id", "a.run_date", "d.actor_id").agg(
            F.max(before_arrival).alias("_old"),
            F.max("d.ingest_date").alias("_last"),
            F.flatten(F.collect_list(F.when(before_arrival, F.col("d.devices")))).alias("_devices"),
            F.flatten(F.collect_list(F.when(before_arrival, F.col("d.networks")))).alias("_networks"),
        )
        old = (
            per_actor.where("_old")
            .groupBy("account_id", "run_date")
            .agg(
                F.array_sort(F.collect_set("actor_id")).alias("old_operators"),
                F.max("_last").alias("last_old_use"),
                _merged(F.col("_devices")).alias("old_devices"),
                _merged(F.col("_networks")).alias("old_networks"),
            )
        )
        # The first day on which the arrival stands and the old operators have been silent for the overlap days.
        judged_on = F.greatest(F.col("arrived_on"), F.date_add("last_old_use", settings.overlap_days + 1))
        return (
            arrivals.join(old, ["account_id", "run_date"])
            .where(judged_on == F.col("run_date"))
            # The new operators must show where they act from (files without devices and addresses cannot say).
            .where((F.size("new_devices") > 0) | (F.size("new_networks") > 0))
            .where(F.size(F.array_intersect("new_devices", "old_devices")) == 0)
            .where(F.size(F.array_intersect("new_networks", "old_networks")) == 0)
            .drop("arrived_on", "old_devices", "old_networks")
        )

    return transform


def unapproved(
    handovers: DataFrame, applications: DataFrame, settings: TransferSettings
) -> Callable[[DataFrame], DataFrame]:
    """Join subject changes with operator handovers per account and day; keep those no approval covers.

    `applications` holds `transfers` rows; one approved for the account and decided in the `approval_days` before
    the end of the day covers it.
    """

    def transform(changes: DataFrame) -> DataFrame:
        both = changes.join(handovers, ["account_id", "run_date"], "full")
        decided_on = F.to_date("decided_at")
        in_window = decided_on.between(F.date_sub("run_date", settings.approval_days), F.col("run_date"))
        decisions = (
            both.select("account_id", "run_date")
            .join(applications, "account_id")
            .where(in_window)
            .groupBy("account_id", "run_date")
            .agg(
                F.max(F.col("decision") == "approved").alias("approved"),
                F.array_sort(
                    F.collect_list(
                        F.struct(
                            F.date_format("decided_at", "yyyy-MM-dd HH:mm:ss").alias("decided_at"),
                            "application_id",
                            "decision",
                            "to_subject_id",
                        )
                    )
                ).alias("applications"),
            )
        )
        return (
            both.join(decisions, ["account_id", "run_date"], "left")
            .where(~F.coalesce(F.col("approved"), F.lit(False)))
            .withColumn("applications", F.coalesce("applications", F.array()))
            .drop("approved")
        )

    return transform


def transfer_evidence(settings: TransferSettings) -> Callable[[DataFrame], DataFrame]:
    """Finding columns: high when the subject changed or a rejected application came before, medium otherwise."""

    def transform(found: DataFrame) -> DataFrame:
        subject_changed = F.col("to_subject_id").isNotNull()
        operators_replaced = F.col("new_operators").isNotNull()
        rejected = F.size(F.filter("applications", lambda app: app["decision"] == "rejected")) > 0
        changes = F.filter(
            F.array(
                F.when(subject_changed, F.lit("subject")),
                F.when(operators_replaced, F.lit("operators")),
            ),
            lambda change: change.isNotNull(),
        )
        return found.select(
            "run_date",
            "account_id",
            F.coalesce("to_subject_id", "subject_id").alias("subject_id"),
            F.when(subject_changed | rejected, "high").otherwise("medium").alias("severity"),
            (subject_changed.cast("double") + operators_replaced.cast("double") + rejected.cast("double")).alias(
                "score"
            ),
            F.to_json(
                F.struct(
                    changes.alias("changes"),
                    "from_subject_id",
                    "to_subject_id",
                    F.date_format("changed_at", "yyyy-MM-dd HH:mm:ss").alias("changed_at"),
                    F.coalesce("old_operators", F.array()).alias("old_operators"),
                    F.col("last_old_use").cast("string").alias("last_old_use"),
                    F.coalesce("new_operators", F.array()).alias("new_operators"),
                    F.coalesce("new_devices", F.array()).alias("new_devices"),
                    F.coalesce("new_networks", F.array()).alias("new_networks"),
                    "applications",
                    F.lit(settings.approval_days).alias("approval_days"),
                    F.lit(settings.operator_window_days).alias("operator_window_days"),
                    F.lit(settings.overlap_days).alias("overlap_days"),
                ),
                {"ignoreNullFields": "false"},
            ).alias("evidence"),
        )

    return transform


def find(inputs: RunInputs) -> Detection:
    """The run's unapproved transfers, from the compact operator state, the changed accounts and the applications."""
    lake, settings = inputs.lake, inputs.settings.transfer
    start, end, days = inputs.start, inputs.end, inputs.judged
    in_range = F.col("ingest_date").between(F.lit(start), F.lit(end))
    changed = lake.read("account_changes").where(in_range).select("account_id").distinct()
    history = lake.read("account_changes").where(F.col("ingest_date") <= F.lit(end)).join(changed, "account_id", "semi")
    # A run day's arrival can be up to `overlap_days` old, and its old operators are those of the window before it.
    window_start = start - timedelta(days=settings.operator_window_days + settings.overlap_days)
    daily = lake.read("operator_daily").where(F.col("ingest_date").between(F.lit(window_start), F.lit(end)))
    subjects = inputs.snapshots.select("account_id", "run_date", "subject_id")
    handovers = daily.transform(operator_handovers(days, lake.read("account_operators"), subjects, settings))
    earliest_decision = start - timedelta(days=settings.approval_days)
    applications = (
        lake.read("transfers")
        .where(F.to_date("decided_at").between(F.lit(earliest_decision), F.lit(end)))
        .select("account_id", "application_id", "decision", "decided_at", "to_subject_id")
    )
    # The nightly run's snapshot is of its one day; a backfill's holds every day: the latest subject of the run.
    latest_subject = subjects.groupBy("account_id").agg(F.max_by("subject_id", "run_date").alias("subject_id"))
    found = (
        history.transform(subject_changes(start, end))
        .where(F.col("run_date").isin(*days))
        .transform(unapproved(handovers, applications, settings))
        .join(latest_subject, "account_id")
        .transform(transfer_evidence(settings))
    )
    return Detection(found)


def sentence(evidence: dict[str, Any]) -> str:
    """What an unapproved_transfer finding shows, in one sentence."""
    parts = []
    if evidence.get("to_subject_id"):
        parts.append(f"subject changed from {evidence.get('from_subject_id')} to {evidence.get('to_subject_id')}")
    if evidence.get("new_operators"):
        parts.append(
            f"operators {', '.join(evidence.get('old_operators') or [])} (last use {evidence.get('last_old_use')}) "
            f"replaced by {', '.join(evidence['new_operators'])} from new devices and networks"
        )
    rejected = [app["application_id"] for app in evidence.get("applications") or [] if app["decision"] == "rejected"]
    approval = f"after rejected application {', '.join(rejected)}" if rejected else "with no approved application"
    return f"{'; '.join(parts) or 'changed hands'}, {approval} in the {evidence.get('approval_days')} days before"


def raw_rows(finding: FindingView) -> RawRows:
    """The account's rows and its account changes of the operator window (before the arrival, up to the run day)."""
    window = int(finding.evidence.get("operator_window_days") or 90) + int(finding.evidence.get("overlap_days") or 0)
    first = finding.run_date - timedelta(days=window)
    return RawRows(
        registrations=((finding.account_id, first, finding.run_date),),
        accounts=(("account_id", finding.account_id),),
    )


def evidence_key() -> list[Column]:
    """A handover is its new subject and its new operators."""
    return [evidence_field("$.to_subject_id"), evidence_field("$.new_operators")]


DETECTOR = Detector(
    name=NAME,
    rule="no transfer, lending or trading of an account without approval (2020 draft, art. 11)",
    section=NAME,
    reads=("account_changes", "operator_daily", "account_operators", "transfers", "accounts"),
    phase="before_blacklist",
    severities=("medium", "high"),
    sentence=sentence,
    raw_rows=raw_rows,
    evidence_key=evidence_key,
    scoring=Scoring(
        case="account_day",
        planted=lambda truth: truth.unapproved_transfer,
        look_alikes=lambda truth: truth.transfer_look_alikes,
    ),
    find=find,
    progress="looking for accounts that changed hands without approval",
)
