"""Subjects, public accounts and users: who registers when, their statuses and when operators act."""

from __future__ import annotations

from datetime import date

import numpy as np

from accountwatch.synthetic.common import (
    ACTIVE,
    CLOSED,
    EPOCH,
    NEVER,
    NOT_REGISTERED,
    SECONDS_PER_DAY,
    SUSPENDED,
    unique_ids,
)
from accountwatch.synthetic.identity import (
    CATEGORIES,
    SUBJECT_TYPE_SHARE,
    contact_columns,
    public_name,
    random_devices,
    random_ipv4,
    user_name,
)
from accountwatch.synthetic.plants.batch_registration import PUBLIC_BURSTS
from accountwatch.synthetic.plants.closed_name_reregistration import settle_public_names
from accountwatch.synthetic.plants.dormant_account import SILENT_ROLES, SilentAccounts
from accountwatch.synthetic.plants.lookalikes import plan_campus
from accountwatch.synthetic.sizes import PlatformSize
from accountwatch.synthetic.world import Accounts, Plants, PublicPlan, Users

# Normal accounts are forced to be used at least this often, well inside the 45-day maximum gap.
USE_PERIOD_DAYS = 30
LURKER_SHARE = 0.15


def plan_regular_public(rng: np.random.Generator, plan: PublicPlan, size: PlatformSize, start: date, end: date) -> None:
    """Ordinary subjects within their limits, their accounts given roles: normal, new, dormant and other silent ones."""
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

    silent = SilentAccounts(start, end, days)
    roles = silent.roles(size.public_accounts) + ["new_normal"] * round(0.12 * size.public_accounts)
    roles = (roles + ["normal"] * max(0, wanted - len(roles)))[:wanted]
    order = rng.permutation(len(roles))
    for subject, role in zip(account_subjects, [roles[i] for i in order], strict=True):
        reg_sec = int(rng.integers(8 * 3600, 20 * 3600))
        change_sec = int(rng.integers(9 * 3600, 18 * 3600))
        if role in SILENT_ROLES:
            silent.add(rng, plan, subject, role, reg_sec, change_sec)
        elif role == "new_normal":
            plan.add(subject, int(rng.integers(1, days)), reg_sec, role, days=days)
        else:
            plan.add(subject, int(rng.integers(-1095, -1)), reg_sec, role, days=days)


# Long: one pass over the users drawing each one's history in a fixed order (the seed's random stream).
def plan_users(
    rng: np.random.Generator, size: PlatformSize, first_index: int, plants: Plants
) -> tuple[Users, np.ndarray, list[tuple]]:
    """Ordinary users' registration and status history; returns the plan, snapshot statuses and change rows.

    The size's users come first, then the campus gateway's sign-ups; `first_index` is the first user's account index.
    """
    days, ordinary = size.days, size.users
    campus_day, campus_sec = plan_campus(rng, size)
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
                "registration_ip": np.full(campus.size, random_ipv4(rng), dtype=object),
                "device_id": random_devices(rng, campus.size),
            },
        )
    )
    plants.overrides.append((first_index + family, {"device_id": np.repeat(random_devices(rng, 1), family.size)}))

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
    users = Users(reg_day, reg_sec, suspended_from, suspended_until, closed_from, weight, follow_weight)
    return users, snapshot, changes


# Long: assembles every account column from the plan in one place, in the order the random stream needs.
def build_accounts(
    rng: np.random.Generator,
    plan: PublicPlan,
    users: Users,
    user_snapshot: np.ndarray,
    user_changes: list[tuple],
    plants: Plants,
    start: date,
    extra_accounts: int,
) -> Accounts:
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
    public_ids = unique_ids(rng, "pa", 7, n_public)
    user_ids = unique_ids(rng, "u", 8, all_users + extra_accounts)
    subject_ids = unique_ids(rng, "sb", 7, len(plan.subject_type) + extra_accounts)
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
        [public_name(rng) for _ in range(n_public)]
        + [user_name(rng) for _ in range(n_users)]
        + [None] * n_farm
        + [user_name(rng) for _ in range(extra_accounts)]
    )
    ips, devices, phones = contact_columns(rng, total)
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
    accounts = Accounts(
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
    settle_public_names(accounts.account_name, plan, plants)
    return accounts


def status_matrix(plan: PublicPlan, days: int) -> np.ndarray:
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


def use_matrix(rng: np.random.Generator, plan: PublicPlan, status: np.ndarray) -> np.ndarray:
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
