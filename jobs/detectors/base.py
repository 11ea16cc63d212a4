"""What a detector declares: the `Detector` entry each detector module holds, and the inputs its transforms get.

The registry (`jobs.detectors.registry`) lists the entries; the detect run, the barring step, evidence export,
the report and `evaluate` read them instead of branching on detector names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any, Literal

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from accountwatch.jobs.core.config import Settings
from accountwatch.jobs.core.lake import Lake

Transform = Callable[[DataFrame], DataFrame]
# Judged before the day's blacklist is planned (its findings can feed it), or after (it needs the day's list).
Phase = Literal["before_blacklist", "after_blacklist"]
# What `evaluate` counts as one case: an account, or an (account, day) pair.
Case = Literal["account", "account_day"]
# The columns every detector's finding candidates have, before `shaping.as_findings` adds ids and actions.
CANDIDATE_COLUMNS = ("run_date", "account_id", "subject_id", "severity", "score", "evidence")


class BlacklistRole(Enum):
    """How a detector's findings count toward the blacklist rules of [blacklist] in defaults.toml."""

    # `spike_findings` of its findings on one account within `spike_window_days` list the account.
    REPEATED_ON_ACCOUNT = "repeated_on_account"
    # With a SUBJECT_BURST finding on the same subject within `subject_window_days`, lists the subject.
    SUBJECT_OVERRUN = "subject_overrun"
    SUBJECT_BURST = "subject_burst"

    @property
    def per_subject(self) -> bool:
        """Whether the rule groups findings by subject (so a finding without a subject cannot count)."""
        return self is not BlacklistRole.REPEATED_ON_ACCOUNT


@dataclass(frozen=True)
class RunInputs:
    """What a detector judged before the blacklist reads: the pinned lake, the days it judges, earlier results."""

    lake: Lake
    start: date
    end: date
    judged: list[date]
    settings: Settings
    # Each public account's state and latest use at the end of every day of start..end.
    snapshots: DataFrame
    # Finding candidates of the detectors this one `needs`, from this run.
    found: Mapping[str, DataFrame]


@dataclass(frozen=True)
class TableWrite:
    """A detector's own state table slice, replaced by the run."""

    table: str
    rows: DataFrame
    slice_predicate: str


@dataclass(frozen=True)
class Detection:
    """A detector's finding candidates for the run, and the state tables it replaces."""

    candidates: DataFrame
    writes: tuple[TableWrite, ...] = ()


@dataclass(frozen=True)
class BarringInputs:
    """What a detector judged after the blacklist reads: the fresh registrations and the day's list."""

    fresh: DataFrame
    listed: DataFrame
    snapshots: DataFrame
    settings: Settings


@dataclass(frozen=True)
class SpellInputs:
    """What a spell rule's condition may read beside the snapshots: the pinned lake, the run's days, the settings."""

    lake: Lake
    start: date
    end: date
    settings: Settings


@dataclass(frozen=True)
class SpellRule:
    """A rule detector that flags an account once per spell: on the first judged day it is in the condition.

    `condition` keeps the snapshot rows in the condition (stored in `detector_state`); `candidates` shapes them.
    """

    condition: Callable[[SpellInputs], Transform]
    candidates: Callable[[Settings], Transform]


@dataclass(frozen=True)
class RawRows:
    """The raw rows one finding's evidence bundle holds, by table and key (the version is the run's)."""

    # subscriptions: (account_id, event_date) of the day's follows
    follows: tuple[tuple[str, date], ...] = ()
    # engagement: (account_id, event_type, event_ts)
    uses: tuple[tuple[str, str, datetime], ...] = ()
    # account_changes: (account_id, first folder, last folder)
    registrations: tuple[tuple[str, date, date], ...] = ()
    # accounts: (key column, key value)
    accounts: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class FindingView:
    """A stored finding as evidence export sees it: the row, its parsed evidence, and its group's members."""

    finding_id: str
    run_date: date
    account_id: str
    evidence: dict[str, Any]
    # The accounts the same detector flagged on the same day with the same `group_path` value (itself included).
    group: tuple[str, ...]
    settings: Settings


@dataclass(frozen=True)
class Scoring:
    """How `evaluate` scores a detector against a synthetic platform's planted truth (`PlantedTruth`)."""

    case: Case
    # The planted cases; its `case` decides whether these are accounts or (account, day) pairs.
    planted: Callable[[Any], set]
    # Found cases that are neither right nor wrong.
    ignored: Callable[[Any], set] | None = None
    # Planted look-alikes that must never be flagged, and whether a look-alike is an account or a pair.
    look_alikes: Callable[[Any], set] | None = None
    look_alike_case: Case = "account"


@dataclass(frozen=True)
class Detector:
    """One detector: what it reads and judges, how its findings read, count and are scored."""

    name: str
    # Its [section] in defaults.toml (and its [recommended_actions.<section>]).
    section: str
    # Lake tables it reads.
    reads: tuple[str, ...]
    phase: Phase
    # The severities its findings take.
    severities: tuple[str, ...]
    # The one sentence the report and evidence bundles show for a finding, from its evidence.
    sentence: Callable[[dict[str, Any]], str]
    # What a finding's evidence bundle holds of the raw tables.
    raw_rows: Callable[[FindingView], RawRows]
    # The parts of a finding that make it "the same evidence" as another of its account (a dismissed one).
    evidence_key: Callable[[], list[Column]]
    scoring: Scoring
    blacklist_role: BlacklistRole | None = None
    # Exactly one way to judge, by phase: a once-per-spell rule or a `find` before the blacklist, `bar` after it.
    spell: SpellRule | None = None
    find: Callable[[RunInputs], Detection] | None = None
    bar: Callable[[BarringInputs], DataFrame] | None = None
    # Why the loaded logs cannot judge a day (None when they can): (day, settings, loaded days per table).
    history_gap: Callable[[date, Settings, Mapping[str, set[date]]], str | None] | None = None
    # Detectors whose candidates of the same run `find` reads.
    needs: tuple[str, ...] = ()
    # Evidence JSON path whose value groups findings of one day (a burst's members), for evidence export.
    group_path: str | None = None
    # What the run says while the detector works.
    progress: str = ""
    # The requirement of the rules on public account information services it enforces, for the measures record.
    rule: str = ""

    def __post_init__(self) -> None:
        judges = [way for way in (self.spell, self.find, self.bar) if way is not None]
        if len(judges) != 1 or (self.bar is not None) != (self.phase == "after_blacklist"):
            raise ValueError(f"detector {self.name}: give a spell rule or find (before the blacklist), or bar (after)")

    def rule_version(self, settings: Settings) -> str:
        """Its rule version, from the configuration."""
        return settings.rule_versions[self.name]

    def actions(self, settings: Settings) -> dict[str, str]:
        """The recommended action per severity, from the configuration."""
        return settings.actions[self.section]

    @property
    def counts_toward_blacklist(self) -> bool:
        """Whether its findings feed the blacklist rules."""
        return self.blacklist_role is not None


def evidence_field(path: str) -> Column:
    """A value of the finding's evidence JSON, empty when absent."""
    return F.coalesce(F.get_json_object("evidence", path), F.lit(""))
