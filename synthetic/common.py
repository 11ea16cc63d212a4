"""Time units, account status codes and random helpers every part of the generator shares."""

from __future__ import annotations

import calendar
from datetime import date

import numpy as np

SECONDS_PER_DAY = 86_400
EPOCH = date(1970, 1, 1)
ACTIVE, SUSPENDED, CLOSED, NOT_REGISTERED = 0, 1, 2, -1
NEVER = 10**6


def months_before(day: date, months: int) -> date:
    """The same day of the month `months` calendar months earlier, clamped to the month's last day."""
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def unique_ids(rng: np.random.Generator, prefix: str, digits: int, count: int) -> np.ndarray:
    """`count` distinct ids: `prefix` and a random number of `digits` digits."""
    low = 10 ** (digits - 1)
    numbers = rng.choice(9 * low, size=count, replace=False) + low
    return np.array([f"{prefix}{number}" for number in numbers.tolist()], dtype=object)


def weighted_choice(rng: np.random.Generator, weights: np.ndarray, count: int) -> np.ndarray:
    """`count` indexes into `weights`, each drawn with probability proportional to its weight."""
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    return rng.choice(weights.size, size=count, p=weights / weights.sum())


def random_seconds(rng: np.random.Generator, hour_weights: np.ndarray, count: int) -> np.ndarray:
    """`count` seconds of the day, the hour drawn by `hour_weights` and the second within it uniformly."""
    hours = rng.choice(24, size=count, p=hour_weights / hour_weights.sum())
    return hours * 3600 + rng.integers(0, 3600, size=count)
