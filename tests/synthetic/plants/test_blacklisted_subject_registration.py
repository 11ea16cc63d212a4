"""A planted subject batch past its quota, and the subject's later registration."""

from __future__ import annotations

from tests.synthetic.landed import latest_accounts


def test_a_subject_batch_goes_past_its_quota_and_its_subject_registers_again_later(tiny):
    latest = latest_accounts(tiny)
    [cluster] = [cluster for cluster in tiny.truth.batch_clusters if cluster["kind"] == "subject_batch"]
    subjects = {latest[member]["subject_id"] for member in cluster["members"]}
    assert len(subjects) == 1 and len(cluster["members"]) > 2
    [(returned, day)] = tiny.truth.blacklisted_subject_registration
    assert latest[returned]["subject_id"] in subjects and returned not in cluster["members"]
    assert day > cluster["registration_day"]
    # An individual may keep two public accounts: every other member, and the return, is over quota.
    assert len(set(cluster["members"]) & tiny.truth.quota_overrun) == len(cluster["members"]) - 2
    assert returned in tiny.truth.quota_overrun
