"""What findings change for accounts: reviews applied, the blacklist, the two barring detectors, the tiers.

`settle` runs inside a detect run, between computing the statistical and rule findings and recording the
run, in this order:
1. findings repeating a dismissed finding's evidence are dropped (and counted);
2. the blacklist is planned day by day from the findings that count (dismissed ones do not);
3. the day's findings are written, those that put their account or subject on the list suggesting `blacklist`;
4. the detectors judged after the blacklist (phase `after_blacklist` in the registry) judge the fresh
   registrations against the day's list;
5. the blacklist (checked by its suite) and then the tiers (checked by theirs) are written.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import reduce
from typing import Protocol

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import DateType, StringType, StructField, StructType

from accountwatch.expectations import runner as quality
from accountwatch.jobs.core import timing
from accountwatch.jobs.core.config import Settings
from accountwatch.jobs.core.lake import TABLES, Lake, between, local_rows
from accountwatch.jobs.detectors import registry
from accountwatch.jobs.detectors.barred import changes_window, fresh_registrations
from accountwatch.jobs.detectors.base import CANDIDATE_COLUMNS, BarringInputs
from accountwatch.jobs.detectors.shaping import as_findings
from accountwatch.jobs.ingest.landing import days_between
from accountwatch.jobs.standing import blacklist, tiers
from accountwatch.jobs.standing.reviews import counting, latest_verdicts, without_dismissed_evidence

TIERS_RUN = "account_tiers"
# The findings that put their account or subject on the list, with the day they did.
TIPPED = StructType([StructField("finding_id", StringType()), StructField("run_date", DateType())])


class FindingsSink(Protocol):
    """Where `settle` writes the findings of the detectors judged before the blacklist, and says what it does."""

    def write_findings(self, findings: DataFrame) -> None:
        """Write the findings (the run's slice of those detectors)."""

    def say(self, message: str) -> None:
        """Report progress."""


@dataclass(frozen=True)
class SettleInputs:
    """What `settle` works on: the run's range, its snapshots and the other detectors' finding rows."""

    lake: Lake
    start: date
    end: date
    settings: Settings
    # Each public account's state at the end of every day of start..end (detect run snapshots).
    snapshots: DataFrame
    # Finding rows of the detectors judged before the blacklist.
    found: DataFrame
    now: datetime


@dataclass
class StandingOutcome:
    """What a run changed beyond its findings."""

    suppressed: int = 0
    listed: list[tuple[str, str]] = field(default_factory=list)
    lifted: list[tuple[str, str]] = field(default_factory=list)
    tier_moves: dict[date, int] = field(default_factory=dict)
    current_tiers: dict[str, int] = field(default_factory=dict)
    barring_findings: dict[tuple[str, date], int] = field(default_factory=dict)


def _held_back(found: DataFrame, verdicts: DataFrame, any_dismissed: bool) -> tuple[DataFrame, int]:
    """`found` without the findings that repeat a dismissed finding's evidence, and how many those were."""
    if not any_dismissed:
        return found, 0
    kept = without_dismissed_evidence(found, verdicts).persist()
    return kept, found.count() - kept.count()


def counts_toward_blacklist() -> Column:
    """Whether a finding can count in a blacklist rule: its detector has a role, and a subject if the rule needs one."""
    roles = {detector.name: detector.blacklist_role for detector in registry.DETECTORS if detector.blacklist_role}
    per_account = [name for name, role in roles.items() if not role.per_subject]
    per_subject = [name for name, role in roles.items() if role.per_subject]
    return F.col("detector").isin(*per_account) | (
        F.col("detector").isin(*per_subject) & F.col("subject_id").isNotNull()
    )


def barring_findings(inputs: BarringInputs) -> DataFrame:
    """Finding rows of the detectors judged after the blacklist (before reviews are applied)."""
    columns = [*CANDIDATE_COLUMNS, "detector"]
    barring = [
        detector.bar(inputs).withColumn("detector", F.lit(detector.name)).select(*columns)
        for detector in registry.in_phase("after_blacklist")
        if detector.bar is not None
    ]
    return reduce(DataFrame.unionByName, barring).transform(
        as_findings(inputs.settings.rule_versions, inputs.settings.actions)
    )


def _blacklist_inputs(
    lake: Lake,
    fresh: DataFrame,
    start: date,
    end: date,
    settings: Settings,
    verdicts: DataFrame,
    confirmed: set[str],
) -> list[blacklist.Finding]:
    """The findings the blacklist rules can look at for start..end."""
    window = max(settings.blacklist.spike_window_days, settings.blacklist.subject_window_days)
    columns = ["finding_id", "run_date", "detector", "account_id", "subject_id", "severity"]
    relevant = counts_toward_blacklist()
    stored = lake.read("findings")
    earlier = stored.where(
        (F.col("run_date") >= F.lit(start - timedelta(days=window - 1))) & (F.col("run_date") < F.lit(start)) & relevant
    ).select(*columns)
    chosen = [earlier]
    if confirmed:
        chosen.append(
            stored.where((F.col("severity") == "high") & (F.col("run_date") < F.lit(start)))
            .join(verdicts.where(F.col("verdict") == "confirmed").select("finding_id"), "finding_id")
            .select(*columns)
        )
    chosen.append(fresh.where(relevant | (F.col("severity") == "high")).select(*columns))
    rows = reduce(DataFrame.unionByName, chosen).distinct().collect()
    return [blacklist.Finding(**row.asDict()) for row in rows]


def current_after(current: list[blacklist.Entry], planned: list[blacklist.Entry]) -> list[blacklist.Entry]:
    """The blacklist's current entries once `planned` is written over `current`."""
    after = {entry.entry_id: entry for entry in current}
    for entry in planned:
        if entry.is_current:
            after[entry.entry_id] = entry
        else:
            after.pop(entry.entry_id, None)
    return sorted(after.values(), key=lambda entry: (entry.listed_on, entry.entry_id))


def listed_between(entries: list[blacklist.Entry], start: date, end: date) -> list[blacklist.Entry]:
    """The active entries listed on a day from start to end."""
    return [entry for entry in entries if entry.status == "active" and start <= entry.listed_on <= end]


def _listed_frame(lake: Lake, after: list[blacklist.Entry]) -> DataFrame:
    """Active entries after the run: what the barring detectors and the tiers look at."""
    return blacklist.as_frame(lake, [entry for entry in after if entry.status == "active"])


def _validate(table: str, rows: DataFrame, start: date, end: date, lake: Lake) -> None:
    outcome = quality.validate(table, rows)
    lake.replace(
        "dq_results",
        local_rows(lake.spark, outcome.rows(start, end), TABLES["dq_results"].schema),
        f"table_name = '{table}' AND ingest_start = DATE'{start.isoformat()}' AND ingest_end = DATE'{end.isoformat()}'",
    )
    if outcome.failures:
        raise quality.DataQualityError("; ".join(outcome.failures))


def _last_tiered(lake: Lake) -> date | None:
    return lake.read("detector_runs").where(F.col("detector") == TIERS_RUN).agg(F.max("run_date")).collect()[0][0]


# Long: the standing steps in the order their commits must happen (see the module docstring).
def settle(inputs: SettleInputs, sink: FindingsSink) -> StandingOutcome:
    """Apply reviews to the found rows, write them through `sink`, judge the barring detectors, then the standing."""
    lake, start, end, settings, snapshots, found = (
        inputs.lake,
        inputs.start,
        inputs.end,
        inputs.settings,
        inputs.snapshots,
        inputs.found,
    )
    say = sink.say
    outcome = StandingOutcome()
    with timing.stage("settle: reviews"):
        verdicts = latest_verdicts(lake).localCheckpoint()
        reviewed = verdicts.select("finding_id", "verdict").collect()
        dismissed = {row["finding_id"] for row in reviewed if row["verdict"] == "dismissed"}
        confirmed = {row["finding_id"] for row in reviewed if row["verdict"] == "confirmed"}
        kept, outcome.suppressed = _held_back(found, verdicts, bool(dismissed))

    say("updating the blacklist")
    with timing.stage("settle: blacklist inputs and plan (computes the detectors' findings)"):
        candidates = _blacklist_inputs(lake, kept, start, end, settings, verdicts, confirmed)
        entries = blacklist.read_current(lake)
        planned = blacklist.plan(
            days_between(start, end),
            candidates,
            dismissed,
            confirmed,
            entries,
            settings.blacklist,
            inputs.now,
        )
        after = current_after(entries, planned)
    # Listed on one of the run's days: by this run, or by an earlier try of it killed after its blacklist write
    # (its rerun plans nothing new, and must still mark the tipping findings and report the listing).
    listed_now = listed_between(after, start, end)
    outcome.listed = [entry.key for entry in listed_now]
    outcome.lifted = [entry.key for entry in planned if entry.status == "lifted"]
    # The finding that tipped an entity onto the list (found on its listing day) suggests blacklisting it.
    tipping = [(finding_id, entry.listed_on) for entry in listed_now for finding_id in entry.finding_ids]
    tipped = local_rows(lake.spark, tipping, TIPPED).withColumn("_tipped", F.lit(True))
    marked = (
        kept.join(tipped, ["finding_id", "run_date"], "left")
        .withColumn(
            "recommended_action",
            F.when(F.col("_tipped"), F.lit("blacklist")).otherwise(F.col("recommended_action")),
        )
        .drop("_tipped")
    )
    sink.write_findings(marked)
    if kept is not found:
        kept.unpersist()

    say("checking fresh registrations against the blacklist and closed names")
    with timing.stage("settle: barring detectors"):
        listed = _listed_frame(lake, after).localCheckpoint()
        changes = lake.read("account_changes").where(
            (F.col("ingest_date") >= F.lit(changes_window(start, settings.max_late_days)))
            & (F.col("ingest_date") <= F.lit(end))
        )
        fresh = fresh_registrations(changes, start, end, settings.max_late_days).localCheckpoint()
        barring_found = barring_findings(BarringInputs(fresh, listed, snapshots, settings))
        barring_kept, held_back = _held_back(barring_found.persist(), verdicts, bool(dismissed))
        outcome.suppressed += held_back
        detectors = ", ".join(f"'{detector.name}'" for detector in registry.in_phase("after_blacklist"))
        lake.replace("findings", barring_kept, f"{between('run_date', start, end)} AND detector IN ({detectors})")
        outcome.barring_findings = {
            (row["detector"], row["run_date"]): row["count"]
            for row in barring_kept.groupBy("detector", "run_date").count().collect()
        }
        barring_kept.unpersist()
        barring_found.unpersist()

    with timing.stage("settle: blacklist suite and write"):
        if planned:
            _validate("blacklist", blacklist.after_write(lake, planned), start, end, lake)
        blacklist.write(lake, planned)

    say("updating credit tiers")
    with timing.stage("settle: tiers (suite and write)"):
        policy = settings.tiers
        counted = counting(
            lake.read("findings").where(
                (F.col("run_date") > F.lit(start - timedelta(days=policy.trusted_clean_days)))
                & (F.col("run_date") <= F.lit(end))
            ),
            verdicts,
        )
        daily = snapshots.transform(tiers.daily_tiers(counted, listed, policy))
        history = tiers.spliced_history(
            lake.read("account_tiers"), daily, start, end, _last_tiered(lake), policy.policy_version
        ).localCheckpoint()
        _validate("account_tiers", history, start, end, lake)
        # The spliced spells are the whole slice they are written over (every spell valid on start - 1 or later):
        # replacing it leaves what a MERGE on (account, valid_from) would, in about a third of its Spark jobs.
        lake.replace("account_tiers", history, tiers.history_slice(start))
        summary = (
            history.select(
                F.when(F.col("valid_from").between(start, end), F.col("valid_from")).alias("moved_on"),
                F.when(F.col("is_current"), F.col("tier")).alias("current_tier"),
            )
            .groupBy("moved_on", "current_tier")
            .count()
            .collect()
        )
    moves: Counter = Counter()
    current: Counter = Counter()
    for row in summary:
        if row["moved_on"] is not None:
            moves[row["moved_on"]] += row["count"]
        if row["current_tier"] is not None:
            current[row["current_tier"]] += row["count"]
    outcome.tier_moves, outcome.current_tiers = dict(moves), dict(current)
    return outcome
