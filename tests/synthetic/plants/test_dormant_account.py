"""Planted dormant accounts, and silent accounts that are not dormant."""

from __future__ import annotations

from datetime import date, timedelta

from accountwatch.synthetic import months_before
from tests.synthetic.landed import PLATFORM_ZONE, instant, latest_accounts, use_days


def test_planted_dormant_accounts_stop_operating_after_last_use_and_stay_active(tiny):
    truth = tiny.truth
    latest = latest_accounts(tiny)
    uses = use_days(tiny)
    assert len(truth.dormant_account) >= 2
    assert set(truth.dormant_last_use) == set(truth.dormant_account)
    assert any(last < truth.start for last in truth.dormant_last_use.values())
    assert any(last >= truth.start for last in truth.dormant_last_use.values())
    for account_id in truth.dormant_account:
        last_use = truth.dormant_last_use[account_id]
        assert truth.start - timedelta(days=400) <= last_use <= months_before(truth.end, 6) - timedelta(days=5)
        assert all(day <= last_use for day in uses.get(account_id, []))
        if last_use >= truth.start:
            assert max(uses[account_id]) == last_use
        assert latest[account_id]["status"] == "active"
        assert instant(latest[account_id]["registered_at"]).date() < last_use
        statuses = {row["status"] for row in tiny.rows["accounts"] if row["account_id"] == account_id}
        assert statuses == {"active"}


def test_silent_negatives_exist_but_are_not_planted_as_dormant(tiny):
    latest = latest_accounts(tiny)
    uses = use_days(tiny)
    six_months_before_end = months_before(tiny.truth.end, 6)
    silent = [
        row
        for account_id, row in latest.items()
        if row["account_type"] == "public" and max(uses.get(account_id, [date.min])) < six_months_before_end
    ]
    unplanted = [row for row in silent if row["account_id"] not in tiny.truth.dormant_account]
    assert {row["status"] for row in unplanted} >= {"suspended", "closed", "active"}
    for row in unplanted:
        if row["status"] == "active":
            assert instant(row["registered_at"]).astimezone(PLATFORM_ZONE).date() > six_months_before_end
