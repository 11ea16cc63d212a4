"""The generator's data: the plan of public accounts, the plants, accounts and users as arrays, the world."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

from accountwatch.synthetic.common import ACTIVE
from accountwatch.synthetic.sizes import PlatformSize


@dataclass
class PublicPlan:
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


@dataclass
class Accounts:
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


@dataclass
class Users:
    """Ordinary users as arrays: registration, suspension and closure days, and how active they are."""

    reg_day: np.ndarray
    reg_sec: np.ndarray
    suspended_from: np.ndarray
    suspended_until: np.ndarray
    closed_from: np.ndarray
    # How much a user reads, likes, shares and comments (zero for lurkers), and how readily it follows.
    weight: np.ndarray
    follow_weight: np.ndarray


@dataclass
class Burst:
    """A planted burst of registrations sharing keys: a farm, an idle farm or a batch of public accounts."""

    name: str
    kind: str
    keys: tuple[str, ...]
    reg_day: int
    reg_sec: np.ndarray  # seconds into the registration day, ascending: the members in registration order
    columns: dict[str, np.ndarray]  # registration_ip, device_id, phone and account_name per member
    members: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # account indexes


@dataclass
class Viral:
    """An organic viral day of one public account."""

    account: int
    day: int
    follows: int  # extra follows on top of the usual ones
    audience: int  # extra reads and shares
    from_hour: int


@dataclass
class Plants:
    """The planted cases, as account indexes, days and seconds, and the registration columns they override."""

    overrides: list[tuple[np.ndarray, dict[str, np.ndarray]]] = field(default_factory=list)
    bursts: list[Burst] = field(default_factory=list)
    negatives: dict[str, np.ndarray] = field(default_factory=dict)
    purchases: list[tuple[int, int, str, int]] = field(default_factory=list)  # buyer, day, farm name, follows
    drip: tuple[int, int, int] | None = None  # buyer, first day, last day
    viral: list[Viral] = field(default_factory=list)
    # Bought follows: day, buyer, farm (index into bursts), member (position in the farm), second of the day.
    bought: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class Rows:
    """Rows as named columns of equal length: raw events, or a table-day's text columns and writer helpers."""

    columns: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(next(iter(self.columns.values())))

    def take(self, mask: np.ndarray) -> Rows:
        return Rows({name: values[mask] for name, values in self.columns.items()})

    @staticmethod
    def concat(parts: list[Rows]) -> Rows:
        return Rows({name: np.concatenate([part.columns[name] for part in parts]) for name in parts[0].columns})


@dataclass
class World:
    """Everything generated before the first file is written: accounts, users, activity and plants."""

    size: PlatformSize
    start: date
    time_zone: str
    accounts: Accounts
    users: Users
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
    plants: Plants
    bought_user: np.ndarray  # account index of each bought follow's farm member
