"""Run the rule detectors for a range of days and write findings, detector state and run records."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import reduce

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from accountwatch.jobs.core.config import Settings
from accountwatch.jobs.core.lake import SOURCE_TABLES, TABLES, Lake, between
from accountwatch.jobs.detectors.batches import (
    cluster_findings,
    daily_key_counts,
    first_flag_only,
    key_bursts,
    registration_keys,
    registration_views,
    view_folder_range,
)
from accountwatch.jobs.detectors.shaping import (
    as_findings,
    dormant_accounts,
    dormant_evidence,
    new_in_condition,
    quota_evidence,
    quota_overruns,
)
from accountwatch.jobs.detectors.spikes import judge_spikes, run_day_follows
from accountwatch.jobs.ingest.landing import days_between
from accountwatch.jobs.standing.settle import BARRING_DETECTORS, TIERS_RUN, StandingOutcome, settle

RULE_DETECTORS = ("dormant_account", "quota_overrun")
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


def add_months(day: date, months: int) -> date:
    """Calendar months added to a day, clamped to the end of a shorter month (as Spark's add_months)."""
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def dormancy_history_gap(day: date, months: int, loaded: set[date]) -> str | None:
    """Why the loaded engagement logs cannot judge dormancy on `day`, or None when they cover the window."""
    first_needed = add_months(day, -months) + timedelta(days=1)
    needed = days_between(first_needed, day)
    missing = [d for d in needed if d not in loaded]
    if not missing:
        return None
    return (
        f"history too short: engagement is loaded for {len(needed) - len(missing)} of the {len(needed)} days "
        f"from {first_needed.isoformat()} to {day.isoformat()} (first missing {missing[0].isoformat()})"
    )


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


def spike_history_gap(day: date, baseline_days: int, min_loaded: int, loaded: set[date]) -> str | None:
    """Why the loaded subscriptions cannot give `day` a follower baseline, or None when they can."""
    needed = days_between(day - timedelta(days=baseline_days), day - timedelta(days=1))
    have = sum(1 for d in needed if d in loaded)
    if have >= min_loaded:
        return None
    return (
        f"history too short: subscriptions are loaded for {have} of the {len(needed)} baseline days "
        f"from {needed[0].isoformat()} to {needed[-1].isoformat()} ({min_loaded} needed)"
    )


def _judged_days(lake: Lake, days: list[date], settings: Settings) -> dict[str, DetectorOutcome]:
    loaded: dict[str, set[date]] = {"engagement": set(), "subscriptions": set()}
    for row in lake.read("loaded_days").select("table_name", "ingest_date").collect():
        loaded.setdefault(row["table_name"], set()).add(row["ingest_date"])
    dormant = DetectorOutcome("dormant_account")
    spike = DetectorOutcome("fake_follower_spike")
    for day in days:
        gap = dormancy_history_gap(day, settings.dormant_months, loaded["engagement"])
        if gap:
            dormant.skipped[day] = gap
        else:
            dormant.judged_days.append(day)
        gap = spike_history_gap(
            day, settings.spike.baseline_days, settings.spike.min_loaded_baseline_days, loaded["subscriptions"]
        )
        if gap:
            spike.skipped[day] = gap
        else:
            spike.judged_days.append(day)
    return {
        "dormant_account": dormant,
        "quota_overrun": DetectorOutcome("quota_overrun", judged_days=list(days)),
        "batch_registration": DetectorOutcome("batch_registration", judged_days=list(days)),
        "fake_follower_spike": spike,
    }


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
        if name not in RULE_DETECTORS:
            continue
        previous = last_before.get(name)
        for day in outcome.judged_days:
            pairs.append((name, day, previous))
            previous = day
    return pairs


def batch_registrations(lake: Lake, start: date, end: date, settings: Settings) -> tuple[DataFrame, DataFrame]:
    """batch_registration finding rows for start..end, and the registrations per key and day they counted."""
    first_folder, last_folder = view_folder_range(start, end)
    changes = lake.read("account_changes").where(
        (F.col("ingest_date") >= F.lit(first_folder)) & (F.col("ingest_date") <= F.lit(last_folder))
    )
    views = changes.transform(registration_views(start, end)).localCheckpoint()
    keyed = registration_keys(views)
    counts = daily_key_counts(keyed).localCheckpoint()
    history_start = start - timedelta(days=settings.batch.history_days)
    history = (
        lake.read("registration_keys")
        .where((F.col("reg_date") >= F.lit(history_start)) & (F.col("reg_date") < F.lit(start)))
        .unionByName(counts)
    )
    memberships = keyed.transform(key_bursts(history, settings.batch)).localCheckpoint()
    # A view holds accounts registered on its day or the day before, so only the two days before start can
    # have flagged them already.
    earlier = lake.read("findings").where(
        (F.col("detector") == "batch_registration")
        & (F.col("run_date") >= F.lit(first_folder - timedelta(days=1)))
        & (F.col("run_date") < F.lit(start))
    )
    found = memberships.transform(cluster_findings(views, settings.batch)).transform(first_flag_only(earlier))
    return found, counts


def follower_spikes(
    lake: Lake, start: date, end: date, judged: list[date], batch_found: DataFrame, settings: Settings
) -> DataFrame:
    """fake_follower_spike finding rows for the judged days of start..end."""
    baseline_start = start - timedelta(days=settings.spike.baseline_days + 1)
    daily = lake.read("account_daily").where(
        (F.col("ingest_date") >= F.lit(baseline_start)) & (F.col("ingest_date") <= F.lit(end))
    )
    batch_flags = (
        lake.read("findings")
        .where((F.col("detector") == "batch_registration") & (F.col("run_date") < F.lit(start)))
        .select("account_id", "run_date")
        .unionByName(batch_found.select("account_id", "run_date"))
    )
    found = judge_spikes(
        daily,
        run_day_follows(lake.read("subscriptions"), start, end),
        lake.read("accounts"),
        lake.read("user_activity"),
        batch_flags,
        start,
        end,
        settings.spike,
    )
    return found.where(F.col("run_date").isin(*judged))


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
    outcomes = _judged_days(lake, days, settings)
    say("building account snapshots")
    snapshots = (
        snapshot_from_current(lake, start) if from_current_state else snapshots_from_history(lake, start, end)
    ).persist()
    try:
        dormant_days = outcomes["dormant_account"].judged_days
        dormant = (
            snapshots.where(F.col("run_date").isin(*dormant_days)).transform(dormant_accounts(settings.dormant_months))
            if dormant_days
            else None
        )
        over_quota = snapshots.transform(quota_overruns(settings.quota_limits))
        in_condition = [over_quota.select("run_date", F.lit("quota_overrun").alias("detector"), "account_id")]
        if dormant is not None:
            in_condition.append(dormant.select("run_date", F.lit("dormant_account").alias("detector"), "account_id"))
        condition_now = reduce(DataFrame.unionByName, in_condition)

        previous = _previous_judged(lake, outcomes, start)
        previous_days = spark.createDataFrame(previous, "detector string, run_date date, previous_run_date date")
        prior_days = sorted({p for _, _, p in previous if p is not None and p < start})
        prior_state = lake.read("detector_state").where(F.col("run_date").isin(*prior_days)) if prior_days else None
        condition_all = (
            condition_now
            if prior_state is None
            else condition_now.unionByName(prior_state.select(*condition_now.columns))
        )
        newly = condition_all.transform(new_in_condition(previous_days)).select("detector", "run_date", "account_id")

        candidates = [over_quota.transform(quota_evidence).withColumn("detector", F.lit("quota_overrun"))]
        if dormant is not None:
            candidates.append(
                dormant.transform(dormant_evidence(settings.dormant_months)).withColumn(
                    "detector", F.lit("dormant_account")
                )
            )
        rule_findings = reduce(DataFrame.unionByName, candidates).join(
            newly, ["detector", "run_date", "account_id"], "left_semi"
        )
        say("looking for registration bursts")
        batch_found, key_counts = batch_registrations(lake, start, end, settings)
        batch_found = batch_found.localCheckpoint()
        statistical = [batch_found.withColumn("detector", F.lit("batch_registration"))]
        spike_days = outcomes["fake_follower_spike"].judged_days
        if spike_days:
            say("looking for follower spikes")
            spikes = follower_spikes(lake, start, end, spike_days, batch_found, settings)
            statistical.append(spikes.withColumn("detector", F.lit("fake_follower_spike")))
        every_detector = [rule_findings, *[rows.select(*rule_findings.columns) for rows in statistical]]
        found = (
            reduce(DataFrame.unionByName, every_detector)
            .transform(as_findings(settings.rule_versions, settings.actions))
            .persist()
        )
        detectors = ", ".join(f"'{name}'" for name in outcomes)
        slice_predicate = f"{between('{t}.run_date', start, end)} AND {{t}}.detector IN ({detectors})"
        counts: dict[tuple[str, date], int] = {}

        def write_findings(findings: DataFrame) -> None:
            say("writing findings")
            lake.upsert("findings", findings, ["finding_id"], delete_unmatched_where=slice_predicate)
            counts.update(
                {
                    (row["detector"], row["run_date"]): row["count"]
                    for row in findings.groupBy("detector", "run_date").count().collect()
                }
            )

        standing = settle(
            lake, start, end, settings, snapshots, found, write_findings, now or datetime.now(settings.zone), say
        )
        found.unpersist()
        counts.update(standing.barring_findings)
        for name in BARRING_DETECTORS:
            outcomes[name] = DetectorOutcome(name, judged_days=list(days))
        rule_slice = f"{between('run_date', start, end)} AND detector IN ('dormant_account', 'quota_overrun')"
        lake.replace("detector_state", condition_now, rule_slice)
        lake.replace("registration_keys", key_counts, between("reg_date", start, end))
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
        lake.replace("detector_runs", spark.createDataFrame(run_rows, TABLES["detector_runs"].schema), runs_slice)
    finally:
        snapshots.unpersist()
    return RunOutcome(outcomes, standing)
