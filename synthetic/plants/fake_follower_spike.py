"""Planted fake_follower_spike cases: farms of young accounts selling follows to buyers, and a slow drip."""

from __future__ import annotations

import numpy as np

from accountwatch.synthetic.plants.batch_registration import StemPool, burst_columns, burst_seconds, pick_shared_keys
from accountwatch.synthetic.sizes import PlatformSize
from accountwatch.synthetic.world import Burst, Plants

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


def _farm_size(rng: np.random.Generator, size: PlatformSize) -> int:
    if size.users >= 10_000:
        return int(np.clip(rng.lognormal(np.log(250), 0.7), 60, 900))
    if size.users >= 2_000:
        return int(np.clip(rng.lognormal(np.log(120), 0.6), 50, 500))
    return int(rng.integers(45, 91))


def _add_farm(
    rng: np.random.Generator, plants: Plants, stems: StemPool, name: str, kind: str, reg_day: int, count: int
) -> int:
    keys = pick_shared_keys(rng)
    seconds = burst_seconds(rng, count)
    plants.bursts.append(
        Burst(name, kind, keys, reg_day, seconds, burst_columns(rng, count, keys, stems, public=False))
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
    stems: StemPool,
    plants: Plants,
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
    rng: np.random.Generator, days: int, buyer: int, stems: StemPool, plants: Plants
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


def plan_bought_followers(
    rng: np.random.Generator,
    size: PlatformSize,
    candidates: np.ndarray,
    expected_follows: np.ndarray,
    stems: StemPool,
    plants: Plants,
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
