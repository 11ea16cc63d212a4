"""Planted quota overruns: exactly the accounts beyond their subject's limit."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from accountwatch.synthetic import QUOTA_LIMITS
from tests.synthetic.landed import PLATFORM_ZONE, instant, latest_accounts


def _live_public_accounts_by_subject(latest: dict[str, dict]) -> dict[str, list[dict]]:
    by_subject: dict[str, list[dict]] = defaultdict(list)
    for row in latest.values():
        if row["account_type"] == "public" and row["status"] != "closed":
            by_subject[row["subject_id"]].append(row)
    for rows in by_subject.values():
        rows.sort(key=lambda row: (instant(row["registered_at"]), row["account_id"]))
    return by_subject


def test_planted_quota_accounts_take_their_subject_past_its_limit(tiny):
    latest = latest_accounts(tiny)
    by_subject = _live_public_accounts_by_subject(latest)
    assert tiny.truth.quota_overrun
    for account_id in tiny.truth.quota_overrun:
        subject = latest[account_id]["subject_id"]
        limit = QUOTA_LIMITS[latest[account_id]["subject_type"]]
        ranked = [row["account_id"] for row in by_subject[subject]]
        assert len(ranked) > limit
        assert ranked.index(account_id) >= limit


def test_no_unplanted_account_is_beyond_its_subjects_limit_at_the_end(tiny):
    by_subject = _live_public_accounts_by_subject(latest_accounts(tiny))
    beyond = {
        row["account_id"] for rows in by_subject.values() for row in rows[QUOTA_LIMITS[rows[0]["subject_type"]] :]
    }
    assert beyond == set(tiny.truth.quota_overrun)


def test_quota_cases_include_a_registration_tie_and_accounts_from_before_and_during_the_period(tiny):
    latest = latest_accounts(tiny)
    registered = {account_id: instant(latest[account_id]["registered_at"]) for account_id in tiny.truth.quota_overrun}
    start_instant = datetime.combine(tiny.truth.start, datetime.min.time(), PLATFORM_ZONE)
    assert any(moment < start_instant for moment in registered.values())
    assert any(moment >= start_instant for moment in registered.values())
    tie_partners = [
        (row["account_id"], planted)
        for row in latest.values()
        for planted, moment in registered.items()
        if row["account_id"] != planted
        and row["subject_id"] == latest[planted]["subject_id"]
        and instant(row["registered_at"]) == moment
    ]
    # Within a tie the smaller account id registered first, so only the larger one is beyond the limit.
    assert tie_partners
    assert all(partner < planted and partner not in tiny.truth.quota_overrun for partner, planted in tie_partners)
