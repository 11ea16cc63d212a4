"""Planted engagement farms: the warmed farm is established by its day, and only its shared phones show it."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date, timedelta

import numpy as np

from accountwatch.synthetic.plants.fake_engagement import FARM, WARM_UP_BEFORE, plant_engagement

START = date(2026, 1, 1)


def test_the_warmed_farm_acts_first_weeks_before_its_purchase_and_buys_from_five_phones(tmp_path):
    cases = plant_engagement(np.random.default_rng(3), tmp_path, START, 150, 1)
    [(account, bought_on)] = [(account, day) for account, day in cases.planted if account.endswith("_warmed")]
    rows = []
    for path in sorted((tmp_path / "engagement").glob("date=*/*.csv")):
        with path.open(encoding="utf-8") as handle:
            rows += [row for row in csv.DictReader(handle) if row["actor_id"].startswith("u_eng_000_w")]
    first_seen: dict[str, date] = {}
    for row in rows:
        day = date.fromisoformat(row["event_ts"][:10])
        first_seen[row["actor_id"]] = min(day, first_seen.get(row["actor_id"], day))
    assert len(first_seen) == FARM
    assert all(21 <= (bought_on - day).days <= WARM_UP_BEFORE for day in first_seen.values())
    per_warm_up_day: dict[date, int] = defaultdict(int)
    for day in first_seen.values():
        per_warm_up_day[day] += 1
    assert max(per_warm_up_day.values()) < 50  # no warm-up day is a candidate day (min_events)
    bought = [row for row in rows if row["event_ts"].startswith(bought_on.isoformat())]
    assert {row["account_id"] for row in rows} == {account}
    assert {row["event_type"] for row in bought} == {"read", "like"} and len(bought) == 2 * FARM
    assert len({row["device_id"] for row in bought}) == 5
    assert bought_on - START >= timedelta(days=WARM_UP_BEFORE + 28)
