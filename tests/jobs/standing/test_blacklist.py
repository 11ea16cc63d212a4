"""The blacklist rules, lifts and dismissals, on plain findings (no Spark)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from accountwatch.jobs.core.config import BlacklistRules
from accountwatch.jobs.core.pii import PHONE_MASK
from accountwatch.jobs.standing.blacklist import Entry, Finding, lifted, plan

RULES = BlacklistRules()
NOW = datetime(2026, 3, 10, 2, 0)
DAY = date(2026, 3, 1)


def finding(finding_id: str, detector: str, account: str, on: date, severity: str = "medium", subject="s_1"):
    return Finding(finding_id, on, detector, account, subject, severity)


def spike(finding_id: str, account: str, on: date, subject: str = "s_1") -> Finding:
    return finding(finding_id, "fake_follower_spike", account, on, subject=subject)


def days(first: date, count: int) -> list[date]:
    return [first + timedelta(days=n) for n in range(count)]


def listings(rows: list[Entry]) -> dict[tuple[str, str], Entry]:
    return {row.key: row for row in rows if row.status == "active" and row.is_current}


def test_an_account_with_two_spikes_within_90_days_is_listed_on_the_second_spike_day():
    second = DAY + timedelta(days=89)
    rows = plan(days(DAY, 100), [spike("f1", "pa_1", DAY), spike("f2", "pa_1", second)], set(), set(), [], RULES, NOW)
    entry = listings(rows)[("account", "pa_1")]
    assert entry.listed_on == second
    assert entry.finding_ids == ("f1", "f2")
    assert entry.rules == ("repeated_fake_follower_spikes",)
    assert entry.subject_id == "s_1" and entry.changed_by == "accountwatch"


def test_two_spikes_90_days_apart_list_nothing():
    rows = plan(
        days(DAY, 100),
        [spike("f1", "pa_1", DAY), spike("f2", "pa_1", DAY + timedelta(days=90))],
        set(),
        set(),
        [],
        RULES,
        NOW,
    )
    assert rows == []


def test_one_spike_lists_nothing_and_neither_do_spikes_on_two_accounts():
    rows = plan(days(DAY, 5), [spike("f1", "pa_1", DAY), spike("f2", "pa_2", DAY)], set(), set(), [], RULES, NOW)
    assert rows == []


def test_a_confirmed_high_severity_finding_lists_its_account():
    high = finding("f1", "quota_overrun", "pa_1", DAY, severity="high")
    rows = plan([DAY], [high], set(), {"f1"}, [], RULES, NOW)
    assert listings(rows)[("account", "pa_1")].rules == ("confirmed_high_severity",)


def test_an_unconfirmed_high_finding_or_a_confirmed_medium_one_lists_nothing():
    high = finding("f1", "quota_overrun", "pa_1", DAY, severity="high")
    medium = finding("f2", "quota_overrun", "pa_2", DAY, severity="medium")
    assert plan([DAY], [high, medium], set(), {"f2"}, [], RULES, NOW) == []


def test_a_subject_with_two_blacklisted_accounts_is_listed():
    found = [spike("a1", "pa_1", DAY), spike("a2", "pa_1", DAY), spike("b1", "pa_2", DAY), spike("b2", "pa_2", DAY)]
    rows = listings(plan([DAY], found, set(), set(), [], RULES, NOW))
    subject = rows[("subject", "s_1")]
    assert subject.rules == ("blacklisted_accounts",)
    assert subject.finding_ids == ("a1", "a2", "b1", "b2")
    assert subject.subject_id == "s_1"


def test_a_subject_with_one_blacklisted_account_is_not_listed():
    found = [spike("a1", "pa_1", DAY), spike("a2", "pa_1", DAY), spike("b1", "pa_2", DAY)]
    assert ("subject", "s_1") not in listings(plan([DAY], found, set(), set(), [], RULES, NOW))


def test_a_subject_with_a_quota_overrun_and_batch_registered_accounts_is_listed():
    found = [
        finding("q1", "quota_overrun", "pa_3", DAY),
        finding("b1", "batch_registration", "pa_4", DAY + timedelta(days=30)),
    ]
    rows = listings(plan(days(DAY, 31), found, set(), set(), [], RULES, NOW))
    subject = rows[("subject", "s_1")]
    assert subject.listed_on == DAY + timedelta(days=30)
    assert subject.rules == ("quota_overrun_with_batch_registration",)
    assert subject.finding_ids == ("b1", "q1")


def test_a_quota_overrun_alone_or_batch_accounts_of_another_subject_list_nothing():
    found = [
        finding("q1", "quota_overrun", "pa_3", DAY),
        finding("b1", "batch_registration", "pa_9", DAY, subject="s_other"),
        finding("b2", "batch_registration", "pa_8", DAY + timedelta(days=90)),
    ]
    assert plan(days(DAY, 91), found, set(), set(), [], RULES, NOW) == []


def test_the_listing_reason_names_the_detector_whose_findings_repeat():
    rows = listings(plan([DAY], [spike("f1", "pa_1", DAY), spike("f2", "pa_1", DAY)], set(), set(), [], RULES, NOW))
    assert rows[("account", "pa_1")].reason == "2 fake_follower_spike findings within 90 days"


def test_findings_of_detectors_without_a_blacklist_role_list_nothing_however_many():
    found = [
        finding(f"{detector}_{n}", detector, "pa_1", DAY)
        for detector in ("dormant_account", "closed_name_reregistration", "blacklisted_subject_registration")
        for n in range(3)
    ]
    assert plan([DAY], found, set(), set(), [], RULES, NOW) == []


def test_an_overrun_and_a_burst_without_a_subject_list_nothing():
    found = [
        finding("q1", "quota_overrun", "pa_3", DAY, subject=None),
        finding("b1", "batch_registration", "u_4", DAY, subject=None),
    ]
    assert plan([DAY], found, set(), set(), [], RULES, NOW) == []


def test_dismissed_findings_do_not_count():
    found = [spike("f1", "pa_1", DAY), spike("f2", "pa_1", DAY)]
    assert plan([DAY], found, {"f2"}, set(), [], RULES, NOW) == []


def test_an_active_entry_citing_a_dismissed_finding_is_lifted_by_the_run():
    [entry] = plan([DAY], [spike("f1", "pa_1", DAY), spike("f2", "pa_1", DAY)], set(), set(), [], RULES, NOW)
    later = DAY + timedelta(days=1)
    rows = plan([later], [spike("f1", "pa_1", DAY), spike("f2", "pa_1", DAY)], {"f1"}, set(), [entry], RULES, NOW)
    closed, lift = rows
    assert closed.entry_id == lift.entry_id == entry.entry_id
    assert (closed.status, closed.is_current) == ("active", False)
    assert (lift.status, lift.is_current, lift.changed_by) == ("lifted", True, "accountwatch")
    assert "f1" in lift.change_reason and "dismissed" in lift.change_reason


def test_after_a_dismissal_the_remaining_findings_list_the_account_again_without_it():
    found = [spike("f1", "pa_1", DAY), spike("f2", "pa_1", DAY), spike("f3", "pa_1", DAY)]
    [entry] = plan([DAY], found[:2], set(), set(), [], RULES, NOW)
    later = DAY + timedelta(days=1)
    closed, lift, relisted = plan([later], found, {"f1"}, set(), [entry], RULES, NOW)
    assert lift.status == "lifted" and relisted.status == "active"
    assert relisted.finding_ids == ("f2", "f3") and relisted.listed_on == later


def test_an_account_already_listed_is_not_listed_twice():
    found = [spike("f1", "pa_1", DAY), spike("f2", "pa_1", DAY), spike("f3", "pa_1", DAY + timedelta(days=1))]
    [entry] = plan([DAY], found[:2], set(), set(), [], RULES, NOW)
    assert plan([DAY + timedelta(days=1)], found, set(), set(), [entry], RULES, NOW) == []


def test_a_lifted_entry_is_not_relisted_on_the_evidence_it_covered_but_is_on_later_findings():
    found = [spike("f1", "pa_1", DAY), spike("f2", "pa_1", DAY)]
    [entry] = plan([DAY], found, set(), set(), [], RULES, NOW)
    _, lift = lifted(entry, "analyst", NOW, "appeal upheld", covers_through=DAY)
    later = DAY + timedelta(days=1)
    assert plan([later], found, set(), set(), [lift], RULES, NOW) == []
    fresh = [*found, spike("f3", "pa_1", later)]
    [relisted] = plan([later], fresh, set(), set(), [lift], RULES, NOW)
    assert relisted.finding_ids == ("f1", "f2", "f3")
    assert relisted.entry_id != entry.entry_id


def test_lifting_closes_the_listing_and_records_who_and_why():
    [entry] = plan([DAY], [spike("f1", "pa_1", DAY), spike("f2", "pa_1", DAY)], set(), set(), [], RULES, NOW)
    closed, lift = lifted(entry, "li.wei", NOW, "appeal upheld")
    assert closed == Entry(**{**entry.__dict__, "is_current": False})
    assert (lift.changed_by, lift.change_reason, lift.status) == ("li.wei", "appeal upheld", "lifted")
    assert lift.listed_on == entry.listed_on and lift.finding_ids == entry.finding_ids


def test_a_phone_number_typed_into_a_lift_reason_is_stored_masked():
    [entry] = plan([DAY], [spike("f1", "pa_1", DAY), spike("f2", "pa_1", DAY)], set(), set(), [], RULES, NOW)
    _, lift = lifted(entry, "li.wei", NOW, "owner called from 138 1111 0007, appeal upheld")
    assert lift.change_reason == f"owner called from {PHONE_MASK}, appeal upheld"


@pytest.mark.parametrize("window", [30, 90])
def test_the_spike_window_comes_from_the_rules(window):
    rules = BlacklistRules(spike_window_days=window)
    found = [spike("f1", "pa_1", DAY), spike("f2", "pa_1", DAY + timedelta(days=45))]
    rows = plan(days(DAY, 46), found, set(), set(), [], rules, NOW)
    assert bool(rows) is (window == 90)
