"""Organic look-alikes no detector may flag: young accounts growing fast, weekend swings, viral days, a campus."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from accountwatch.synthetic.plants.fake_follower_spike import BASELINE_DAYS, MIN_SPIKE_PLATFORM_DAYS, PLANT_FROM_DAY
from accountwatch.synthetic.sizes import PlatformSize
from accountwatch.synthetic.world import PublicPlan, Viral

SWING_SHARE = 0.05


def plan_campus(rng: np.random.Generator, size: PlatformSize) -> tuple[np.ndarray, np.ndarray]:
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


def young_growth(
    rng: np.random.Generator, plan: PublicPlan, popularity: np.ndarray, days: int
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


def weekly_swing(
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


def plan_viral_days(
    rng: np.random.Generator,
    candidates: np.ndarray,
    expected_follows: np.ndarray,
    expected_audience: np.ndarray,
    size: PlatformSize,
) -> list[Viral]:
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
        viral.append(Viral(account, day, follows, audience, int(rng.integers(7, 13))))
    return viral
