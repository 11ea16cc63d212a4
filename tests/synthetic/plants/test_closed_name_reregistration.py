"""Closed names taken again: only the planted look-alikes match, common names are common."""

from __future__ import annotations

import re
from collections import Counter

from tests.synthetic.landed import PLATFORM_ZONE, START, first_rows, instant, latest_accounts


def test_only_the_planted_look_alikes_take_a_closed_or_buying_accounts_name(tiny):
    from accountwatch.jobs.detectors.barred import normalise_name

    latest = latest_accounts(tiny)
    first = first_rows(tiny)
    buyers = {purchase["account_id"] for purchase in tiny.truth.purchases}
    barred = {
        account_id: normalise_name(row["account_name"])
        for account_id, row in latest.items()
        if row["account_type"] == "public" and (row["status"] == "closed" or account_id in buyers)
    }
    fresh = {
        account_id
        for account_id, row in first.items()
        if row["account_type"] == "public" and instant(row["registered_at"]).date() >= START
    }

    def near(a: str, b: str) -> bool:
        return bool(a) and bool(b) and (a == b or _one_edit(a, b))

    matched = {
        account_id
        for account_id in fresh
        for other, name in barred.items()
        if other != account_id and near(normalise_name(latest[account_id]["account_name"]), name)
    }
    planted = {account_id for account_id, _ in tiny.truth.closed_name_reregistration}
    collisions = {account_id for account_id, _ in tiny.truth.common_name_collisions}
    assert len(planted) == 5 and len(collisions) == 6 and not planted & collisions
    assert matched == planted | collisions
    [negative] = tiny.truth.closed_name_negatives
    assert negative in fresh and negative not in matched


def test_common_name_collisions_are_handles_with_a_counter_or_names_other_live_accounts_bear(tiny):
    from accountwatch.jobs.detectors.barred import normalise_name

    latest = latest_accounts(tiny)
    public = {account_id: row for account_id, row in latest.items() if row["account_type"] == "public"}
    closed = {account_id: row for account_id, row in public.items() if row["status"] == "closed"}

    def near(a: str, b: str) -> bool:
        return bool(a) and bool(b) and (a == b or _one_edit(a, b))

    def namesake_subjects(name: str, *subjects: str) -> set[str]:
        """Subjects of live accounts registered before the period that bear `name` or one an edit away."""
        return {
            row["subject_id"]
            for row in public.values()
            if row["status"] != "closed"
            and instant(row["registered_at"]).date() < START
            and row["subject_id"] not in subjects
            and near(normalise_name(row["account_name"]), normalise_name(name))
        }

    def closed_match(account_id: str) -> dict:
        name = normalise_name(public[account_id]["account_name"])
        [row] = [row for other, row in closed.items() if near(name, normalise_name(row["account_name"]))]
        return row

    handle = re.compile(r"^[a-z]{1,8}[0-9]+$")
    kinds = Counter()
    for account_id, day in tiny.truth.common_name_collisions:
        row, source = public[account_id], closed_match(account_id)
        assert instant(row["registered_at"]).astimezone(PLATFORM_ZONE).date() == day
        assert row["subject_id"] != source["subject_id"]
        is_handle = bool(handle.match(row["account_name"])) and len(normalise_name(source["account_name"])) <= 8
        crowded = len(namesake_subjects(source["account_name"], row["subject_id"], source["subject_id"])) >= 2
        assert is_handle or crowded, row["account_name"]
        kinds[(is_handle, crowded)] += 1
    # Handles alone, crowded names alone, and a handle that is crowded too.
    assert set(kinds) == {(True, False), (False, True), (True, True)}
    kinds.clear()
    for account_id, _ in tiny.truth.closed_name_reregistration:
        row, source = public[account_id], closed_match(account_id)
        same_subject = row["subject_id"] == source["subject_id"]
        rare = len(namesake_subjects(source["account_name"], row["subject_id"], source["subject_id"])) < 2
        assert same_subject or (rare and not handle.match(row["account_name"])), row["account_name"]
        kinds[same_subject] += 1
    assert kinds == {True: 1, False: 4}


def _one_edit(a: str, b: str) -> bool:
    from accountwatch.synthetic.plants.closed_name_reregistration import _edits_within_one

    return _edits_within_one(a, b)
