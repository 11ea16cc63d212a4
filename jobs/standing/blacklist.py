"""The blacklist: which accounts and subjects the rules bar, listed day by day, lifted with a reason.

Nothing is deleted. A listing is a row; lifting it closes that row (is_current = false) and adds a
`lifted` row saying who lifted it, when and why. The planning is plain Python on the few findings the
rules look at, so every rule reads as written in defaults.toml.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from accountwatch.jobs.core.config import BlacklistRules
from accountwatch.jobs.core.lake import Lake, local_rows
from accountwatch.jobs.core.pii import mask_phones_text
from accountwatch.jobs.detectors.base import BlacklistRole
from accountwatch.jobs.detectors.registry import DETECTORS
from accountwatch.schemas.standing import BLACKLIST

SYSTEM = "accountwatch"
# The rules below read a finding by its detector's role (registry), not by its name.
ROLES = {detector.name: detector.blacklist_role for detector in DETECTORS if detector.blacklist_role is not None}
RULE_TEXT = {
    "repeated_fake_follower_spikes": "{count} {detector} findings within {days} days",
    "confirmed_high_severity": "a high-severity finding confirmed by an analyst",
    "blacklisted_accounts": "{count} of its accounts are blacklisted",
    "quota_overrun_with_batch_registration": "a quota_overrun and batch-registered accounts within {days} days",
}


class BlacklistError(ValueError):
    """A lift that cannot be done: no such active entry, or an ambiguous one."""


@dataclass(frozen=True)
class Finding:
    """The parts of a finding the blacklist rules look at."""

    finding_id: str
    run_date: date
    detector: str
    account_id: str
    subject_id: str | None
    severity: str


@dataclass(frozen=True)
class Entry:
    """One blacklist row (schemas.standing.BLACKLIST)."""

    entry_id: str
    entity_type: str
    entity_id: str
    subject_id: str | None
    rules: tuple[str, ...]
    reason: str
    finding_ids: tuple[str, ...]
    listed_on: date
    rule_version: str
    status: str
    changed_by: str
    changed_at: datetime
    change_reason: str
    covers_through: date | None
    is_current: bool

    @property
    def key(self) -> tuple[str, str]:
        return self.entity_type, self.entity_id

    def as_row(self) -> tuple:
        return (
            self.entry_id,
            self.entity_type,
            self.entity_id,
            self.subject_id,
            list(self.rules),
            self.reason,
            list(self.finding_ids),
            self.listed_on,
            self.rule_version,
            self.status,
            self.changed_by,
            self.changed_at,
            self.change_reason,
            self.covers_through,
            self.is_current,
        )

    @classmethod
    def from_row(cls, row) -> Entry:
        values = row.asDict()
        values["rules"] = tuple(values["rules"])
        values["finding_ids"] = tuple(values["finding_ids"])
        return cls(**values)


def entry_id(entity_type: str, entity_id: str, listed_on: date, finding_ids: Iterable[str]) -> str:
    text = "|".join([entity_type, entity_id, listed_on.isoformat(), *sorted(finding_ids)])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def lifted(entry: Entry, by: str, at: datetime, why: str, covers_through: date | None = None) -> list[Entry]:
    """The two rows that lift an active entry: its listing row closed, and the lift.

    With `covers_through`, findings of that day and before can no longer list the entity again. The reason is free
    text: a phone number typed into it is stored masked.
    """
    return [
        replace(entry, is_current=False),
        replace(
            entry,
            status="lifted",
            changed_by=by,
            changed_at=at,
            change_reason=mask_phones_text(why),
            covers_through=covers_through,
            is_current=True,
        ),
    ]


@dataclass
class _Candidate:
    rules: list[str]
    texts: list[str]
    finding_ids: set[str]
    subject_id: str | None


# Long: the blacklist rules of defaults.toml, day by day, read top to bottom as the README states them.
def plan(  # noqa: C901 - the blacklist rules of defaults.toml read top to bottom, one branch per rule
    days: list[date],
    findings: list[Finding],
    dismissed: set[str],
    confirmed: set[str],
    current: list[Entry],
    rules: BlacklistRules,
    now: datetime,
) -> list[Entry]:
    """The blacklist rows a run over `days` writes, given the current rows and the findings it can see.

    First, active entries citing a dismissed finding are lifted (the finding no longer counts; the other
    findings may list the entity again at once). Then, day by day, each account and subject the rules catch
    is listed, unless it is already active, or an analyst lifted it and every finding the listing would cite
    is from a day that lift covered (a lift is not undone by the evidence it was made on).
    """
    written: list[Entry] = []
    active = {entry.key: entry for entry in current if entry.is_current and entry.status == "active"}
    covered: dict[tuple[str, str], date] = {}
    for entry in current:
        if entry.is_current and entry.status == "lifted" and entry.covers_through is not None:
            covered[entry.key] = max(entry.covers_through, covered.get(entry.key, entry.covers_through))
    for key, entry in sorted(active.items()):
        gone = sorted(set(entry.finding_ids) & dismissed)
        if gone:
            written += lifted(entry, SYSTEM, now, f"finding(s) {', '.join(gone)} dismissed on review")
            del active[key]

    counted = sorted((f for f in findings if f.finding_id not in dismissed), key=lambda f: (f.run_date, f.finding_id))
    spikes: dict[str, list[Finding]] = defaultdict(list)
    quotas: dict[str, list[Finding]] = defaultdict(list)
    batches: dict[str, list[Finding]] = defaultdict(list)
    confirmed_high = [f for f in counted if f.severity == "high" and f.finding_id in confirmed]
    for f in counted:
        role = ROLES.get(f.detector)
        if role is BlacklistRole.REPEATED_ON_ACCOUNT:
            spikes[f.account_id].append(f)
        elif role is BlacklistRole.SUBJECT_OVERRUN and f.subject_id:
            quotas[f.subject_id].append(f)
        elif role is BlacklistRole.SUBJECT_BURST and f.subject_id:
            batches[f.subject_id].append(f)

    def within(items: list[Finding], day: date, window: int) -> list[Finding]:
        return [f for f in items if day - timedelta(days=window - 1) <= f.run_date <= day]

    found_on = {f.finding_id: f.run_date for f in findings}

    def consider(day: date, entity_type: str, candidates: dict[str, _Candidate]) -> None:
        for entity, found in sorted(candidates.items()):
            key = (entity_type, entity)
            if key in active:
                continue
            if key in covered and all(found_on.get(f, day) <= covered[key] for f in found.finding_ids):
                continue
            ids = tuple(sorted(found.finding_ids))
            entry = Entry(
                entry_id=entry_id(entity_type, entity, day, ids),
                entity_type=entity_type,
                entity_id=entity,
                subject_id=found.subject_id,
                rules=tuple(found.rules),
                reason="; ".join(found.texts),
                finding_ids=ids,
                listed_on=day,
                rule_version=rules.rule_version,
                status="active",
                changed_by=SYSTEM,
                changed_at=now,
                change_reason=f"listed by {rules.rule_version}",
                covers_through=None,
                is_current=True,
            )
            written.append(entry)
            active[key] = entry

    def add(candidates: dict[str, _Candidate], entity: str, rule: str, text: str, ids, subject: str | None) -> None:
        found = candidates.setdefault(entity, _Candidate([], [], set(), subject))
        found.rules.append(rule)
        found.texts.append(text)
        found.finding_ids |= set(ids)

    for day in days:
        accounts: dict[str, _Candidate] = {}
        for account, items in spikes.items():
            recent = within(items, day, rules.spike_window_days)
            if len(recent) >= rules.spike_findings:
                text = RULE_TEXT["repeated_fake_follower_spikes"].format(
                    count=len(recent),
                    detector="/".join(sorted({f.detector for f in recent})),
                    days=rules.spike_window_days,
                )
                ids = [f.finding_id for f in recent]
                add(accounts, account, "repeated_fake_follower_spikes", text, ids, recent[-1].subject_id)
        high_by_account: dict[str, list[Finding]] = defaultdict(list)
        for f in confirmed_high:
            if f.run_date <= day:
                high_by_account[f.account_id].append(f)
        for account, items in high_by_account.items():
            text = RULE_TEXT["confirmed_high_severity"]
            ids = [f.finding_id for f in items]
            add(accounts, account, "confirmed_high_severity", text, ids, items[-1].subject_id)
        consider(day, "account", accounts)

        subjects: dict[str, _Candidate] = {}
        listed_accounts: dict[str, list[Entry]] = defaultdict(list)
        for (entity_type, _), entry in sorted(active.items()):
            if entity_type == "account" and entry.subject_id and entry.listed_on <= day:
                listed_accounts[entry.subject_id].append(entry)
        for subject, entries in listed_accounts.items():
            if len(entries) >= rules.subject_blacklisted_accounts:
                text = RULE_TEXT["blacklisted_accounts"].format(count=len(entries))
                ids = [finding for entry in entries for finding in entry.finding_ids]
                add(subjects, subject, "blacklisted_accounts", text, ids, subject)
        for subject, items in quotas.items():
            overruns = within(items, day, rules.subject_window_days)
            registered = within(batches.get(subject, []), day, rules.subject_window_days)
            if overruns and registered:
                text = RULE_TEXT["quota_overrun_with_batch_registration"].format(days=rules.subject_window_days)
                ids = [f.finding_id for f in overruns + registered]
                add(subjects, subject, "quota_overrun_with_batch_registration", text, ids, subject)
        consider(day, "subject", subjects)
    return written


def read_current(lake: Lake) -> list[Entry]:
    return [Entry.from_row(row) for row in lake.read("blacklist").where(F.col("is_current")).collect()]


def as_frame(lake: Lake, entries: list[Entry]) -> DataFrame:
    return local_rows(lake.spark, [entry.as_row() for entry in entries], BLACKLIST)


def after_write(lake: Lake, written: list[Entry]) -> DataFrame:
    """The whole blacklist as it will be once `written` is merged: what its suite checks."""
    existing = {
        (entry.entry_id, entry.status): entry for entry in map(Entry.from_row, lake.read("blacklist").collect())
    }
    for entry in written:
        previous = existing.get((entry.entry_id, entry.status))
        existing[(entry.entry_id, entry.status)] = replace(previous, is_current=entry.is_current) if previous else entry
    return as_frame(lake, list(existing.values()))


def write(lake: Lake, written: list[Entry]) -> None:
    """Merge the rows: listings and lifts are inserted, closed rows only lose is_current; a rerun is a no-op."""
    if not written:
        lake.ensure("blacklist")
        return
    lake.upsert(
        "blacklist",
        as_frame(lake, written),
        ["entry_id", "status"],
        update_when="target.is_current <> source.is_current",
        update_set={"is_current": "source.is_current"},
    )


def lift_summary(rows: list[Entry]) -> str:
    """What a lift did, in one line, from the rows `lift` returned (its last row is the lift)."""
    lifted = rows[-1]
    return (
        f"lifted {lifted.entity_type} {lifted.entity_id} (listed {lifted.listed_on.isoformat()}) by "
        f"{lifted.changed_by}: {lifted.change_reason}"
    )


def lift(lake: Lake, entity_id: str, by: str, why: str, now: datetime, entity_type: str | None = None) -> list[Entry]:
    """The rows that lift the active entry of `entity_id` (an account or a subject)."""
    if not by.strip():
        raise BlacklistError("--by must name who lifts the entry")
    if not why.strip():
        raise BlacklistError("--reason must say why the entry is lifted")
    matches = [
        entry
        for entry in read_current(lake)
        if entry.entity_id == entity_id and entry.status == "active" and entity_type in (None, entry.entity_type)
    ]
    if not matches:
        raise BlacklistError(f"no active blacklist entry for {entity_id!r}")
    if len(matches) > 1:
        kinds = " and ".join(sorted(entry.entity_type for entry in matches))
        raise BlacklistError(f"{entity_id!r} is blacklisted as {kinds}: choose one with --type")
    judged = lake.read("detector_runs").where(F.col("status") == "ok").agg(F.max("run_date")).collect()[0][0]
    return lifted(matches[0], by.strip(), now, why.strip(), judged)
