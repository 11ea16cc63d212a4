"""A seeded synthetic platform: landing files in the contract's format, with planted anomalies and their truth."""

from __future__ import annotations

import calendar
import csv
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from accountwatch.jobs.core.config import Settings
from accountwatch.schemas.landing import ACCOUNTS, AUDIENCE_EVENT_TYPES, ENGAGEMENT, SUBSCRIPTIONS, LandingTable

SECONDS_PER_DAY = 86_400
# The planted truth, written beside the landing tables.
TRUTH_FILE = "truth.json"
EPOCH = date(1970, 1, 1)
QUOTA_LIMITS = Settings().quota_limits
DORMANT_MONTHS = 6

ACTIVE, SUSPENDED, CLOSED, NOT_REGISTERED = 0, 1, 2, -1
STATUS_NAMES = np.array(["active", "suspended", "closed"])
NEVER = 10**6

# Normal accounts are forced to be used at least this often, well inside the 45-day maximum gap.
USE_PERIOD_DAYS = 30
LATE_SHARE = 0.005
MAX_LATE_DAYS = 3
# A table-day takes a planted bad row only if it has at least this many rows per bad row (share <= 0.67%).
ROWS_PER_BAD_ROW = 150
SMALL_DAY_ROWS = 60
SUBSCRIPTION_SHARE = 0.2
FOLLOW_SHARE = 0.88
UNPARSEABLE_TIMESTAMP = "2026-13-45 99:00"
TIMESTAMP_FORMS = np.array([0.5, 0.3, 0.2])  # with offset, UTC with Z, no offset

OPERATOR_HOURS = np.array(
    [0.5, 0.3, 0.2, 0.2, 0.2, 0.3, 1, 3, 6, 9, 9, 7, 4, 6, 8, 8, 7, 5, 3, 3, 3, 3, 2, 1], dtype=float
)
AUDIENCE_HOURS = np.array([2, 1, 1, 1, 1, 2, 4, 7, 8, 6, 5, 6, 8, 6, 5, 5, 5, 6, 7, 8, 10, 11, 9, 5], dtype=float)
WEEKDAY_FACTOR = np.array([0.95, 0.97, 1.0, 1.0, 1.03, 1.12, 1.08])  # Monday first

SUBJECT_TYPE_SHARE = {"individual": 0.6, "enterprise": 0.2, "media": 0.08, "government": 0.07, "other": 0.05}
CHANNELS = np.array(["search", "recommendation", "article", "qr_code", "profile", "other"])
CHANNEL_SHARE = np.array([0.25, 0.3, 0.2, 0.1, 0.1, 0.05])
CATEGORIES = ["news", "education", "health", "finance", "entertainment", "lifestyle"]
CITIES = ["北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "西安", "南京", "重庆", "苏州", "长沙"]
TOPICS = ["科技", "财经", "生活", "健康", "教育", "美食", "旅行", "新闻", "读书", "体育", "汽车", "育儿"]
SUFFIXES = ["日报", "周刊", "观察", "频道", "研究院", "工作室", "之声", "在线", "视界", "前沿"]
LATIN_NAMES = ["Morning Brief", "Tech Notes", "Daily Digest", "Green Kitchen", "Market Watch", "City Walker"]
SURNAMES = ["Wang", "Li", "Zhang", "Liu", "Chen", "Smith", "O'Brien"]
NICKNAMES = ["小明", "阿强", "Lily", "晴天", 'the "night" owl', "Chen, Wei", "米粒", "Tom & Jerry", "夏天的风"]

# Bought followers, viral days and registration bursts.
KEY_TYPES = ("ip", "ip_prefix", "device", "phone_block", "name_pattern")
# Purchases and viral days fall on this day or later, so every one has five weeks of baseline before it.
PLANT_FROM_DAY = 35
# Shorter platforms get no purchases, drip or viral days.
MIN_SPIKE_PLATFORM_DAYS = 60
BASELINE_DAYS = 28
MIN_BOUGHT_FOLLOWS = 40
# Orders are planned at this multiple of the buyer's expected daily follows, so the realised baseline stays
# at least four times below them.
BOUGHT_OVER_USUAL = 6
MAX_FARM_AGE_DAYS = 20
DRIP_DAYS = 14
ESTABLISHED_DAYS = 60
LURKER_SHARE = 0.15
SWING_SHARE = 0.05
MAX_BURST_SECONDS = 3600
PHONE_PREFIXES = ["13", "15", "18", "17", "19"]
STEM_HEADS = ["lucky", "sunny", "happy", "super", "little", "golden", "cool", "daily", "magic", "lazy"]
STEM_TAILS = ["cat", "shop", "star", "fan", "deal", "panda", "bee", "fox", "mango", "wave"]
CHINESE_STEM_HEADS = ["阳光", "快乐", "幸运", "甜心", "小鹿", "星星", "好物", "每日", "开心", "柠檬"]
CHINESE_STEM_TAILS = ["小店", "推荐", "星球", "优选", "铺子", "生活", "宝贝", "工坊"]
PLAIN_STEMS = ["user", "member", "vip", "guest"]


class SyntheticPlatformError(ValueError):
    """A platform size or landing folder the generator cannot work with."""


@dataclass(frozen=True)
class PlatformSize:
    """How big a synthetic platform is."""

    public_accounts: int = 300
    users: int = 4000
    events: int = 800_000  # approximate subscription + engagement rows over the whole period
    days: int = 245

    @classmethod
    def named(cls, name: str) -> PlatformSize:
        """The preset called `name`: tiny (tests), demo or bench."""
        presets = {
            "tiny": cls(public_accounts=40, users=300, events=20_000, days=200),
            "demo": cls(),
            "bench": cls(public_accounts=1000, users=15_000, events=4_000_000, days=245),
        }
        if name not in presets:
            raise SyntheticPlatformError(f"unknown platform size {name!r} (expected one of {sorted(presets)})")
        return presets[name]


@dataclass(frozen=True)
class PlantedTruth:
    """What was planted in a synthetic platform, known from its construction."""

    start: date
    end: date
    seed: int
    dormant_account: frozenset[str]
    quota_overrun: frozenset[str]
    bad_rows: dict[str, int]
    # Each planted dormant account's last login or publish day; before `start` for accounts silent all period.
    dormant_last_use: dict[str, date] = field(default_factory=dict)
    # (buyer, purchase day): the days fake_follower_spike should flag.
    fake_follower_spike: frozenset[tuple[str, date]] = frozenset()
    # Per purchase: account_id, date, follows (bought that day), farm (a batch_clusters name).
    purchases: list[dict] = field(default_factory=list)
    # Buyer -> (first day, last day) of a slow drip of bought follows: flagging those days is neither required
    # nor wrong.
    fake_follower_drip: dict[str, tuple[date, date]] = field(default_factory=dict)
    # (account, day) of organic viral growth: never to be flagged.
    viral_days: frozenset[tuple[str, date]] = frozenset()
    # Every account registered in a planted burst, to be flagged on its registration day.
    batch_registration: frozenset[str] = frozenset()
    # Per burst: name, kind (farm, idle_farm, public_batch), shared_keys, registration_day, first_registered_at,
    # last_registered_at (platform time) and members. `device` means the members take turns on at most six
    # devices; the other keys are the same for every member.
    batch_clusters: list[dict] = field(default_factory=list)
    # campus, family_device, enterprise_office, media_group -> accounts registered alike but organically.
    batch_negatives: dict[str, list[str]] = field(default_factory=dict)
    # (account, registration day): a blacklisted subject's new account, and new accounts named like a closed one.
    blacklisted_subject_registration: frozenset[tuple[str, date]] = frozenset()
    closed_name_reregistration: frozenset[tuple[str, date]] = frozenset()
    # The account two edits from a closed name: never to be flagged.
    closed_name_negatives: list[str] = field(default_factory=list)
    # (account, registration day): strangers whose common name (a handle with a counter, or one that other live
    # accounts already bear) is, or is one edit from, a closed account's: never to be flagged.
    common_name_collisions: frozenset[tuple[str, date]] = frozenset()

    def drip_days(self) -> frozenset[tuple[str, date]]:
        """Every (buyer, day) of a planted drip."""
        return frozenset(
            (account_id, first + timedelta(days=offset))
            for account_id, (first, last) in self.fake_follower_drip.items()
            for offset in range((last - first).days + 1)
        )

    def batch_registration_days(self) -> dict[str, date]:
        """Each planted burst member's registration day: the run date batch_registration should flag it on."""
        return {member: cluster["registration_day"] for cluster in self.batch_clusters for member in cluster["members"]}

    def to_json(self) -> str:
        """The truth as a JSON document with sorted ids."""
        return json.dumps(
            {
                "start": self.start.isoformat(),
                "end": self.end.isoformat(),
                "seed": self.seed,
                "dormant_account": sorted(self.dormant_account),
                "quota_overrun": sorted(self.quota_overrun),
                "bad_rows": dict(sorted(self.bad_rows.items())),
                "dormant_last_use": {key: value.isoformat() for key, value in sorted(self.dormant_last_use.items())},
                "fake_follower_spike": [[key, day.isoformat()] for key, day in sorted(self.fake_follower_spike)],
                "purchases": [{**purchase, "date": purchase["date"].isoformat()} for purchase in self.purchases],
                "fake_follower_drip": {
                    key: [first.isoformat(), last.isoformat()]
                    for key, (first, last) in sorted(self.fake_follower_drip.items())
                },
                "viral_days": [[key, day.isoformat()] for key, day in sorted(self.viral_days)],
                "batch_registration": sorted(self.batch_registration),
                "batch_clusters": [
                    {**cluster, "registration_day": cluster["registration_day"].isoformat()}
                    for cluster in self.batch_clusters
                ],
                "batch_negatives": {key: sorted(ids) for key, ids in sorted(self.batch_negatives.items())},
                "blacklisted_subject_registration": [
                    [key, day.isoformat()] for key, day in sorted(self.blacklisted_subject_registration)
                ],
                "closed_name_reregistration": [
                    [key, day.isoformat()] for key, day in sorted(self.closed_name_reregistration)
                ],
                "closed_name_negatives": sorted(self.closed_name_negatives),
                "common_name_collisions": [[key, day.isoformat()] for key, day in sorted(self.common_name_collisions)],
            },
            indent=2,
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> PlantedTruth:
        """Read a truth written by `to_json`."""
        raw = json.loads(text)
        return cls(
            start=date.fromisoformat(raw["start"]),
            end=date.fromisoformat(raw["end"]),
            seed=int(raw["seed"]),
            dormant_account=frozenset(raw["dormant_account"]),
            quota_overrun=frozenset(raw["quota_overrun"]),
            bad_rows={str(reason): int(count) for reason, count in raw["bad_rows"].items()},
            dormant_last_use={key: date.fromisoformat(value) for key, value in raw.get("dormant_last_use", {}).items()},
            fake_follower_spike=frozenset(
                (key, date.fromisoformat(day)) for key, day in raw.get("fake_follower_spike", [])
            ),
            purchases=[
                {**purchase, "date": date.fromisoformat(purchase["date"])} for purchase in raw.get("purchases", [])
            ],
            fake_follower_drip={
                key: (date.fromisoformat(first), date.fromisoformat(last))
                for key, (first, last) in raw.get("fake_follower_drip", {}).items()
            },
            viral_days=frozenset((key, date.fromisoformat(day)) for key, day in raw.get("viral_days", [])),
            batch_registration=frozenset(raw.get("batch_registration", [])),
            batch_clusters=[
                {**cluster, "registration_day": date.fromisoformat(cluster["registration_day"])}
                for cluster in raw.get("batch_clusters", [])
            ],
            batch_negatives={key: list(ids) for key, ids in raw.get("batch_negatives", {}).items()},
            blacklisted_subject_registration=frozenset(
                (key, date.fromisoformat(day)) for key, day in raw.get("blacklisted_subject_registration", [])
            ),
            closed_name_reregistration=frozenset(
                (key, date.fromisoformat(day)) for key, day in raw.get("closed_name_reregistration", [])
            ),
            closed_name_negatives=list(raw.get("closed_name_negatives", [])),
            common_name_collisions=frozenset(
                (key, date.fromisoformat(day)) for key, day in raw.get("common_name_collisions", [])
            ),
        )


def months_before(day: date, months: int) -> date:
    """The same day of the month `months` calendar months earlier, clamped to the month's last day."""
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _validate(size: PlatformSize) -> None:
    if size.days < 14:
        raise SyntheticPlatformError(f"size.days is {size.days}: the synthetic platform needs at least 14 days")
    if size.public_accounts < 20:
        raise SyntheticPlatformError(f"size.public_accounts is {size.public_accounts}: at least 20 are needed")
    if size.users < 50:
        raise SyntheticPlatformError(f"size.users is {size.users}: at least 50 are needed")
    if size.events < 20 * size.days:
        raise SyntheticPlatformError(f"size.events is {size.events}: at least 20 per day ({20 * size.days}) needed")


def _unique_ids(rng: np.random.Generator, prefix: str, digits: int, count: int) -> np.ndarray:
    low = 10 ** (digits - 1)
    numbers = rng.choice(9 * low, size=count, replace=False) + low
    return np.array([f"{prefix}{number}" for number in numbers.tolist()], dtype=object)


def _weighted_choice(rng: np.random.Generator, weights: np.ndarray, count: int) -> np.ndarray:
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    return rng.choice(weights.size, size=count, p=weights / weights.sum())


def _random_seconds(rng: np.random.Generator, hour_weights: np.ndarray, count: int) -> np.ndarray:
    hours = rng.choice(24, size=count, p=hour_weights / hour_weights.sum())
    return hours * 3600 + rng.integers(0, 3600, size=count)


@dataclass
class _PublicPlan:
    """Public accounts as built, one list entry per account, before they become arrays."""

    subject: list[int] = field(default_factory=list)
    reg_day: list[int] = field(default_factory=list)
    reg_sec: list[int] = field(default_factory=list)
    role: list[str] = field(default_factory=list)
    snapshot_status: list[int] = field(default_factory=list)
    changes: list[list[tuple[int, int, int]]] = field(default_factory=list)  # (day, status, second of day)
    use_from: list[int] = field(default_factory=list)
    use_until: list[int] = field(default_factory=list)
    forced_use: list[list[int]] = field(default_factory=list)
    last_use: list[int | None] = field(default_factory=list)
    subject_type: list[str] = field(default_factory=list)  # per subject
    scenario: dict[str, list[int]] = field(default_factory=dict)  # quota scenario name -> account indexes
    names: dict[int, str] = field(default_factory=dict)  # the planted names, by account index

    def add_subject(self, subject_type: str) -> int:
        self.subject_type.append(subject_type)
        return len(self.subject_type) - 1

    def add(
        self,
        subject: int,
        reg_day: int,
        reg_sec: int,
        role: str,
        *,
        days: int,
        snapshot_status: int = ACTIVE,
        changes: list[tuple[int, int, int]] | None = None,
        use: tuple[int, int] | None = None,
        forced_use: list[int] | None = None,
        last_use: int | None = None,
    ) -> int:
        self.subject.append(subject)
        self.reg_day.append(reg_day)
        self.reg_sec.append(reg_sec)
        self.role.append(role)
        self.snapshot_status.append(snapshot_status)
        self.changes.append(changes or [])
        use_from, use_until = use if use is not None else (max(reg_day, 0), days - 1)
        self.use_from.append(use_from)
        self.use_until.append(use_until)
        self.forced_use.append(forced_use if forced_use is not None else ([reg_day] if reg_day >= 0 else []))
        self.last_use.append(last_use)
        return len(self.subject) - 1


def _plan_quota_scenarios(rng: np.random.Generator, plan: _PublicPlan, days: int, full: bool) -> None:
    """Subjects over and at their quota; accounts beyond the limit are derived later from registration order."""

    def pre_day() -> int:
        return int(rng.integers(-1095, -30))

    def during_day() -> int:
        return int(rng.integers(5, days - 10))

    def second() -> int:
        return int(rng.integers(8 * 3600, 20 * 3600))

    def subject_with(name: str, subject_type: str, reg_days: list[int], *, tie_last_two: bool = False) -> int:
        subject = plan.add_subject(subject_type)
        seconds = [second() for _ in reg_days]
        if tie_last_two:
            reg_days[-1] = reg_days[-2]
            seconds[-1] = seconds[-2]
        plan.scenario[name] = [
            plan.add(subject, reg_day, reg_sec, "quota", days=days)
            for reg_day, reg_sec in zip(reg_days, seconds, strict=True)
        ]
        return subject

    subject_with("over_individual_before_start", "individual", [pre_day() for _ in range(3)])
    subject_with("over_individual_tie", "individual", [pre_day(), during_day(), during_day()], tie_last_two=True)
    if full:
        subject_with(
            "over_individual_during",
            "individual",
            [pre_day(), pre_day(), *sorted(rng.choice(np.arange(5, days - 10), size=2, replace=False).tolist())],
        )
        subject_with("over_individual_four_before_start", "individual", [pre_day() for _ in range(4)])
        subject_with("over_enterprise", "enterprise", [pre_day() for _ in range(6)] + [during_day()])
        subject_with("over_other", "other", [pre_day(), during_day(), during_day()])
        subject_with("at_limit_enterprise", "enterprise", [pre_day() for _ in range(3)] + [during_day(), during_day()])
    else:
        subject_with("at_limit_individual", "individual", [pre_day(), pre_day()])

    # At its limit, closes one account and registers a replacement a day or more later: never over quota.
    subject = plan.add_subject("individual")
    close_day = int(rng.integers(10, max(11, days - 40)))
    close_sec = int(rng.integers(9 * 3600, 12 * 3600))
    closing = plan.add(subject, pre_day(), second(), "quota", days=days, changes=[(close_day, CLOSED, close_sec)])
    kept = plan.add(subject, pre_day(), second(), "quota", days=days)
    replacement_day = close_day + int(rng.integers(1, 15))
    replacement = plan.add(subject, replacement_day, second(), "quota", days=days)
    plan.scenario["closes_then_replaces_individual"] = [closing, kept, replacement]

    # Four accounts, two closed before start: the live ones fit the limit.
    subject = plan.add_subject("individual")
    closed = [
        plan.add(subject, pre_day(), second(), "quota", days=days, snapshot_status=CLOSED, use=(1, 0)) for _ in range(2)
    ]
    live = [plan.add(subject, pre_day(), second(), "quota", days=days) for _ in range(2)]
    plan.scenario["fits_after_closures_individual"] = closed + live


def _plan_regular_public(
    rng: np.random.Generator, plan: _PublicPlan, size: PlatformSize, start: date, end: date
) -> None:
    """Ordinary subjects within their limits, their accounts given roles: normal, dormant and the negatives."""
    days = size.days
    wanted = max(size.public_accounts - len(plan.subject), 12)
    subject_types = list(SUBJECT_TYPE_SHARE)
    shares = np.array(list(SUBJECT_TYPE_SHARE.values()))
    account_subjects: list[int] = []
    while len(account_subjects) < wanted:
        subject_type = subject_types[int(rng.choice(len(subject_types), p=shares))]
        low, high = {
            "individual": (1, 1),
            "enterprise": (1, 4),
            "media": (2, 8),
            "government": (1, 10),
            "other": (1, 2),
        }[subject_type]
        count = 2 if subject_type == "individual" and rng.random() < 0.12 else int(rng.integers(low, high + 1))
        subject = plan.add_subject(subject_type)
        account_subjects += [subject] * min(count, wanted - len(account_subjects))

    six_months_before_end = (months_before(end, DORMANT_MONTHS) - start).days
    last_dormant_use = six_months_before_end - 5
    # Silence that starts this early spans more than six calendar months before the end.
    latest_silencing = days - 1 - 190
    young_from = six_months_before_end + 3
    roles = (
        ["dormant"] * max(2, round(0.08 * size.public_accounts))
        + ["silent_suspended"] * max(1, round(0.02 * size.public_accounts))
        + ["silent_closed"] * max(1, round(0.02 * size.public_accounts))
        + ["reactivated"] * max(1, round(0.015 * size.public_accounts))
        + (["young_silent"] * max(1, round(0.02 * size.public_accounts)) if young_from <= days - 1 else [])
        + ["new_normal"] * round(0.12 * size.public_accounts)
    )
    roles = (roles + ["normal"] * max(0, wanted - len(roles)))[:wanted]
    order = rng.permutation(len(roles))
    dormant_seen = 0
    for subject, role in zip(account_subjects, [roles[i] for i in order], strict=True):
        reg_sec = int(rng.integers(8 * 3600, 20 * 3600))
        change_sec = int(rng.integers(9 * 3600, 18 * 3600))
        if role == "dormant":
            # Alternate: silent since before start, and (when the period allows) last used inside it.
            before_start = dormant_seen % 2 == 0 or last_dormant_use < 0
            dormant_seen += 1
            if before_start:
                last_use = int(rng.integers(-400, min(-1, last_dormant_use) + 1))
                use: tuple[int, int] = (1, 0)
                forced: list[int] = []
            else:
                last_use = int(rng.integers(0, last_dormant_use + 1))
                use, forced = (0, last_use), [last_use]
            reg_day = int(rng.integers(-1095, last_use - 30))
            plan.add(subject, reg_day, reg_sec, role, days=days, use=use, forced_use=forced, last_use=last_use)
        elif role in ("silent_suspended", "silent_closed"):
            status = SUSPENDED if role == "silent_suspended" else CLOSED
            reg_day = int(rng.integers(-1095, -30))
            if latest_silencing >= 1 and rng.random() < 0.5:
                change_day = int(rng.integers(1, latest_silencing + 1))
                plan.add(
                    subject,
                    reg_day,
                    reg_sec,
                    role,
                    days=days,
                    changes=[(change_day, status, change_sec)],
                    use=(0, change_day - 1),
                )
            else:
                plan.add(subject, reg_day, reg_sec, role, days=days, snapshot_status=status, use=(1, 0))
        elif role == "reactivated":
            reg_day = int(rng.integers(-1095, -30))
            if rng.random() < 0.5 and days > 80:
                suspend_day = int(rng.integers(1, days - 60))
                react_day = suspend_day + int(rng.integers(14, 46))
                changes = [(suspend_day, SUSPENDED, change_sec), (react_day, ACTIVE, change_sec)]
                plan.add(subject, reg_day, reg_sec, role, days=days, changes=changes, forced_use=[react_day])
            else:
                react_day = int(rng.integers(1, min(days - 1, 120) + 1))
                plan.add(
                    subject,
                    reg_day,
                    reg_sec,
                    role,
                    days=days,
                    snapshot_status=SUSPENDED,
                    changes=[(react_day, ACTIVE, change_sec)],
                    forced_use=[react_day],
                )
        elif role == "young_silent":
            reg_day = int(rng.integers(young_from, days))
            plan.add(subject, reg_day, reg_sec, role, days=days, use=(1, 0), forced_use=[])
        elif role == "new_normal":
            plan.add(subject, int(rng.integers(1, days)), reg_sec, role, days=days)
        else:
            plan.add(subject, int(rng.integers(-1095, -1)), reg_sec, role, days=days)


@dataclass
class _Accounts:
    """Every account as arrays: public accounts first, then users, then the bad rows' made-up accounts."""

    account_id: np.ndarray
    account_type: np.ndarray
    subject_id: np.ndarray
    subject_type: np.ndarray
    account_name: np.ndarray
    registration_ip: np.ndarray
    device_id: np.ndarray
    phone: np.ndarray
    content_category: np.ndarray
    reg_local_sec: np.ndarray
    # Account rows to deliver: account index, folder day, status code, updated_at local seconds.
    row_account: np.ndarray
    row_day: np.ndarray
    row_status: np.ndarray
    row_updated: np.ndarray


def _public_name(rng: np.random.Generator) -> str:
    pick = rng.random()
    city, topic, suffix = (str(rng.choice(pool)) for pool in (CITIES, TOPICS, SUFFIXES))
    latin = str(rng.choice(LATIN_NAMES))
    if pick < 0.6:
        return f"{city}{topic}{suffix}"
    if pick < 0.75:
        return f"{latin}, {city}"
    if pick < 0.85:
        return f'"{topic}"{suffix}'
    if pick < 0.95:
        return f"{latin} {int(rng.integers(1, 100))}"
    return f'{rng.choice(SURNAMES)}\'s "{latin}", {topic}'


def _user_name(rng: np.random.Generator) -> str:
    pick = rng.random()
    if pick < 0.6:
        return f"用户{int(rng.integers(100000, 1000000))}"
    if pick < 0.85:
        return str(rng.choice(NICKNAMES))
    return f"{rng.choice(SURNAMES)} {int(rng.integers(1, 1000))}"


def _contact_columns(rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    octets = rng.integers(1, 255, size=(count, 4))
    octets[:, 0] = rng.integers(1, 224, size=count)  # unicast range
    ipv6_parts = rng.integers(0, 65536, size=(count, 3))
    ips = [
        f"240e:{a:x}:{b:x}::{c:x}" if rng_pick < 0.05 else f"{o[0]}.{o[1]}.{o[2]}.{o[3]}"
        for o, (a, b, c), rng_pick in zip(octets.tolist(), ipv6_parts.tolist(), rng.random(count).tolist(), strict=True)
    ]
    devices = [f"{value:016x}" for value in rng.integers(0, 2**63, size=count).tolist()]
    prefixes = rng.choice(["13", "15", "18", "17", "19"], size=count)
    numbers = rng.integers(0, 10**9, size=count).tolist()
    plus = rng.random(count) < 0.4
    phones = [
        f"{'+86' if with_plus else ''}{prefix}{number:09d}"
        for prefix, number, with_plus in zip(prefixes.tolist(), numbers, plus.tolist(), strict=True)
    ]
    ip_array = np.array(ips, dtype=object)
    device_array = np.array(devices, dtype=object)
    phone_array = np.array(phones, dtype=object)
    # Optional columns are sometimes empty.
    ip_array[rng.random(count) < 0.05] = None
    device_array[rng.random(count) < 0.1] = None
    phone_array[rng.random(count) < 0.15] = None
    return ip_array, device_array, phone_array


@dataclass
class _Users:
    reg_day: np.ndarray
    reg_sec: np.ndarray
    suspended_from: np.ndarray
    suspended_until: np.ndarray
    closed_from: np.ndarray
    # How much a user reads, likes, shares and comments (zero for lurkers), and how readily it follows.
    weight: np.ndarray
    follow_weight: np.ndarray


@dataclass
class _Burst:
    """A planted burst of registrations sharing keys: a farm, an idle farm or a batch of public accounts."""

    name: str
    kind: str
    keys: tuple[str, ...]
    reg_day: int
    reg_sec: np.ndarray  # seconds into the registration day, ascending: the members in registration order
    columns: dict[str, np.ndarray]  # registration_ip, device_id, phone and account_name per member
    members: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # account indexes


@dataclass
class _Viral:
    account: int
    day: int
    follows: int  # extra follows on top of the usual ones
    audience: int  # extra reads and shares
    from_hour: int


@dataclass
class _Plants:
    """The planted cases, as account indexes, days and seconds, and the registration columns they override."""

    overrides: list[tuple[np.ndarray, dict[str, np.ndarray]]] = field(default_factory=list)
    bursts: list[_Burst] = field(default_factory=list)
    negatives: dict[str, np.ndarray] = field(default_factory=dict)
    purchases: list[tuple[int, int, str, int]] = field(default_factory=list)  # buyer, day, farm name, follows
    drip: tuple[int, int, int] | None = None  # buyer, first day, last day
    viral: list[_Viral] = field(default_factory=list)
    # Bought follows: day, buyer, farm (index into bursts), member (position in the farm), second of the day.
    bought: dict[str, np.ndarray] = field(default_factory=dict)


def _random_ipv4(rng: np.random.Generator) -> str:
    first = int(rng.integers(1, 224))
    second, third, fourth = (int(value) for value in rng.integers(1, 255, size=3))
    return f"{first}.{second}.{third}.{fourth}"


def _random_devices(rng: np.random.Generator, count: int) -> np.ndarray:
    return np.array([f"{value:016x}" for value in rng.integers(0, 2**63, size=count).tolist()], dtype=object)


class _StemPool:
    """Name stems for planted name patterns (`lucky_cat_017`, `阳光小店23`, `user-0042`), one burst each."""

    def __init__(self, rng: np.random.Generator) -> None:
        latin = [f"{head}_{tail}" for head in STEM_HEADS for tail in STEM_TAILS]
        chinese = [f"{head}{tail}" for head in CHINESE_STEM_HEADS for tail in CHINESE_STEM_TAILS]
        stems = latin + chinese + PLAIN_STEMS
        self.stems = [stems[index] for index in rng.permutation(len(stems)).tolist()]

    def names(self, rng: np.random.Generator, count: int) -> np.ndarray:
        """`count` names of one new stem with a rising counter that now and then skips a number."""
        stem = self.stems.pop()
        first = int(rng.integers(1, 300))
        counters = (first + np.cumsum(1 + (rng.random(count) < 0.1)) - 1).tolist()
        if stem in PLAIN_STEMS:
            names = [f"{stem}-{counter:04d}" for counter in counters]
        elif stem.isascii():
            names = [f"{stem}_{counter:03d}" for counter in counters]
        else:
            names = [f"{stem}{counter}" for counter in counters]
        return np.array(names, dtype=object)


def _pick_shared_keys(rng: np.random.Generator) -> tuple[str, ...]:
    """One to three keys every member shares, plus `device` when the members take turns on a few devices."""
    network = "ip" if rng.random() < 0.5 else "ip_prefix"
    pool = [network, "phone_block", "name_pattern"]
    count = int(rng.choice([1, 2, 3], p=[0.3, 0.45, 0.25]))
    keys = [pool[index] for index in sorted(rng.choice(len(pool), size=count, replace=False).tolist())]
    if rng.random() < 0.6:
        keys.append("device")
    return tuple(sorted(keys, key=KEY_TYPES.index))


def _burst_seconds(rng: np.random.Generator, count: int, max_span: int = MAX_BURST_SECONDS) -> np.ndarray:
    """Registration seconds of a burst: spread at random inside a span of 2 minutes to `max_span`, one day."""
    span = int(rng.integers(120, max_span + 1))
    first = int(rng.integers(3600, SECONDS_PER_DAY - span - 3600))
    return np.sort(first + rng.integers(0, span + 1, size=count))


def _burst_columns(
    rng: np.random.Generator, count: int, keys: tuple[str, ...], stems: _StemPool, *, public: bool
) -> dict[str, np.ndarray]:
    """Registration columns of a burst's members in registration order: shared where `keys` say, else ordinary."""
    ips, devices, phones = _contact_columns(rng, count)
    names = np.array([_public_name(rng) if public else _user_name(rng) for _ in range(count)], dtype=object)
    if "ip" in keys:
        ips[:] = _random_ipv4(rng)
    if "ip_prefix" in keys:
        network = _random_ipv4(rng).rsplit(".", 1)[0]
        ips[:] = [f"{network}.{octet}" for octet in rng.integers(1, 255, size=count).tolist()]
    if "device" in keys:
        shared = _random_devices(rng, int(rng.integers(1, 7)))
        devices[:] = shared[np.arange(count) % shared.size]
    if "phone_block" in keys:
        block = f"{rng.choice(PHONE_PREFIXES)}{int(rng.integers(0, 100_000)):05d}"
        endings = rng.choice(10_000, size=count, replace=False).tolist()
        plus = (rng.random(count) < 0.4).tolist()
        phones[:] = [
            f"{'+86' if with_plus else ''}{block}{ending:04d}" for ending, with_plus in zip(endings, plus, strict=True)
        ]
    if "name_pattern" in keys:
        names = stems.names(rng, count)
    return {"registration_ip": ips, "device_id": devices, "phone": phones, "account_name": names}


def _plan_public_registrations(
    rng: np.random.Generator, plan: _PublicPlan, size: PlatformSize, stems: _StemPool, plants: _Plants
) -> None:
    """Batches of public accounts registered in a burst, and an enterprise office and a media group that are not."""
    days = size.days
    batches = 1 if size.public_accounts < 120 else (2 if size.public_accounts >= 600 else int(rng.integers(1, 3)))
    for number in range(batches):
        count = int(rng.integers(10, 15)) if size.public_accounts < 120 else int(rng.integers(10, 31))
        reg_day = int(rng.integers(1, days))
        seconds = _burst_seconds(rng, count)
        keys = _pick_shared_keys(rng)
        # Each account has a subject of its own, so the batch never touches a quota.
        members = [
            plan.add(plan.add_subject("individual"), reg_day, second, "batch_public", days=days)
            for second in seconds.tolist()
        ]
        columns = _burst_columns(rng, count, keys, stems, public=True)
        burst = _Burst(f"public_batch_{number + 1}", "public_batch", keys, reg_day, seconds, columns, np.array(members))
        plants.bursts.append(burst)
        plants.overrides.append((burst.members, columns))

    subject = plan.add_subject("enterprise")
    reg_day = int(rng.integers(1, days))
    first = int(rng.integers(9 * 3600, 17 * 3600))
    seconds = np.sort(first + rng.integers(0, 3600, size=3))
    office = np.array([plan.add(subject, reg_day, second, "office", days=days) for second in seconds.tolist()])
    plants.negatives["enterprise_office"] = office
    plants.overrides.append((office, {"registration_ip": np.full(office.size, _random_ipv4(rng), dtype=object)}))

    # A new account every six days or more, so any two are at least five full days apart whatever the hour.
    count = int(rng.integers(5, 9))
    gaps = rng.integers(6, 15, size=count - 1)
    if int(gaps.sum()) > days - 2:
        count = min(count, (days - 2) // 6 + 1)
        gaps = np.full(count - 1, 6)
    if count >= 2:
        subject = plan.add_subject("media")
        first_day = int(rng.integers(1, days - int(gaps.sum())))
        reg_days = first_day + np.concatenate([[0], np.cumsum(gaps)])
        media = np.array(
            [
                plan.add(subject, reg_day, int(rng.integers(9 * 3600, 18 * 3600)), "media_group", days=days)
                for reg_day in reg_days.tolist()
            ]
        )
        stem = f"{rng.choice(CITIES)}{rng.choice(TOPICS)}{rng.choice(SUFFIXES)}"
        columns = {
            "registration_ip": np.full(count, _random_ipv4(rng), dtype=object),
            "account_name": np.array([f"{stem} {number}" for number in range(1, count + 1)], dtype=object),
        }
        plants.negatives["media_group"] = media
        plants.overrides.append((media, columns))


PUBLIC_BURSTS = ("public_batch", "subject_batch")
CLOSED_NAME_BASE = "Riverside Civic Herald"
# A closed brand whose name two other subjects take again (spaced; one character in its traditional form), and
# a closed personal handle its own subject takes again with a counter: all to be flagged.
CLOSED_BRAND = ("澜沧江文旅集团", ("澜沧江 文旅集团", "澜沧江文旅集團"))
SAME_SUBJECT_RETURN = ("haoran", "haoran88")
# Closed accounts' common names, the names strangers register with later, and the names of live accounts of
# other subjects that bore them already. Never to be flagged: the handles taken with a counter, and the names
# two or more other subjects' live accounts bear.
COMMON_NAMES = (
    ("qiwei", ("qiwei405",), ("Qi Wei", "qiwei_88")),
    ("hongjie", ("hongjie735",), ()),
    ("yuwei", ("yumei622", "yufei931"), ()),
    ("张伟", ("张伟",), ("张伟", "张伟 1")),
    ("Chen Jing", ("Chen Jing",), ("chenjing", "Chen Jin")),
)


def _plan_barred(
    rng: np.random.Generator, plan: _PublicPlan, size: PlatformSize, stems: _StemPool, plants: _Plants
) -> None:
    """A subject that batch-registers public accounts past its quota (and so is blacklisted), then registers
    again; a closed account whose name three new accounts take: exactly, one edit away, two edits away; and
    the closed names of _plan_closed_names."""
    days = size.days
    subject = plan.add_subject("individual")
    count = int(rng.integers(10, 13))
    reg_day = int(rng.integers(5, days - 25))
    seconds = _burst_seconds(rng, count)
    keys = _pick_shared_keys(rng)
    members = [plan.add(subject, reg_day, second, "subject_batch", days=days) for second in seconds.tolist()]
    columns = _burst_columns(rng, count, keys, stems, public=True)
    burst = _Burst("subject_batch", "subject_batch", keys, reg_day, seconds, columns, np.array(members))
    plants.bursts.append(burst)
    plants.overrides.append((burst.members, columns))
    back_day = reg_day + int(rng.integers(3, 20))
    returned = plan.add(subject, back_day, int(rng.integers(8 * 3600, 20 * 3600)), "barred_return", days=days)
    plan.scenario["over_subject_batch"] = [*members, returned]
    plan.scenario["barred_return"] = [returned]

    source = plan.add(
        plan.add_subject("individual"),
        int(rng.integers(-1095, -30)),
        int(rng.integers(8 * 3600, 20 * 3600)),
        "closed_name_source",
        days=days,
        snapshot_status=CLOSED,
        use=(1, 0),
    )
    lookalikes = [
        plan.add(
            plan.add_subject("individual"),
            int(rng.integers(1, days - 1)),
            int(rng.integers(8 * 3600, 20 * 3600)),
            role,
            days=days,
        )
        for role in ("closed_name_exact", "closed_name_near", "closed_name_far")
    ]
    plan.scenario["closed_name"] = [source, *lookalikes]
    _plan_closed_names(rng, plan, days)


def _plan_closed_names(rng: np.random.Generator, plan: _PublicPlan, days: int) -> None:
    """Closed accounts whose names new accounts take: a brand by strangers and a handle by its own subject (to
    be flagged), and common names by strangers (never), with the live namesakes that make some of them common.

    Each account but a returning subject's has a subject of its own; the closed accounts and the namesakes
    were registered before the period, the new accounts during it.
    """

    def closed(subject_type: str, name: str) -> int:
        subject = plan.add_subject(subject_type)
        index = plan.add(
            subject,
            int(rng.integers(-1095, -30)),
            int(rng.integers(8 * 3600, 20 * 3600)),
            "closed_name_source",
            days=days,
            snapshot_status=CLOSED,
            use=(1, 0),
        )
        plan.names[index] = name
        return index

    def new(role: str, name: str, subject: int | None = None) -> int:
        owner = plan.add_subject("individual") if subject is None else subject
        index = plan.add(owner, int(rng.integers(1, days - 1)), int(rng.integers(8 * 3600, 20 * 3600)), role, days=days)
        plan.names[index] = name
        return index

    brand, taken = CLOSED_BRAND
    closed("enterprise", brand)
    reregistered = [new("closed_name_taken", name, plan.add_subject("enterprise")) for name in taken]
    handle, again = SAME_SUBJECT_RETURN
    reregistered.append(new("closed_name_returned", again, plan.subject[closed("individual", handle)]))
    collisions = []
    for name, strangers, namesakes in COMMON_NAMES:
        closed("individual", name)
        for namesake in namesakes:
            index = plan.add(
                plan.add_subject("individual"),
                int(rng.integers(-1095, -1)),
                int(rng.integers(8 * 3600, 20 * 3600)),
                "namesake",
                days=days,
            )
            plan.names[index] = namesake
        collisions += [new("common_name", stranger) for stranger in strangers]
    plan.scenario["closed_name_taken"] = reregistered
    plan.scenario["common_name"] = collisions


def _edits_within_one(a: str, b: str) -> bool:
    """Whether two strings are at most one insertion, deletion or substitution apart."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i + (len(a) == len(b)) :] == b[i + 1 :] if i < len(b) else True


def _settle_public_names(names: np.ndarray, plan: _PublicPlan, plants: _Plants) -> None:
    """Name the closed-name look-alikes, and keep the names of closed and follower-buying accounts two edits or
    more from every new account's name, so only the planted look-alikes match.

    Runs on the final names (burst members' included); the closed and buying accounts are the ones renamed.
    """
    from accountwatch.jobs.detectors.barred import normalise_name

    planted: set[int] = set(plan.names)
    for index, name in plan.names.items():
        names[index] = name
    if "closed_name" in plan.scenario:
        source, exact, near, far = plan.scenario["closed_name"]
        names[source] = CLOSED_NAME_BASE
        full_width = {code - 0xFEE0: code for code in range(0xFF01, 0xFF5F)}
        names[exact] = CLOSED_NAME_BASE.upper().translate(full_width) + " 2"
        names[near] = CLOSED_NAME_BASE[:-1] + "t"
        names[far] = CLOSED_NAME_BASE + "ry"
        planted |= {source, exact, near}
    barred = {
        index
        for index in range(len(plan.subject))
        if plan.snapshot_status[index] == CLOSED or any(status == CLOSED for _, status, _ in plan.changes[index])
    }
    barred |= {buyer for buyer, _, _, _ in plants.purchases}
    fresh = [(index, normalise_name(names[index])) for index in range(len(plan.subject)) if plan.reg_day[index] >= 0]
    for index in sorted(barred - planted):
        while any(
            other != index and name and _edits_within_one(normalise_name(names[index]), name) for other, name in fresh
        ):
            names[index] = f"{names[index]}·旧号"


def _plan_campus(rng: np.random.Generator, size: PlatformSize) -> tuple[np.ndarray, np.ndarray]:
    """Registration days and seconds of sign-ups behind one campus gateway: 2-3 busy days and a trickle."""
    days = size.days
    busy_count = 2 if size.users < 1000 else int(rng.integers(2, 4))
    busy_days = np.sort(rng.choice(np.arange(1, days), size=busy_count, replace=False))
    most = int(np.clip(size.users * 0.02, 40, 120))
    reg_day, reg_sec = [], []
    for day in busy_days.tolist():
        count = int(rng.integers(40, most + 1))
        first = int(rng.integers(7 * 3600 + 1800, 10 * 3600))
        span = int(rng.integers(8 * 3600, 12 * 3600 + 1))
        seconds = np.sort(first + rng.integers(0, span + 1, size=count))
        seconds[0], seconds[-1] = first, first + span
        reg_day.append(np.full(count, day))
        reg_sec.append(seconds)
    quiet_days = np.setdiff1d(np.arange(1, days), busy_days)
    trickle = [0.92, 0.05, 0.02, 0.01] if size.users < 1000 else [0.55, 0.3, 0.1, 0.05]
    trickle_days = np.repeat(quiet_days, rng.choice(4, size=quiet_days.size, p=trickle))
    reg_day.append(trickle_days)
    reg_sec.append(rng.integers(8 * 3600, 22 * 3600, size=trickle_days.size))
    return np.concatenate(reg_day).astype(np.int64), np.concatenate(reg_sec).astype(np.int64)


def _plan_users(
    rng: np.random.Generator, size: PlatformSize, first_index: int, plants: _Plants
) -> tuple[_Users, np.ndarray, list[tuple]]:
    """Ordinary users' registration and status history; returns the plan, snapshot statuses and change rows.

    The size's users come first, then the campus gateway's sign-ups; `first_index` is the first user's account index.
    """
    days, ordinary = size.days, size.users
    campus_day, campus_sec = _plan_campus(rng, size)
    count = ordinary + campus_day.size
    registered_before = rng.random(ordinary) < 0.8
    reg_day = np.concatenate(
        [
            np.where(registered_before, rng.integers(-1095, 0, size=ordinary), rng.integers(1, days, size=ordinary)),
            campus_day,
        ]
    )
    reg_sec = np.concatenate([rng.integers(7 * 3600, 23 * 3600, size=ordinary), campus_sec])
    # A family shares one device: its members sign up weeks apart.
    family = rng.choice(ordinary, size=int(rng.integers(3, 5)), replace=False)
    gaps = rng.integers(14, 41, size=family.size - 1)
    last_day = int(rng.integers(days // 2, days))
    reg_day[family] = last_day - np.concatenate([np.cumsum(gaps[::-1])[::-1], [0]])
    reg_day[reg_day == 0] = -1
    campus = first_index + ordinary + np.arange(campus_day.size)
    plants.negatives["campus"] = campus
    plants.negatives["family_device"] = first_index + family
    plants.overrides.append(
        (
            campus,
            {
                "registration_ip": np.full(campus.size, _random_ipv4(rng), dtype=object),
                "device_id": _random_devices(rng, campus.size),
            },
        )
    )
    plants.overrides.append((first_index + family, {"device_id": np.repeat(_random_devices(rng, 1), family.size)}))

    before_start = reg_day < 0
    snapshot = np.full(count, ACTIVE)
    pick = rng.random(count)
    snapshot[before_start & (pick < 0.025)] = SUSPENDED
    snapshot[before_start & (pick >= 0.025) & (pick < 0.04)] = CLOSED
    suspended_from = np.full(count, NEVER)
    suspended_until = np.full(count, NEVER)
    closed_from = np.full(count, NEVER)
    suspended_from[snapshot == SUSPENDED] = -NEVER
    closed_from[snapshot == CLOSED] = -NEVER
    changes: list[tuple] = []
    change_sec = rng.integers(9 * 3600, 18 * 3600, size=count)
    for user in np.flatnonzero((snapshot == SUSPENDED) & (rng.random(count) < 0.3)).tolist():
        react = int(rng.integers(1, days))
        suspended_until[user] = react
        changes.append((user, react, ACTIVE, int(change_sec[user])))
    change_pick = rng.random(count)
    first_possible = np.maximum(reg_day, 0) + 1
    for user in np.flatnonzero((snapshot == ACTIVE) & (change_pick < 0.022) & (first_possible < days - 1)).tolist():
        day = int(rng.integers(first_possible[user], days))
        if change_pick[user] < 0.007:
            closed_from[user] = day
            changes.append((user, day, CLOSED, int(change_sec[user])))
            continue
        suspended_from[user] = day
        changes.append((user, day, SUSPENDED, int(change_sec[user])))
        react = day + int(rng.integers(7, 61))
        if rng.random() < 0.5 and react < days:
            suspended_until[user] = react
            changes.append((user, react, ACTIVE, int(change_sec[user])))
    weight = rng.lognormal(0.0, 1.0, size=count)
    # Lurkers never read, like, share or comment, but follow now and then.
    lurker = rng.random(count) < LURKER_SHARE
    follow_weight = np.where(lurker, 0.5 * rng.lognormal(0.0, 1.0, size=count), weight)
    weight[lurker] = 0.0
    users = _Users(reg_day, reg_sec, suspended_from, suspended_until, closed_from, weight, follow_weight)
    return users, snapshot, changes


def _young_growth(
    rng: np.random.Generator, plan: _PublicPlan, popularity: np.ndarray, days: int
) -> tuple[np.ndarray, np.ndarray]:
    """A few accounts registered during the period whose audience and follows ramp up steeply; (accounts, ramp)."""
    n_public = popularity.size
    ramp = np.ones((n_public, days))
    candidates = np.array(
        [i for i in range(n_public) if plan.role[i] == "new_normal" and 1 <= plan.reg_day[i] <= days - 43], dtype=int
    )
    count = min(candidates.size, max(1, round(0.2 * np.sqrt(n_public))))
    young = np.sort(rng.choice(candidates, size=count, replace=False)) if count else candidates
    established = np.quantile(popularity, rng.uniform(0.9, 0.98, size=young.size))
    for account, target in zip(young.tolist(), established.tolist(), strict=True):
        rise_days = int(rng.integers(21, 43))
        floor = rng.uniform(0.02, 0.05)
        age = np.arange(days) - plan.reg_day[account]
        ramp[account] = np.where(age < rise_days, floor ** (1 - np.clip(age, 0, None) / rise_days), 1.0)
        popularity[account] = target
    return young, ramp


def _weekly_swing(
    rng: np.random.Generator, popularity: np.ndarray, excluded: np.ndarray, start: date, days: int
) -> tuple[np.ndarray, np.ndarray]:
    """Day-of-week factors for the most popular accounts, weekends far busier or far quieter; (accounts, factors)."""
    n_public = popularity.size
    left_out = set(excluded.tolist())
    ranked = [i for i in np.argsort(-popularity, kind="stable").tolist() if i not in left_out]
    swing = np.sort(np.array(ranked[: max(1, round(SWING_SHARE * n_public))], dtype=int))
    weekend = np.array([(start + timedelta(days=day)).weekday() >= 5 for day in range(days)])
    ratio = rng.uniform(1.5, 2.5, size=swing.size)
    ratio = np.where(rng.random(swing.size) < 0.6, ratio, 1 / ratio)
    factors = np.ones((n_public, days))
    # Scaled to a weekly mean of one: the swing moves an account's audience between days, not its volume.
    factors[swing] = np.where(weekend[None, :], ratio[:, None], 1.0) / ((5 + 2 * ratio) / 7)[:, None]
    return swing, factors


def _plan_viral_days(
    rng: np.random.Generator,
    candidates: np.ndarray,
    expected_follows: np.ndarray,
    expected_audience: np.ndarray,
    size: PlatformSize,
) -> list[_Viral]:
    """Organic viral days: 10-40 times the usual follows (at least 60 more) and 5-15 times the reads and shares."""
    days = size.days
    if days < MIN_SPIKE_PLATFORM_DAYS or candidates.size == 0:
        return []
    count = min(candidates.size, max(1, round(0.27 * np.sqrt(size.public_accounts) - 0.6)))
    viral = []
    for account in np.sort(rng.choice(candidates, size=count, replace=False)).tolist():
        day = int(rng.integers(PLANT_FROM_DAY, days))
        usual = float(expected_follows[day - BASELINE_DAYS : day, account].mean())
        follows = max(60, round((rng.uniform(10, 40) - 1) * usual))
        # Reads and shares are 85% of the audience events.
        audience = max(5, round((rng.uniform(5, 15) - 1) * 0.85 * float(expected_audience[day, account])))
        viral.append(_Viral(account, day, follows, audience, int(rng.integers(7, 13))))
    return viral


def _farm_size(rng: np.random.Generator, size: PlatformSize) -> int:
    if size.users >= 10_000:
        return int(np.clip(rng.lognormal(np.log(250), 0.7), 60, 900))
    if size.users >= 2_000:
        return int(np.clip(rng.lognormal(np.log(120), 0.6), 50, 500))
    return int(rng.integers(45, 91))


def _add_farm(
    rng: np.random.Generator, plants: _Plants, stems: _StemPool, name: str, kind: str, reg_day: int, count: int
) -> int:
    keys = _pick_shared_keys(rng)
    seconds = _burst_seconds(rng, count)
    plants.bursts.append(
        _Burst(name, kind, keys, reg_day, seconds, _burst_columns(rng, count, keys, stems, public=False))
    )
    return len(plants.bursts) - 1


def _plan_sales(rng: np.random.Generator, days: int, buyers: list[int], twice: int) -> list[tuple[list[int], int]]:
    """(buyers, day) per farm's sale: one or two farms split an order across buyers, `twice` buyers buy twice."""
    purchases = len(buyers) + twice
    lockstep = [2] if purchases < 5 else ([3] if purchases < 10 else [3, 2])
    twice_buyers, fresh = buyers[:twice], iter(buyers[twice:])
    sales: list[tuple[list[int], int]] = []
    for number, buyer in enumerate(twice_buyers):
        first_day = int(rng.integers(PLANT_FROM_DAY, days - 14))
        partners = [next(fresh) for _ in range(lockstep[number] - 1)] if number < len(lockstep) else []
        sales.append(([buyer, *partners], first_day))
        sales.append(([buyer], int(rng.integers(first_day + 14, days))))
    for together in lockstep[twice:]:
        sales.append(([next(fresh) for _ in range(together)], int(rng.integers(PLANT_FROM_DAY, days))))
    return sales + [([buyer], int(rng.integers(PLANT_FROM_DAY, days))) for buyer in fresh]


def _plan_purchases(
    rng: np.random.Generator,
    size: PlatformSize,
    sales: list[tuple[list[int], int]],
    expected_follows: np.ndarray,
    stems: _StemPool,
    plants: _Plants,
) -> list[tuple[np.ndarray, ...]]:
    """A farm per sale, registered 1-20 days before it, and its follows: (day, buyer, farm, member, second)."""
    bought: list[tuple[np.ndarray, ...]] = []
    big_farms = 2 if size.users >= 10_000 else 0
    for number, (buyers, day) in enumerate(sales):
        usual = expected_follows[day - BASELINE_DAYS : day, buyers].mean(axis=0)
        needs = np.maximum(MIN_BOUGHT_FOLLOWS, np.ceil(BOUGHT_OVER_USUAL * usual)).astype(int).tolist()
        if len(buyers) == 1 and big_farms:
            farm_size, big_farms = int(rng.integers(1000, 2001)), big_farms - 1
        else:
            farm_size = _farm_size(rng, size)
        farm_size = max(farm_size, max(needs) + int(rng.integers(0, 20)))
        reg_day = day - int(rng.integers(1, MAX_FARM_AGE_DAYS + 1))
        farm = _add_farm(rng, plants, stems, f"farm_{number + 1:02d}", "farm", reg_day, farm_size)
        window_start = int(rng.integers(8 * 3600, 17 * 3600 + 1))
        window_length = int(rng.integers(3600, 6 * 3600 + 1))
        # Every buyer of the sale gets the same members first, each at its own place in the delivery: the farm
        # follows in lockstep.
        pace = rng.random(farm_size)
        queue = rng.permutation(farm_size)
        for buyer, need in zip(buyers, needs, strict=True):
            follows = int(rng.integers(need, max(need, int(0.9 * farm_size)) + 1))
            start_sec = window_start + int(rng.integers(0, 900))
            length = int(np.clip(window_length + int(rng.integers(-900, 901)), 3600, 6 * 3600))
            members = queue[:follows]
            seconds = start_sec + (pace[members] * (length - 120)).astype(np.int64) + rng.integers(0, 121, follows)
            bought.append((np.full(follows, day), np.full(follows, buyer), np.full(follows, farm), members, seconds))
            plants.purchases.append((buyer, day, plants.bursts[farm].name, follows))
    return bought


def _plan_drip(
    rng: np.random.Generator, days: int, buyer: int, stems: _StemPool, plants: _Plants
) -> tuple[np.ndarray, ...]:
    """20-40 bought follows a day for two weeks from one or two farms, every follower a different member."""
    first_day = int(rng.integers(PLANT_FROM_DAY, days - DRIP_DAYS + 1))
    per_day = rng.integers(20, 41, size=DRIP_DAYS)
    total = int(per_day.sum())
    parts = [total] if rng.random() < 0.5 else [total // 2, total - total // 2]
    farms: list[np.ndarray] = []
    members: list[np.ndarray] = []
    for number, part in enumerate(parts):
        count = part + int(rng.integers(0, 40))
        reg_day = first_day - int(rng.integers(1, MAX_FARM_AGE_DAYS + 1))
        farms.append(np.full(count, _add_farm(rng, plants, stems, f"drip_farm_{number + 1}", "farm", reg_day, count)))
        members.append(np.arange(count))
    picked = rng.permutation(sum(farm.size for farm in farms))[:total]
    plants.drip = (buyer, first_day, first_day + DRIP_DAYS - 1)
    return (
        np.repeat(first_day + np.arange(DRIP_DAYS), per_day),
        np.full(total, buyer),
        np.concatenate(farms)[picked],
        np.concatenate(members)[picked],
        rng.integers(8 * 3600, 22 * 3600, size=total),
    )


def _plan_bought_followers(
    rng: np.random.Generator,
    size: PlatformSize,
    candidates: np.ndarray,
    expected_follows: np.ndarray,
    stems: _StemPool,
    plants: _Plants,
) -> None:
    """Farms registered in bursts, their purchases, a drip (platforms of 120 public accounts up) and an idle farm."""
    days = size.days
    bought: list[tuple[np.ndarray, ...]] = []
    drip = size.public_accounts >= 120
    # At least a split order to two buyers and a second purchase by one of them.
    purchases = max(3, round(0.5 * np.sqrt(size.public_accounts) - 0.65))
    twice = 1 if purchases < 10 else 2
    distinct_buyers = purchases - twice
    if days >= MIN_SPIKE_PLATFORM_DAYS and candidates.size >= distinct_buyers + drip:
        buyers = rng.choice(candidates, size=distinct_buyers + drip, replace=False).tolist()
        drip_buyer = buyers.pop() if drip else None
        bought += _plan_purchases(rng, size, _plan_sales(rng, days, buyers, twice), expected_follows, stems, plants)
        if drip_buyer is not None:
            bought.append(_plan_drip(rng, days, drip_buyer, stems, plants))

    if size.users >= 10_000:
        idle_size = int(rng.integers(800, 2001))
    elif size.users >= 2_000:
        idle_size = int(rng.integers(300, 801))
    else:
        idle_size = int(rng.integers(25, 61))
    _add_farm(rng, plants, stems, "idle_farm_1", "idle_farm", int(rng.integers(1, days)), idle_size)
    names = ("day", "account", "farm", "member", "second")
    plants.bought = {
        name: np.concatenate([part[position] for part in bought]).astype(np.int64) if bought else np.zeros(0, np.int64)
        for position, name in enumerate(names)
    }


def _build_accounts(
    rng: np.random.Generator,
    plan: _PublicPlan,
    users: _Users,
    user_snapshot: np.ndarray,
    user_changes: list[tuple],
    plants: _Plants,
    start: date,
    extra_accounts: int,
) -> _Accounts:
    """Public accounts, ordinary users, farm users (laid out here, burst by burst) and the bad rows' accounts."""
    n_public, n_users = len(plan.subject), users.reg_day.size
    farms = [burst for burst in plants.bursts if burst.kind not in PUBLIC_BURSTS]
    first_farm_user = n_public + n_users
    for burst in farms:
        burst.members = first_farm_user + np.arange(burst.reg_sec.size)
        first_farm_user += burst.reg_sec.size
        plants.overrides.append((burst.members, burst.columns))
    n_farm = first_farm_user - n_public - n_users
    all_users = n_users + n_farm
    total = n_public + all_users + extra_accounts
    start_sec = (start - EPOCH).days * SECONDS_PER_DAY
    public_ids = _unique_ids(rng, "pa", 7, n_public)
    user_ids = _unique_ids(rng, "u", 8, all_users + extra_accounts)
    subject_ids = _unique_ids(rng, "sb", 7, len(plan.subject_type) + extra_accounts)
    subject_index = np.array(plan.subject)
    account_type = np.array(["public"] * n_public + ["user"] * all_users + ["public"] * extra_accounts, dtype=object)
    # The bad rows' made-up accounts are public accounts of subjects of their own, so they never touch a quota.
    subject_id = np.concatenate(
        [subject_ids[subject_index], np.full(all_users, None, dtype=object), subject_ids[len(plan.subject_type) :]]
    )
    subject_type = np.concatenate(
        [
            np.array(plan.subject_type, dtype=object)[subject_index],
            np.full(all_users, None, dtype=object),
            np.full(extra_accounts, "individual", dtype=object),
        ]
    )
    # Farm users' names come with their burst's registration columns.
    names = (
        [_public_name(rng) for _ in range(n_public)]
        + [_user_name(rng) for _ in range(n_users)]
        + [None] * n_farm
        + [_user_name(rng) for _ in range(extra_accounts)]
    )
    ips, devices, phones = _contact_columns(rng, total)
    categories = np.full(total, None, dtype=object)
    categories[:n_public] = rng.choice(CATEGORIES, size=n_public)
    categories[:n_public][rng.random(n_public) < 0.1] = None

    farm_reg_day = [np.full(burst.reg_sec.size, burst.reg_day) for burst in farms]
    reg_day = np.concatenate([np.array(plan.reg_day), users.reg_day, *farm_reg_day, np.full(extra_accounts, -30)])
    reg_sec = np.concatenate(
        [
            np.array(plan.reg_sec),
            users.reg_sec,
            *[burst.reg_sec for burst in farms],
            rng.integers(7 * 3600, 23 * 3600, size=extra_accounts),
        ]
    )
    reg_local_sec = start_sec + reg_day.astype(np.int64) * SECONDS_PER_DAY + reg_sec

    snapshot_status = np.concatenate([np.array(plan.snapshot_status), user_snapshot, np.full(n_farm, ACTIVE)])
    known = n_public + all_users
    existing = np.flatnonzero(reg_day[:known] < 0)
    # The snapshot is exported around midnight before the first day.
    snapshot_updated = start_sec + np.where(
        rng.random(existing.size) < 0.7,
        -rng.integers(1, 4 * 3600, size=existing.size),
        rng.integers(0, 3600, size=existing.size),
    )
    snapshot_updated = np.maximum(snapshot_updated, reg_local_sec[existing] + 60)
    registered = np.flatnonzero(reg_day[:known] >= 0)
    change_rows = [
        (index, day, status, sec) for index, changes in enumerate(plan.changes) for day, status, sec in changes
    ]
    change_rows += [(n_public + user, day, status, sec) for user, day, status, sec in user_changes]
    changes = np.array(change_rows, dtype=np.int64).reshape(-1, 4)
    accounts = _Accounts(
        account_id=np.concatenate([public_ids, user_ids]),
        account_type=account_type,
        subject_id=subject_id,
        subject_type=subject_type,
        account_name=np.array(names, dtype=object),
        registration_ip=ips,
        device_id=devices,
        phone=phones,
        content_category=categories,
        reg_local_sec=reg_local_sec,
        row_account=np.concatenate([existing, registered, changes[:, 0]]),
        row_day=np.concatenate([np.zeros(existing.size, dtype=np.int64), reg_day[registered], changes[:, 1]]),
        row_status=np.concatenate([snapshot_status[existing], np.full(registered.size, ACTIVE), changes[:, 2]]),
        row_updated=np.concatenate(
            [snapshot_updated, reg_local_sec[registered], start_sec + changes[:, 1] * SECONDS_PER_DAY + changes[:, 3]]
        ),
    )
    for index, columns in plants.overrides:
        for name, values in columns.items():
            getattr(accounts, name)[index] = values
    _settle_public_names(accounts.account_name, plan, plants)
    return accounts


def _status_matrix(plan: _PublicPlan, days: int) -> np.ndarray:
    """Each public account's status at the end of each day (NOT_REGISTERED before registration)."""
    status = np.empty((len(plan.subject), days), dtype=np.int8)
    for index in range(len(plan.subject)):
        status[index, :] = plan.snapshot_status[index]
        if plan.reg_day[index] >= 0:
            status[index, : plan.reg_day[index]] = NOT_REGISTERED
            status[index, plan.reg_day[index] :] = ACTIVE
        for day, new_status, _ in sorted(plan.changes[index]):
            status[index, day:] = new_status
    return status


def _use_matrix(rng: np.random.Generator, plan: _PublicPlan, status: np.ndarray) -> np.ndarray:
    """Which days each public account's operators log in or publish."""
    n_public, days = status.shape
    day_index = np.arange(days)
    daily_chance = np.asarray(rng.uniform(0.05, 0.6, size=n_public))
    use = rng.random((n_public, days)) < daily_chance[:, None]
    phase = np.asarray(rng.integers(0, USE_PERIOD_DAYS, size=n_public))
    use |= (day_index[None, :] - phase[:, None]) % USE_PERIOD_DAYS == 0
    use_from = np.array(plan.use_from)[:, None]
    use_until = np.array(plan.use_until)[:, None]
    use &= (day_index[None, :] >= use_from) & (day_index[None, :] <= use_until)
    for index, forced in enumerate(plan.forced_use):
        for day in forced:
            if 0 <= day < days:
                use[index, day] = True
    use &= status == ACTIVE
    return use


def _local_and_utc(local_sec: np.ndarray, time_zone: str) -> tuple[np.ndarray, np.ndarray]:
    """Wall-clock seconds in the platform zone, made valid, and the same instants as UTC seconds."""
    if local_sec.size == 0:
        return local_sec.astype(np.int64), local_sec.astype(np.int64)
    naive = pd.DatetimeIndex(local_sec.astype("datetime64[s]"))
    aware = naive.tz_localize(time_zone, ambiguous=np.zeros(local_sec.size, dtype=bool), nonexistent="shift_forward")
    local = aware.tz_localize(None).values.astype("datetime64[s]").astype(np.int64)
    utc = aware.tz_convert("UTC").tz_localize(None).values.astype("datetime64[s]").astype(np.int64)
    return local, utc


def _offset_text(offset_sec: int) -> str:
    sign = "+" if offset_sec >= 0 else "-"
    hours, minutes = divmod(abs(offset_sec) // 60, 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


def _iso_text(local_sec: np.ndarray, utc_sec: np.ndarray, forms: np.ndarray) -> np.ndarray:
    """ISO 8601 text per row in one of three forms: local with offset, UTC with Z, local without offset."""
    if local_sec.size == 0:
        return np.array([], dtype=object)
    local_text = np.datetime_as_string(local_sec.astype("datetime64[s]"), unit="s")
    utc_text = np.datetime_as_string(utc_sec.astype("datetime64[s]"), unit="s")
    offsets, inverse = np.unique(local_sec - utc_sec, return_inverse=True)
    offset_text = np.array([_offset_text(int(offset)) for offset in offsets])[inverse]
    with_offset = np.char.add(local_text, offset_text)
    zulu = np.char.add(utc_text, "Z")
    no_offset = np.char.replace(local_text, "T", " ")
    return np.where(forms == 0, with_offset, np.where(forms == 1, zulu, no_offset)).astype(object)


def _timestamp_columns(
    rng: np.random.Generator, local_sec: np.ndarray, time_zone: str
) -> tuple[np.ndarray, np.ndarray]:
    local, utc = _local_and_utc(local_sec, time_zone)
    forms = rng.choice(3, size=local.size, p=TIMESTAMP_FORMS)
    return _iso_text(local, utc, forms), utc


@dataclass
class _Rows:
    """Rows as named columns of equal length: raw events, or a table-day's text columns and writer helpers."""

    columns: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(next(iter(self.columns.values())))

    def take(self, mask: np.ndarray) -> _Rows:
        return _Rows({name: values[mask] for name, values in self.columns.items()})

    @staticmethod
    def concat(parts: list[_Rows]) -> _Rows:
        return _Rows({name: np.concatenate([part.columns[name] for part in parts]) for name in parts[0].columns})


@dataclass
class _World:
    size: PlatformSize
    start: date
    time_zone: str
    accounts: _Accounts
    users: _Users
    n_public: int
    first_extra: int  # account index of the bad rows' first made-up account
    operator_start: np.ndarray
    operator_count: np.ndarray
    operator_ids: np.ndarray
    status: np.ndarray
    logins: np.ndarray
    publishes: np.ndarray
    reg_day: np.ndarray
    reg_sec: np.ndarray
    react_day: np.ndarray
    react_sec: np.ndarray
    account_weight: np.ndarray  # days x public accounts: each account's share of the day's audience and follows
    audience_per_day: np.ndarray
    follows_per_day: np.ndarray
    plants: _Plants
    bought_user: np.ndarray  # account index of each bought follow's farm member


class _EventFactory:
    """Generates one day of events at a time; keeps the event-id counter and the follow history."""

    def __init__(self, world: _World) -> None:
        self.world = world
        self.next_event = 0
        capacity = int(world.follows_per_day.sum()) + sum(viral.follows for viral in world.plants.viral) + 1
        self.followed_account = np.empty(capacity, dtype=np.int64)
        self.followed_user = np.empty(capacity, dtype=np.int64)
        self.follow_count = 0
        # Audience events with an actor per user so far: viral followers are users with activity before the day.
        self.user_activity = np.zeros(world.users.reg_day.size, dtype=np.int64)

    def _event_ids(self, count: int) -> np.ndarray:
        numbers = np.arange(self.next_event, self.next_event + count)
        self.next_event += count
        return np.char.add("ev", np.char.zfill(numbers.astype(str), 10)).astype(object)

    def _active_users(self, day: int) -> np.ndarray:
        users = self.world.users
        suspended = (users.suspended_from <= day) & (day <= users.suspended_until)
        return (users.reg_day < day) & ~suspended & (day < users.closed_from)

    def _viral(self, rng: np.random.Generator, day: int, active: np.ndarray) -> tuple[_Rows, _Rows]:
        """Extra reads, shares and follows of the day's viral accounts, from established users active before."""
        users = self.world.users
        pool = np.flatnonzero(
            active & (users.reg_day <= day - ESTABLISHED_DAYS) & (users.weight > 0) & (self.user_activity > 0)
        )
        parts: dict[str, list[np.ndarray]] = {"account": [], "audience_account": [], "follower": [], "actor": []}
        seconds: dict[str, list[np.ndarray]] = {"follow": [], "audience": []}
        for viral in self.world.plants.viral:
            if viral.day != day or pool.size == 0:
                continue
            hours = np.where(np.arange(24) >= viral.from_hour, AUDIENCE_HOURS, 0.0)
            chance = users.weight[pool] / users.weight[pool].sum()
            followers = rng.choice(pool, size=min(viral.follows, pool.size), replace=False, p=chance)
            parts["account"].append(np.full(followers.size, viral.account))
            parts["follower"].append(followers)
            seconds["follow"].append(_random_seconds(rng, hours, followers.size))
            parts["audience_account"].append(np.full(viral.audience, viral.account))
            parts["actor"].append(rng.choice(pool, size=viral.audience, p=chance))
            seconds["audience"].append(_random_seconds(rng, hours, viral.audience))
        joined = {name: np.concatenate(values) if values else np.zeros(0, np.int64) for name, values in parts.items()}
        follow_sec, audience_sec = (
            np.concatenate(values) if values else np.zeros(0, np.int64) for values in seconds.values()
        )
        audience_types = np.where(rng.random(joined["actor"].size) < 0.94, "read", "share").astype(object)
        engagement = _Rows(
            {
                "account": joined["audience_account"],
                "actor": joined["actor"],
                "event_type": audience_types,
                "second": audience_sec,
            }
        )
        follows = _Rows({"account": joined["account"], "user": joined["follower"], "second": follow_sec})
        return engagement, follows

    def day(self, rng: np.random.Generator, day: int) -> tuple[_Rows, _Rows]:
        """Engagement and subscription events that happened on `day` (platform time), ids assigned."""
        world = self.world
        day_start = (world.start - EPOCH).days * SECONDS_PER_DAY + day * SECONDS_PER_DAY
        user_ids = world.accounts.account_id[world.n_public : world.n_public + world.users.reg_day.size]

        using = np.flatnonzero(world.logins[:, day])
        login_accounts = np.repeat(using, world.logins[using, day])
        publish_accounts = np.repeat(using, world.publishes[using, day])
        use_accounts = np.concatenate([login_accounts, publish_accounts])
        use_types = np.array(["login"] * login_accounts.size + ["publish"] * publish_accounts.size, dtype=object)
        use_seconds = _random_seconds(rng, OPERATOR_HOURS, use_accounts.size)
        # On a registration or reactivation day the operator acts only after that row's time.
        earliest = np.where(world.reg_day[use_accounts] == day, world.reg_sec[use_accounts], -1)
        anchored_on_reactivation = world.react_day[use_accounts] == day
        earliest = np.where(anchored_on_reactivation, world.react_sec[use_accounts], earliest)
        anchored = earliest >= 0
        room = SECONDS_PER_DAY - 61 - earliest
        use_seconds = np.where(anchored, earliest + 60 + use_seconds % np.maximum(room, 1), use_seconds)
        operator_pick = rng.integers(0, 1 << 30, size=use_accounts.size) % world.operator_count[use_accounts]
        operators = world.operator_ids[world.operator_start[use_accounts] + operator_pick]

        weights = world.account_weight[day]
        active = self._active_users(day)
        audience_weights = world.users.weight * active
        follow_weights = world.users.follow_weight * active
        audience_count = int(world.audience_per_day[day]) if weights.sum() > 0 and audience_weights.sum() > 0 else 0
        audience_accounts = _weighted_choice(rng, weights, audience_count)
        audience_users = _weighted_choice(rng, audience_weights, audience_count)
        audience_types = np.array(AUDIENCE_EVENT_TYPES, dtype=object)[
            rng.choice(4, size=audience_count, p=[0.8, 0.1, 0.05, 0.05])
        ]
        counts = np.ones(audience_count, dtype=np.int64)
        is_read = audience_types == "read"
        aggregated = rng.random(audience_count) < np.where(is_read, 0.25, 0.05)
        counts[aggregated] += rng.geometric(np.where(is_read, 0.3, 0.5)[aggregated])
        actors = user_ids[audience_users].copy()
        anonymous = is_read & (rng.random(audience_count) < 0.02)
        actors[anonymous] = None
        viral_audience, viral_follows = self._viral(rng, day, active)
        self.user_activity += np.bincount(audience_users[~anonymous], minlength=self.user_activity.size)
        extra = len(viral_audience)

        engagement = _Rows(
            {
                "account": np.concatenate([use_accounts, audience_accounts, viral_audience.columns["account"]]),
                "actor_id": np.concatenate([operators, actors, user_ids[viral_audience.columns["actor"]]]),
                "event_type": np.concatenate([use_types, audience_types, viral_audience.columns["event_type"]]),
                "local_sec": day_start
                + np.concatenate(
                    [
                        use_seconds,
                        _random_seconds(rng, AUDIENCE_HOURS, audience_count),
                        viral_audience.columns["second"],
                    ]
                ),
                "count": np.concatenate([np.ones(use_accounts.size, dtype=np.int64), counts, np.ones(extra, np.int64)]),
                "may_be_late": np.concatenate([~anchored_on_reactivation, np.ones(audience_count + extra, dtype=bool)]),
                "audience": np.concatenate(
                    [np.zeros(use_accounts.size, dtype=bool), np.ones(audience_count + extra, dtype=bool)]
                ),
            }
        )

        follow_total = int(world.follows_per_day[day]) if weights.sum() > 0 and follow_weights.sum() > 0 else 0
        follows = int(rng.binomial(follow_total, FOLLOW_SHARE))
        follow_accounts = np.concatenate([_weighted_choice(rng, weights, follows), viral_follows.columns["account"]])
        follow_users = np.concatenate([_weighted_choice(rng, follow_weights, follows), viral_follows.columns["user"]])
        follow_sec = np.concatenate([_random_seconds(rng, AUDIENCE_HOURS, follows), viral_follows.columns["second"]])
        unfollows = follow_total - follows if self.follow_count else 0
        earlier = rng.integers(0, max(self.follow_count, 1), size=unfollows)
        unfollow_accounts = self.followed_account[earlier]
        unfollow_users = self.followed_user[earlier]
        still_there = (weights[unfollow_accounts] > 0) & (follow_weights[unfollow_users] > 0)
        unfollow_accounts, unfollow_users = unfollow_accounts[still_there], unfollow_users[still_there]
        organic = follow_accounts.size
        self.followed_account[self.follow_count : self.follow_count + organic] = follow_accounts
        self.followed_user[self.follow_count : self.follow_count + organic] = follow_users
        self.follow_count += organic
        # Bought follows are never unfollowed and always land in their own day's folder.
        bought = world.plants.bought
        first, last = np.searchsorted(bought["day"], [day, day + 1])
        organic_count = organic + unfollow_accounts.size
        sub_count = organic_count + last - first
        channels = CHANNELS[rng.choice(CHANNELS.size, size=sub_count, p=CHANNEL_SHARE)].astype(object)
        channels[rng.random(sub_count) < 0.05] = None
        subscriptions = _Rows(
            {
                "account": np.concatenate([follow_accounts, unfollow_accounts, bought["account"][first:last]]),
                "user_id": np.concatenate(
                    [
                        user_ids[np.concatenate([follow_users, unfollow_users])],
                        world.accounts.account_id[world.bought_user[first:last]],
                    ]
                ),
                "action": np.array(
                    ["follow"] * organic + ["unfollow"] * unfollow_accounts.size + ["follow"] * (last - first),
                    dtype=object,
                ),
                "local_sec": day_start
                + np.concatenate(
                    [
                        follow_sec,
                        _random_seconds(rng, AUDIENCE_HOURS, unfollow_accounts.size),
                        bought["second"][first:last],
                    ]
                ),
                "channel": channels,
                "may_be_late": np.arange(sub_count) < organic_count,
                "audience": np.arange(sub_count) < organic_count,
            }
        )
        return self._with_ids(engagement), self._with_ids(subscriptions)

    def _with_ids(self, events: _Rows) -> _Rows:
        in_time_order = np.argsort(events.columns["local_sec"], kind="stable")
        ordered = events.take(in_time_order)
        ordered.columns["event_id"] = self._event_ids(len(ordered))
        return ordered

    def fresh_ids(self, count: int) -> np.ndarray:
        return self._event_ids(count)


def _event_rows(rng: np.random.Generator, world: _World, table: LandingTable, events: _Rows, day: int) -> _Rows:
    """Raw events as the landing table's text columns plus the helpers the writer and bad-row planting need."""
    columns = events.columns
    event_ts, utc = _timestamp_columns(rng, columns["local_sec"], world.time_zone)
    rows: dict[str, np.ndarray] = {
        "event_id": columns["event_id"],
        "account_id": world.accounts.account_id[columns["account"]],
    }
    if table is ENGAGEMENT:
        count_text = columns["count"].astype(str).astype(object)
        # `count` is optional: a count of one is sometimes left empty.
        count_text[(columns["count"] == 1) & (rng.random(len(events)) < 0.3)] = None
        rows |= {"actor_id": columns["actor_id"], "event_type": columns["event_type"], "count": count_text}
    else:
        rows |= {"user_id": columns["user_id"], "action": columns["action"], "channel": columns["channel"]}
    day_start = (world.start - EPOCH).days * SECONDS_PER_DAY + day * SECONDS_PER_DAY
    on_time = (columns["local_sec"] >= day_start) & (columns["local_sec"] < day_start + SECONDS_PER_DAY)
    rows |= {
        "event_ts": event_ts,
        "_utc_event_ts": utc,
        "_native_ok": np.ones(len(events), dtype=bool),
        "_template": columns["audience"] & on_time,
    }
    return _Rows(rows)


EVENT_BAD_VARIANTS = (
    ("engagement", "missing_required", "account_id"),
    ("subscriptions", "missing_required", "event_ts"),
    ("subscriptions", "missing_required", "user_id"),
    ("engagement", "invalid_value", "event_type"),
    ("subscriptions", "invalid_value", "action"),
    ("engagement", "unparseable_timestamp", "event_ts"),
    ("subscriptions", "unparseable_timestamp", "event_ts"),
    ("engagement", "invalid_count", "zero"),
    ("engagement", "invalid_count", "negative"),
    ("engagement", "duplicate_event_id", "same_day"),
    ("subscriptions", "duplicate_event_id", "same_day"),
    ("engagement", "duplicate_event_id", "earlier_day"),
    ("subscriptions", "duplicate_event_id", "earlier_day"),
    ("engagement", "event_ts_out_of_window", "ten_days_before"),
    ("subscriptions", "event_ts_out_of_window", "two_days_after"),
    ("engagement", "event_ts_out_of_window", "two_days_after"),
)
ACCOUNT_BAD_VARIANTS = (
    ("invalid_value", "status"),
    ("missing_required", "subject_id"),
    ("invalid_value", "account_type"),
    ("unparseable_timestamp", "registered_at"),
    ("missing_required", "account_name"),
)
# Reused event ids come from this many days back at most, well inside the 7-day window duplicates are checked in.
REUSE_DAYS_BACK = 5


def _plan_event_bad_rows(
    rng: np.random.Generator, expected_rows: dict[str, np.ndarray], copies: int
) -> dict[tuple[str, int], tuple[str, str]]:
    """(table, folder day) -> (reason, variant): at most one planted bad row per table-day, on busy days only."""
    planned: dict[tuple[str, int], tuple[str, str]] = {}
    for _ in range(copies):
        for table, reason, variant in EVENT_BAD_VARIANTS:
            rows = expected_rows[table]
            days = np.arange(REUSE_DAYS_BACK + 2, rows.size)
            busy = days[rows[days] >= ROWS_PER_BAD_ROW]
            candidates = [int(day) for day in busy if (table, int(day)) not in planned]
            if not candidates:
                # Small platforms (or a few odd busy days): the busiest days still keep one bad row far below the
                # 5% quarantine limit.
                busy = days[rows[days] >= max(SMALL_DAY_ROWS, np.quantile(rows[days], 0.75))]
                candidates = [int(day) for day in busy if (table, int(day)) not in planned]
            if candidates:
                planned[(table, int(rng.choice(candidates)))] = (reason, variant)
    return planned


def _bad_event_row(
    rng: np.random.Generator,
    world: _World,
    factory: _EventFactory,
    rows: _Rows,
    table: str,
    day: int,
    reason: str,
    variant: str,
    earlier_ids: dict[tuple[str, int], list[str]],
) -> _Rows | None:
    """One row of `rows` made bad for exactly one reason, or None when the day offers no suitable template."""
    templates = rows.columns["_template"].copy()
    if reason == "invalid_count":
        templates &= rows.columns["event_type"] == "read"
    if variant == "earlier_day":
        reusable = [
            ids for key, ids in sorted(earlier_ids.items()) if key[0] == table and 1 <= day - key[1] <= REUSE_DAYS_BACK
        ]
        reusable = [ids for ids in reusable if ids]
        if not reusable:
            return None
    if not templates.any():
        return None
    row_index = int(rng.choice(np.flatnonzero(templates)))
    rows.columns["_template"][row_index] = False
    bad = rows.take(np.array([row_index]))
    if variant == "same_day":
        # The id again with other content: a copy equal in every value is a re-delivery, which is not bad input.
        if table == "subscriptions":
            channel = bad.columns["channel"][0]
            bad.columns["channel"] = np.array(["search" if channel == "other" else "other"], dtype=object)
        else:
            bad.columns["count"] = np.array([str(int(bad.columns["count"][0] or 1) + 1)], dtype=object)
        return bad
    bad.columns["event_id"] = factory.fresh_ids(1)
    if variant == "earlier_day":
        bad.columns["event_id"] = np.array([reusable[int(rng.integers(0, len(reusable)))].pop()], dtype=object)
    elif reason == "missing_required":
        bad.columns[variant] = np.array([None], dtype=object)
    elif variant == "event_type":
        bad.columns["event_type"] = np.array(["view"], dtype=object)
    elif variant == "action":
        bad.columns["action"] = np.array(["subscribe"], dtype=object)
    elif reason == "unparseable_timestamp":
        bad.columns["event_ts"] = np.array([UNPARSEABLE_TIMESTAMP], dtype=object)
        bad.columns["_native_ok"] = np.array([False])
    elif variant in ("zero", "negative"):
        bad.columns["count"] = np.array(["0" if variant == "zero" else "-2"], dtype=object)
    elif reason == "event_ts_out_of_window":
        shift_days = -10 if variant == "ten_days_before" else 2
        day_start = (world.start - EPOCH).days * SECONDS_PER_DAY + day * SECONDS_PER_DAY
        local_sec = day_start + shift_days * SECONDS_PER_DAY + int(rng.integers(9 * 3600, 18 * 3600))
        bad.columns["event_ts"], bad.columns["_utc_event_ts"] = _timestamp_columns(
            rng, np.array([local_sec]), world.time_zone
        )
    return bad


def _insert_rows(rng: np.random.Generator, rows: _Rows, extra: list[_Rows]) -> _Rows:
    """`rows` with `extra` rows slipped in at random positions."""
    if not extra:
        return rows
    combined = _Rows.concat([rows, *extra])
    positions = np.concatenate(
        [np.arange(len(rows), dtype=float), rng.uniform(0, len(rows), size=len(combined) - len(rows))]
    )
    return combined.take(np.argsort(positions, kind="stable"))


def _account_rows(
    rng: np.random.Generator, world: _World, index: np.ndarray, status: np.ndarray, updated: np.ndarray
) -> _Rows:
    """Account rows (accounts `index` with `status` as of `updated`) in the order they were updated."""
    accounts = world.accounts
    in_update_order = np.argsort(updated, kind="stable")
    index, status, updated = index[in_update_order], status[in_update_order], updated[in_update_order]
    registered_at, registered_utc = _timestamp_columns(rng, accounts.reg_local_sec[index], world.time_zone)
    updated_at, updated_utc = _timestamp_columns(rng, updated, world.time_zone)
    return _Rows(
        {
            "account_id": accounts.account_id[index],
            "account_type": accounts.account_type[index],
            "subject_id": accounts.subject_id[index],
            "subject_type": accounts.subject_type[index],
            "account_name": accounts.account_name[index],
            "registered_at": registered_at,
            "registration_ip": accounts.registration_ip[index],
            "device_id": accounts.device_id[index],
            "phone": accounts.phone[index],
            "content_category": accounts.content_category[index],
            "status": STATUS_NAMES[status].astype(object),
            "updated_at": updated_at,
            "_utc_registered_at": registered_utc,
            "_utc_updated_at": updated_utc,
            "_native_ok": np.ones(index.size, dtype=bool),
        }
    )


def _bad_account_rows(rng: np.random.Generator, world: _World, count: int) -> list[tuple[str, _Rows]]:
    """Snapshot rows of made-up accounts, each bad for one reason; they go to day one's big snapshot."""
    first_extra = world.first_extra
    start_sec = (world.start - EPOCH).days * SECONDS_PER_DAY
    bad_rows = []
    for offset in range(count):
        reason, column = ACCOUNT_BAD_VARIANTS[offset % len(ACCOUNT_BAD_VARIANTS)]
        row = _account_rows(
            rng, world, np.array([first_extra + offset]), np.array([ACTIVE]), np.array([start_sec - 600])
        )
        if column == "status":
            row.columns["status"] = np.array(["banned"], dtype=object)
        elif column == "account_type":
            row.columns["account_type"] = np.array(["bot"], dtype=object)
        elif reason == "missing_required":
            row.columns[column] = np.array([None], dtype=object)
        else:
            row.columns["registered_at"] = np.array([UNPARSEABLE_TIMESTAMP], dtype=object)
            row.columns["_native_ok"] = np.array([False])
        bad_rows.append((reason, row))
    return bad_rows


def _parquet_table(chunk: _Rows, table: LandingTable, native_timestamps: bool) -> pa.Table:
    arrays = {}
    for name in table.columns:
        values = chunk.columns[name]
        missing = pd.isna(values)
        if name in table.timestamps and native_timestamps:
            micros = chunk.columns[f"_utc_{name}"].astype(np.int64) * 1_000_000
            arrays[name] = pa.array(micros, type=pa.timestamp("us", tz="UTC"), mask=missing)
        elif name == "count":
            numbers = np.where(missing, "0", values).astype(np.int64)
            arrays[name] = pa.array(numbers, type=pa.int64(), mask=missing)
        else:
            arrays[name] = pa.array(values, type=pa.string(), from_pandas=True)
    return pa.table(arrays)


def _write_chunk(rng: np.random.Generator, chunk: _Rows, table: LandingTable, stem: Path, file_format: str) -> None:
    visible = [chunk.columns[name] for name in table.columns]
    if file_format == "csv":
        with stem.with_suffix(".csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(table.columns)
            writer.writerows(zip(*visible, strict=True))
    elif file_format == "jsonl":
        frame = pd.DataFrame(dict(zip(table.columns, visible, strict=True)), dtype=object)
        if "count" in frame:
            count = chunk.columns["count"].copy()
            as_number = ~pd.isna(count) & (rng.random(count.size) < 0.5)
            count[as_number] = [int(value) for value in count[as_number]]
            frame["count"] = pd.Series(count, dtype=object)
        frame.to_json(stem.with_suffix(".jsonl"), orient="records", lines=True, force_ascii=False)
    else:
        native = bool(chunk.columns["_native_ok"].all()) and rng.random() < 0.5
        pq.write_table(_parquet_table(chunk, table, native), stem.with_suffix(".parquet"))


def _write_day_files(rng: np.random.Generator, landing: Path, table: LandingTable, day: date, rows: _Rows) -> None:
    """Split one table-day into 1-3 files of mixed formats."""
    folder = landing / table.name / f"date={day.isoformat()}"
    folder.mkdir(parents=True, exist_ok=True)
    file_count = int(rng.integers(1, 4)) if len(rows) >= 3 else 1
    cuts = (
        sorted(rng.choice(np.arange(1, len(rows)), size=file_count - 1, replace=False).tolist())
        if file_count > 1
        else []
    )
    bounds = [0, *cuts, len(rows)]
    formats = rng.choice(["csv", "jsonl", "parquet"], size=file_count, p=[0.4, 0.3, 0.3]).tolist()
    if len(rows) == 0:
        formats = ["csv"]
    for part, file_format in enumerate(formats):
        chunk = rows.take(np.arange(bounds[part], bounds[part + 1]))
        _write_chunk(rng, chunk, table, folder / f"{table.name}_{day:%Y%m%d}_{part + 1:02d}", file_format)


def _day_weights(rng: np.random.Generator, start: date, days: int) -> np.ndarray:
    weekdays = np.array([(start + timedelta(days=day)).weekday() for day in range(days)])
    growth = 1.0 + 0.3 * np.arange(days) / days
    weights = WEEKDAY_FACTOR[weekdays] * growth * rng.lognormal(0.0, 0.08, size=days)
    return weights / weights.sum()


def _build_world(
    rng: np.random.Generator, size: PlatformSize, start: date, time_zone: str, extra_accounts: int
) -> tuple[_World, _PublicPlan]:
    end = start + timedelta(days=size.days - 1)
    days = size.days
    plan = _PublicPlan()
    plants = _Plants()
    stems = _StemPool(rng)
    _plan_quota_scenarios(rng, plan, days, full=size.public_accounts >= 120)
    _plan_regular_public(rng, plan, size, start, end)
    _plan_public_registrations(rng, plan, size, stems, plants)
    _plan_barred(rng, plan, size, stems, plants)
    n_public = len(plan.subject)
    users, user_snapshot, user_changes = _plan_users(rng, size, n_public, plants)

    # Operators belong to a subject and may run several of its accounts.
    operators_per_subject = rng.integers(1, 4, size=len(plan.subject_type))
    subject_operator_start = np.concatenate([[0], np.cumsum(operators_per_subject)[:-1]])
    operator_ids = _unique_ids(rng, "op_", 7, int(operators_per_subject.sum()))
    subject_index = np.array(plan.subject)

    status = _status_matrix(plan, days)
    use = _use_matrix(rng, plan, status)
    logins = (use * (1 + rng.poisson(0.4, size=use.shape))).astype(np.int64)
    publishes = (use * rng.poisson(0.6, size=use.shape)).astype(np.int64)
    react_day = np.full(n_public, -1)
    react_sec = np.zeros(n_public, dtype=np.int64)
    for index, changes in enumerate(plan.changes):
        for day, new_status, second in changes:
            if new_status == ACTIVE:
                react_day[index], react_sec[index] = day, second
    dormant_after = np.array(
        [plan.last_use[i] if plan.role[i] == "dormant" else NEVER for i in range(n_public)], dtype=np.int64
    )
    audience_total = max(size.events - int(logins.sum() + publishes.sum()), 0)
    subscription_total = int(audience_total * SUBSCRIPTION_SHARE)
    audience_total -= subscription_total

    popularity = rng.lognormal(0.0, 1.6, size=n_public)
    young, ramp = _young_growth(rng, plan, popularity, days)
    swing, weekday_factor = _weekly_swing(rng, popularity, young, start, days)
    day_index = np.arange(days)
    reg_day = np.array(plan.reg_day)
    alive = status == ACTIVE
    alive[:, 1:] &= status[:, :-1] == ACTIVE
    alive &= reg_day[:, None] < day_index[None, :]
    # Audiences keep reading a dormant account, just less.
    fading = np.where(dormant_after[:, None] < day_index[None, :], 0.3, 1.0)
    base_weight = popularity[:, None] * fading * alive * ramp
    account_weight = base_weight * weekday_factor
    base_total, weight_total = base_weight.sum(axis=0), account_weight.sum(axis=0)
    volume = np.divide(weight_total, base_total, out=np.ones(days), where=base_total > 0)
    audience_per_day = np.round(rng.multinomial(audience_total, _day_weights(rng, start, days)) * volume)
    follows_per_day = np.round(rng.multinomial(subscription_total, _day_weights(rng, start, days)) * volume)
    share = np.divide(account_weight, weight_total, out=np.zeros_like(account_weight), where=weight_total > 0).T
    expected_follows = share * (FOLLOW_SHARE * follows_per_day)[:, None]

    swinging = set(swing.tolist())
    normal = np.array([i for i in range(n_public) if plan.role[i] == "normal" and i not in swinging], dtype=int)
    # Viral accounts come from the better-read ordinary accounts, so a five-fold rise in reads is plain to see.
    by_popularity = normal[np.argsort(-popularity[normal], kind="stable")]
    viral_pool = by_popularity[: max(1, int(0.4 * by_popularity.size))]
    plants.viral = _plan_viral_days(rng, viral_pool, expected_follows, share * audience_per_day[:, None], size)
    viral_accounts = {viral.account for viral in plants.viral}
    buyer_pool = np.array([i for i in normal.tolist() if i not in viral_accounts], dtype=int)
    _plan_bought_followers(rng, size, buyer_pool, expected_follows, stems, plants)

    accounts = _build_accounts(rng, plan, users, user_snapshot, user_changes, plants, start, extra_accounts)
    in_order = np.lexsort((plants.bought["second"], plants.bought["day"]))
    plants.bought = {name: values[in_order] for name, values in plants.bought.items()}
    farm_first_user = np.array([burst.members[0] if burst.members.size else -1 for burst in plants.bursts], dtype=int)
    bought_user = farm_first_user[plants.bought["farm"]] + plants.bought["member"]
    world = _World(
        size=size,
        start=start,
        time_zone=time_zone,
        accounts=accounts,
        users=users,
        n_public=n_public,
        first_extra=accounts.account_id.size - extra_accounts,
        operator_start=subject_operator_start[subject_index],
        operator_count=operators_per_subject[subject_index],
        operator_ids=operator_ids,
        status=status,
        logins=logins,
        publishes=publishes,
        reg_day=reg_day,
        reg_sec=np.array(plan.reg_sec, dtype=np.int64),
        react_day=react_day,
        react_sec=react_sec,
        account_weight=np.ascontiguousarray(account_weight.T),
        audience_per_day=audience_per_day.astype(np.int64),
        follows_per_day=follows_per_day.astype(np.int64),
        plants=plants,
        bought_user=bought_user,
    )
    return world, plan


def _planted_quota(plan: _PublicPlan, accounts: _Accounts) -> frozenset[str]:
    """Accounts past their subject's limit in registration order, for the subjects built to go over."""
    planted: set[str] = set()
    for name, members in plan.scenario.items():
        if not name.startswith("over_"):
            continue
        limit = QUOTA_LIMITS[plan.subject_type[plan.subject[members[0]]]]
        ordered = sorted(
            members, key=lambda index: (int(accounts.reg_local_sec[index]), str(accounts.account_id[index]))
        )
        planted.update(str(accounts.account_id[index]) for index in ordered[limit:])
    return frozenset(planted)


def _planted_truth(world: _World, plan: _PublicPlan, seed: int, bad_counts: dict[str, int]) -> PlantedTruth:
    """The truth of a generated world, ids sorted."""
    ids, plants, start = world.accounts.account_id, world.plants, world.start

    def day_of(offset: int) -> date:
        return start + timedelta(days=int(offset))

    dormant = [i for i in range(len(plan.subject)) if plan.role[i] == "dormant"]
    purchases = sorted(
        (
            {"account_id": str(ids[buyer]), "date": day_of(day), "follows": int(follows), "farm": farm}
            for buyer, day, farm, follows in plants.purchases
        ),
        key=lambda purchase: (purchase["date"], purchase["account_id"], purchase["farm"]),
    )
    clusters = []
    for burst in plants.bursts:
        day_start = (start - EPOCH).days * SECONDS_PER_DAY + burst.reg_day * SECONDS_PER_DAY
        local, _ = _local_and_utc(day_start + burst.reg_sec[[0, -1]], world.time_zone)
        first, last = np.datetime_as_string(local.astype("datetime64[s]"), unit="s").tolist()
        clusters.append(
            {
                "name": burst.name,
                "kind": burst.kind,
                "shared_keys": list(burst.keys),
                "registration_day": day_of(burst.reg_day),
                "first_registered_at": first,
                "last_registered_at": last,
                "members": sorted(str(ids[index]) for index in burst.members.tolist()),
            }
        )
    clusters.sort(key=lambda cluster: (cluster["registration_day"], cluster["name"]))
    drip = {}
    if plants.drip is not None:
        buyer, first_day, last_day = plants.drip
        drip[str(ids[buyer])] = (day_of(first_day), day_of(last_day))
    return PlantedTruth(
        start=start,
        end=day_of(world.size.days - 1),
        seed=seed,
        dormant_account=frozenset(str(ids[i]) for i in dormant),
        quota_overrun=_planted_quota(plan, world.accounts),
        bad_rows={reason: count for reason, count in bad_counts.items() if count},
        dormant_last_use={str(ids[i]): day_of(plan.last_use[i] or 0) for i in dormant},
        fake_follower_spike=frozenset((str(ids[buyer]), day_of(day)) for buyer, day, _, _ in plants.purchases),
        purchases=purchases,
        fake_follower_drip=drip,
        viral_days=frozenset((str(ids[viral.account]), day_of(viral.day)) for viral in plants.viral),
        batch_registration=frozenset(member for cluster in clusters for member in cluster["members"]),
        batch_clusters=clusters,
        batch_negatives={
            name: sorted(str(ids[index]) for index in indexes.tolist())
            for name, indexes in sorted(plants.negatives.items())
        },
        blacklisted_subject_registration=frozenset(
            (str(ids[index]), day_of(plan.reg_day[index])) for index in plan.scenario.get("barred_return", [])
        ),
        closed_name_reregistration=frozenset(
            (str(ids[index]), day_of(plan.reg_day[index]))
            for index in [*plan.scenario.get("closed_name", [])[1:3], *plan.scenario.get("closed_name_taken", [])]
        ),
        closed_name_negatives=[str(ids[index]) for index in plan.scenario.get("closed_name", [])[3:]],
        common_name_collisions=frozenset(
            (str(ids[index]), day_of(plan.reg_day[index])) for index in plan.scenario.get("common_name", [])
        ),
    )


def _check_landing_is_empty(landing: Path) -> None:
    for table in (ACCOUNTS, SUBSCRIPTIONS, ENGAGEMENT):
        folder = landing / table.name
        if folder.exists() and any(folder.iterdir()):
            raise SyntheticPlatformError(f"{folder} is not empty: generate the synthetic platform into an empty folder")


def generate_platform(
    landing: Path,
    *,
    seed: int,
    start: date,
    size: PlatformSize,
    time_zone: str = "Asia/Shanghai",
    progress: Callable[[int, int], None] | None = None,
) -> PlantedTruth:
    """Write <landing>/<table>/date=YYYY-MM-DD/ files for every day of the period; return (and save) the truth."""
    _validate(size)
    landing = Path(landing)
    _check_landing_is_empty(landing)
    world_rng = np.random.default_rng(np.random.SeedSequence([seed, 0]))
    copies = max(1, min(5, size.events // 400_000))
    snapshot_estimate = int(0.8 * size.users + 0.7 * size.public_accounts)
    account_bad_count = min(len(ACCOUNT_BAD_VARIANTS) * copies, snapshot_estimate // 120)
    world, plan = _build_world(world_rng, size, start, time_zone, account_bad_count)

    use_per_day = world.logins.sum(axis=0) + world.publishes.sum(axis=0)
    expected_rows = {
        "engagement": world.audience_per_day + use_per_day,
        "subscriptions": world.follows_per_day,
    }
    planned_bad = _plan_event_bad_rows(world_rng, expected_rows, copies)
    bad_counts = {reason: 0 for reason in sorted({variant[1] for variant in EVENT_BAD_VARIANTS})}
    bad_counts |= {reason: 0 for reason, _ in ACCOUNT_BAD_VARIANTS}

    factory = _EventFactory(world)
    pending: dict[int, list[tuple[str, _Rows]]] = {}
    earlier_ids: dict[tuple[str, int], list[str]] = {}
    for day in range(size.days):
        rng = np.random.default_rng(np.random.SeedSequence([seed, 1, day]))
        folder_date = start + timedelta(days=day)
        account_rows = np.flatnonzero(world.accounts.row_day == day)
        if account_rows.size:
            accounts = world.accounts
            rows = _account_rows(
                rng,
                world,
                accounts.row_account[account_rows],
                accounts.row_status[account_rows],
                accounts.row_updated[account_rows],
            )
            if day == 0:
                bad_accounts = _bad_account_rows(rng, world, account_bad_count)
                for reason, _ in bad_accounts:
                    bad_counts[reason] += 1
                rows = _insert_rows(rng, rows, [row for _, row in bad_accounts])
            _write_day_files(rng, landing, ACCOUNTS, folder_date, rows)

        engagement, subscriptions = factory.day(rng, day)
        for table, events in ((ENGAGEMENT, engagement), (SUBSCRIPTIONS, subscriptions)):
            lag = np.where(rng.random(len(events)) < LATE_SHARE, rng.integers(1, MAX_LATE_DAYS + 1, len(events)), 0)
            lag[~events.columns["may_be_late"] | (day + lag > size.days - 1)] = 0
            for late_by in np.unique(lag[lag > 0]).tolist():
                pending.setdefault(day + late_by, []).append((table.name, events.take(lag == late_by)))
            arrived_late = [part for name, part in pending.get(day, []) if name == table.name]
            rows = _event_rows(rng, world, table, _Rows.concat([events.take(lag == 0), *arrived_late]), day)
            extra = []
            planned = planned_bad.get((table.name, day))
            if planned is not None:
                bad = _bad_event_row(rng, world, factory, rows, table.name, day, *planned, earlier_ids)
                if bad is not None:
                    extra.append(bad)
                    bad_counts[planned[0]] += 1
            # Keep a few clean on-time ids for later days' reused-id rows.
            reusable = np.flatnonzero(rows.columns["_template"])
            if reusable.size:
                picks = rng.choice(reusable, size=min(3, reusable.size), replace=False)
                earlier_ids[(table.name, day)] = [str(event_id) for event_id in rows.columns["event_id"][picks]]
                rows.columns["_template"][picks] = False
            _write_day_files(rng, landing, table, folder_date, _insert_rows(rng, rows, extra))
        pending.pop(day, None)
        earlier_ids = {key: ids for key, ids in earlier_ids.items() if day - key[1] < REUSE_DAYS_BACK}
        if progress is not None:
            progress(day + 1, size.days)

    truth = _planted_truth(world, plan, seed, bad_counts)
    (landing / TRUTH_FILE).write_text(truth.to_json() + "\n", encoding="utf-8")
    return truth
