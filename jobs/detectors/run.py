"""Run the registry's detectors for a range of days and write findings, detector state and run records."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import reduce

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.types import DateType, StringType, StructField, StructType

from accountwatch.jobs.core import timing
from accountwatch.jobs.core.config import Settings
from accountwatch.jobs.core.lake import SOURCE_TABLES, TABLES, Lake, between, local_rows
from accountwatch.jobs.detectors import registry
from accountwatch.jobs.detectors.base import (
    CANDIDATE_COLUMNS,
    Detector,
    RunInputs,
    SpellInputs,
    SpellRule,
    TableWrite,
)
from accountwatch.jobs.detectors.shaping import as_findings, new_in_condition
from accountwatch.jobs.ingest.landing import days_between
from accountwatch.jobs.standing.settle import TIERS_RUN, SettleInputs, StandingOutcome, settle

# Per spell detector and judged day, its previous judged day (null when there is none).
PREVIOUS_JUDGED = StructType(
    [
        StructField("detector", StringType()),
        StructField("run_date", DateType()),
        StructField("previous_run_date", DateType()),
    ]
)
SNAPSHOT_COLUMNS = ("account_type", "subject_id", "subject_type", "account_name", "registered_at", "status")


@dataclass
class RunOutcome:
    """What a detect run did: per detector, and to the blacklist and tiers."""

    detectors: dict[str, DetectorOutcome]
    standing: StandingOutcome


@dataclass
class DetectorOutcome:
    """What one detector did over a range of days."""

    detector: str
    judged_days: list[date] = field(default_factory=list)
    skipped: dict[date, str] = field(default_factory=dict)
    findings: int = 0


def _as_of_ranges(per_day: DataFrame, value: str, start: date, end: date) -> DataFrame:
    """Expand (account_id, ingest_date, value) change points to one row per account and run day."""
    order = Window.partitionBy("account_id").orderBy("ingest_date")
    return (
        per_day.withColumn("_next", F.lead("ingest_date").over(order))
        .withColumn("_to", F.coalesce(F.date_sub("_next", 1), F.lit(end)))
        .where((F.col("_to") >= F.lit(start)) & (F.col("ingest_date") <= F.lit(end)))
        .select(
            "account_id",
            F.explode(F.sequence(F.greatest("ingest_date", F.lit(start)), F.least("_to", F.lit(end)))).alias(
                "run_date"
            ),
            value,
        )
    )


def snapshots_from_history(lake: Lake, start: date, end: date) -> DataFrame:
    """Each public account's state and latest use as of the end of every day from start to end.

    Reads the account change history and the compact daily counts: for backfills and for reruns of past days.
    """
    changes = lake.read("account_changes").where(F.col("ingest_date") <= F.lit(end))
    latest_key = F.struct("updated_at", "ingest_date", "source_file", "source_row", *SNAPSHOT_COLUMNS)
    cumulative = Window.partitionBy("account_id").orderBy("ingest_date").rowsBetween(Window.unboundedPreceding, 0)
    state_changes = (
        changes.groupBy("account_id", "ingest_date")
        .agg(F.max(latest_key).alias("_latest"))
        .withColumn("state", F.max("_latest").over(cumulative))
    )
    states = _as_of_ranges(state_changes, "state", start, end).select(
        "account_id", "run_date", *[F.col(f"state.{name}").alias(name) for name in SNAPSHOT_COLUMNS]
    )
    daily = lake.read("account_daily").where(F.col("ingest_date") <= F.lit(end))
    use_changes = (
        daily.groupBy("account_id", "ingest_date")
        .agg(F.max("last_login_at").alias("_login"), F.max("last_publish_at").alias("_publish"))
        .withColumn(
            "use",
            F.struct(
                F.max("_login").over(cumulative).alias("last_login_at"),
                F.max("_publish").over(cumulative).alias("last_publish_at"),
            ),
        )
    )
    uses = _as_of_ranges(use_changes, "use", start, end).select("account_id", "run_date", "use.*")
    return states.where(F.col("account_type") == "public").join(uses, ["account_id", "run_date"], "left")


def snapshot_from_current(lake: Lake, day: date) -> DataFrame:
    """Each public account's current state and latest use: the compact state the nightly run reads."""
    accounts = lake.read("accounts").where(F.col("account_type") == "public").select("account_id", *SNAPSHOT_COLUMNS)
    activity = lake.read("account_activity")
    return accounts.join(activity, "account_id", "left").withColumn("run_date", F.lit(day))


def _loaded_days(lake: Lake) -> dict[str, set[date]]:
    loaded: defaultdict[str, set[date]] = defaultdict(set)
    for row in lake.read("loaded_days").select("table_name", "ingest_date").collect():
        loaded[row["table_name"]].add(row["ingest_date"])
    return loaded


def _judged_days(lake: Lake, days: list[date], settings: Settings) -> dict[str, DetectorOutcome]:
    """Per detector judged before the blacklist: the days the loaded logs let it judge, and why not the others."""
    loaded = _loaded_days(lake)
    outcomes = {}
    for detector in registry.DETECTORS:
        if detector.phase != "before_blacklist":
            continue
        outcome = DetectorOutcome(detector.name)
        for day in days:
            gap = detector.history_gap(day, settings, loaded) if detector.history_gap else None
            if gap:
                outcome.skipped[day] = gap
            else:
                outcome.judged_days.append(day)
        outcomes[detector.name] = outcome
    return outcomes


def _previous_judged(
    lake: Lake, outcomes: dict[str, DetectorOutcome], start: date
) -> list[tuple[str, date, date | None]]:
    earlier = (
        lake.read("detector_runs")
        .where((F.col("run_date") < F.lit(start)) & (F.col("status") == "ok"))
        .groupBy("detector")
        .agg(F.max("run_date").alias("last"))
        .collect()
    )
    last_before = {row["detector"]: row["last"] for row in earlier}
    pairs = []
    for name, outcome in outcomes.items():
        if registry.get(name).spell is None:
            continue
        previous = last_before.get(name)
        for day in outcome.judged_days:
            pairs.append((name, day, previous))
            previous = day
    return pairs


class _FindingsWriter:
    """Writes the findings of the detectors judged before the blacklist, counting them per detector and day."""

    def __init__(self, lake: Lake, slice_predicate: str, progress: Callable[[str], None]) -> None:
        self.lake = lake
        self.slice_predicate = slice_predicate
        self.progress = progress
        self.counts: dict[tuple[str, date], int] = {}

    def say(self, message: str) -> None:
        self.progress(message)

    def write_findings(self, findings: DataFrame) -> None:
        self.say("writing findings")
        with timing.stage("findings write: every detector's rows replace the run's slice"):
            self.lake.replace("findings", findings, self.slice_predicate)
        with timing.stage("findings count per detector"):
            self.counts.update(
                {
                    (row["detector"], row["run_date"]): row["count"]
                    for row in findings.groupBy("detector", "run_date").count().collect()
                }
            )


def detect_range(
    lake: Lake,
    start: date,
    end: date,
    settings: Settings,
    from_current_state: bool,
    progress: Callable[[str], None] | None = None,
    now: datetime | None = None,
) -> RunOutcome:
    """Judge every day from start to end, write the new findings and the detectors' state."""
    say = progress or (lambda message: None)
    metadata = {"run": "detect", "start": start.isoformat(), "end": end.isoformat(), **settings.provenance()}
    # Every commit of the run records the source versions it read, so evidence can be re-read exactly.
    with lake.pinned(SOURCE_TABLES) as read_versions:
        with lake.commit_metadata({**metadata, "read_versions": read_versions}):
            return _detect_pinned(lake, start, end, settings, from_current_state, say, now)


# Long: the run's steps in the order their commits must happen (snapshots, detectors, settle, state, runs).
def _detect_pinned(
    lake: Lake,
    start: date,
    end: date,
    settings: Settings,
    from_current_state: bool,
    say: Callable[[str], None],
    now: datetime | None,
) -> RunOutcome:
    spark = lake.spark
    days = days_between(start, end)
    with timing.stage("detect: days each detector can judge (loaded_days)"):
        outcomes = _judged_days(lake, days, settings)
    say("building account snapshots")
    with timing.stage("detect: account snapshots (plan)"):
        snapshots = (
            snapshot_from_current(lake, start) if from_current_state else snapshots_from_history(lake, start, end)
        ).persist()
    condition_now: DataFrame | None = None
    in_condition: list[tuple[Detector, SpellRule, DataFrame]] = []
    try:
        columns = [*CANDIDATE_COLUMNS, "detector"]
        spells = [detector for detector in registry.in_phase("before_blacklist") if detector.spell is not None]
        spell_inputs = SpellInputs(lake, start, end, settings)
        for detector in spells:
            spell, judged = detector.spell, outcomes[detector.name].judged_days
            if spell is None or not judged:
                continue
            judged_snapshots = snapshots if judged == days else snapshots.where(F.col("run_date").isin(*judged))
            # Kept: the candidates, what is newly in condition and the detector state all read these rows.
            rows = judged_snapshots.transform(spell.condition(spell_inputs)).persist()
            in_condition.append((detector, spell, rows))
        condition_rows = [
            rows.select("run_date", F.lit(detector.name).alias("detector"), "account_id")
            for detector, _, rows in in_condition
        ]
        # Read by the findings (what is newly in condition) and by the detector state written after settle.
        condition_now = (
            reduce(DataFrame.unionByName, condition_rows)
            if condition_rows
            else local_rows(spark, [], TABLES["detector_state"].schema)
        ).persist()
        # Built here, once. Left to its readers, the cache was still empty when the detector state was written, which
        # computed the conditions again, and the candidates computed them apart from it.
        with timing.stage("detect: accounts in condition (spell detectors)"):
            condition_now.count()

        with timing.stage("detect: previous judged days (detector_runs)"):
            previous = _previous_judged(lake, outcomes, start)
        previous_days = local_rows(spark, previous, PREVIOUS_JUDGED)
        prior_days = sorted({p for _, _, p in previous if p is not None and p < start})
        prior_state = lake.read("detector_state").where(F.col("run_date").isin(*prior_days)) if prior_days else None
        condition_all = (
            condition_now
            if prior_state is None
            else condition_now.unionByName(prior_state.select(*condition_now.columns))
        )
        newly = condition_all.transform(new_in_condition(previous_days)).select("detector", "run_date", "account_id")
        spell_candidates = [
            rows.transform(spell.candidates(settings)).withColumn("detector", F.lit(detector.name)).select(*columns)
            for detector, spell, rows in in_condition
        ]
        every_detector = (
            [
                reduce(DataFrame.unionByName, spell_candidates).join(
                    newly, ["detector", "run_date", "account_id"], "left_semi"
                )
            ]
            if spell_candidates
            else []
        )

        found_by: dict[str, DataFrame] = {}
        writes: list[TableWrite] = []
        for detector in registry.in_phase("before_blacklist"):
            judged = outcomes[detector.name].judged_days
            if detector.find is None or not judged:
                continue
            if detector.progress:
                say(detector.progress)
            with timing.stage(f"detector {detector.name}"):
                detection = detector.find(RunInputs(lake, start, end, judged, settings, snapshots, found_by))
            found_by[detector.name] = detection.candidates
            writes.extend(detection.writes)
            every_detector.append(detection.candidates.withColumn("detector", F.lit(detector.name)).select(*columns))
        found = (
            reduce(DataFrame.unionByName, every_detector)
            .transform(as_findings(settings.rule_versions, settings.actions))
            .persist()
        )
        detectors = ", ".join(f"'{name}'" for name in outcomes)
        writer = _FindingsWriter(lake, f"{between('run_date', start, end)} AND detector IN ({detectors})", say)
        with timing.stage("settle"):
            standing = settle(
                SettleInputs(lake, start, end, settings, snapshots, found, now or datetime.now(settings.zone)), writer
            )
        found.unpersist()
        counts = {**writer.counts, **standing.barring_findings}
        for detector in registry.in_phase("after_blacklist"):
            outcomes[detector.name] = DetectorOutcome(detector.name, judged_days=list(days))
        spell_names = ", ".join(f"'{detector.name}'" for detector in spells)
        with timing.stage("detect: detector state and run records"):
            lake.replace(
                "detector_state", condition_now, f"{between('run_date', start, end)} AND detector IN ({spell_names})"
            )
            for write in writes:
                lake.replace(write.table, write.rows, write.slice_predicate)
            run_rows: list[tuple[date, str, str, int, str | None]] = []
            for name, outcome in outcomes.items():
                for day in outcome.judged_days:
                    day_findings = counts.get((name, day), 0)
                    outcome.findings += day_findings
                    run_rows.append((day, name, "ok", day_findings, None))
                run_rows += [(day, name, "history_too_short", 0, reason) for day, reason in outcome.skipped.items()]
            run_rows += [(day, TIERS_RUN, "ok", standing.tier_moves.get(day, 0), "tier rows written") for day in days]
            run_names = ", ".join(f"'{name}'" for name in [*outcomes, TIERS_RUN])
            runs_slice = f"{between('run_date', start, end)} AND detector IN ({run_names})"
            lake.replace("detector_runs", local_rows(spark, run_rows, TABLES["detector_runs"].schema), runs_slice)
    finally:
        snapshots.unpersist()
        if condition_now is not None:
            condition_now.unpersist()
        for _, _, rows in in_condition:
            rows.unpersist()
    return RunOutcome(outcomes, standing)
