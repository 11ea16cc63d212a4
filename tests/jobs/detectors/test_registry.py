"""The detector registry: one entry per detector, each complete, consistent with the configuration and schema."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from datetime import date, datetime

import pytest

from accountwatch.jobs.core.config import DEFAULTS_FILE
from accountwatch.jobs.core.lake import TABLES
from accountwatch.jobs.detectors import registry
from accountwatch.jobs.detectors.base import FindingView, RawRows
from accountwatch.schemas.findings import DETECTORS as SCHEMA_DETECTORS
from accountwatch.schemas.findings import SEVERITIES
from accountwatch.schemas.standing import ACTIONS

DEFAULTS = tomllib.loads(DEFAULTS_FILE.read_text())
DAY = date(2026, 3, 10)


def view(detector: str, evidence: dict, account: str = "pa_1", group: tuple[str, ...] = (), settings=None):
    return FindingView("f_1", DAY, account, evidence, group or (account,), settings)


def test_detector_names_are_unique_and_the_findings_schema_lists_exactly_them_in_order():
    names = registry.names()
    assert len(set(names)) == len(names) == 9
    assert names == SCHEMA_DETECTORS


def test_get_returns_the_entry_and_an_unknown_name_is_refused_naming_the_known_ones():
    assert registry.get("dormant_account").name == "dormant_account"
    with pytest.raises(registry.UnknownDetectorError) as refused:
        registry.get("fake_engagment")
    assert str(refused.value).startswith("unknown detector 'fake_engagment' (expected one of fake_follower_spike, ")


@pytest.mark.parametrize("detector", registry.DETECTORS, ids=registry.names())
def test_every_detector_has_a_sentence_severities_and_an_action_per_severity(detector, settings):
    assert detector.sentence({}) and isinstance(detector.sentence({}), str)
    assert detector.severities and set(detector.severities) <= set(SEVERITIES)
    actions = detector.actions(settings)
    assert set(actions) == set(SEVERITIES) and set(actions.values()) <= set(ACTIONS)


@pytest.mark.parametrize("detector", registry.DETECTORS, ids=registry.names())
def test_every_detector_section_and_rule_version_come_from_defaults(detector, settings):
    assert detector.section in DEFAULTS
    assert detector.section in DEFAULTS["recommended_actions"]
    assert detector.rule_version(settings) == DEFAULTS[detector.section]["rule_version"]


def test_the_configuration_has_no_detector_section_the_registry_lacks():
    sections = {name for name, value in DEFAULTS.items() if isinstance(value, dict) and "rule_version" in value}
    detector_sections = sections - {"credit_tiers", "blacklist"}
    assert detector_sections == {detector.section for detector in registry.DETECTORS}
    assert set(DEFAULTS["recommended_actions"]) == {detector.section for detector in registry.DETECTORS}


@pytest.mark.parametrize("detector", registry.DETECTORS, ids=registry.names())
def test_every_detector_reads_lake_tables_and_judges_in_exactly_its_phase(detector):
    assert detector.reads and set(detector.reads) <= set(TABLES)
    if detector.phase == "after_blacklist":
        assert detector.bar is not None and detector.blacklist_role is None
    else:
        assert (detector.spell is None) != (detector.find is None)
    assert set(detector.needs) <= set(registry.names())


def test_the_barring_detectors_are_judged_after_the_blacklist_and_the_others_before():
    assert [d.name for d in registry.in_phase("after_blacklist")] == [
        "blacklisted_subject_registration",
        "closed_name_reregistration",
    ]
    before = [d.name for d in registry.in_phase("before_blacklist")]
    assert sorted(before) == [
        "account_hoarding",
        "batch_registration",
        "dormant_account",
        "fake_engagement",
        "fake_follower_spike",
        "quota_overrun",
        "unapproved_transfer",
    ]
    # The spike detector reads the run's bursts, so they are judged first.
    assert before.index("batch_registration") < before.index("fake_follower_spike")


def test_only_spikes_overruns_and_bursts_count_toward_the_blacklist():
    counting = {d.name: d.blacklist_role for d in registry.DETECTORS if d.counts_toward_blacklist}
    assert sorted(counting) == ["batch_registration", "fake_follower_spike", "quota_overrun"]
    assert not counting["fake_follower_spike"].per_subject
    assert counting["quota_overrun"].per_subject and counting["batch_registration"].per_subject


def test_a_detector_with_two_ways_to_judge_or_a_bar_before_the_blacklist_is_refused():
    dormant = registry.get("dormant_account")
    with pytest.raises(ValueError, match="dormant_account"):
        replace(dormant, find=registry.get("batch_registration").find)
    with pytest.raises(ValueError, match="dormant_account"):
        replace(dormant, spell=None, bar=registry.get("closed_name_reregistration").bar)


def test_sentences_read_the_evidence():
    quota = registry.get("quota_overrun").sentence(
        {"rank": 3, "subject_id": "s_1", "subject_type": "individual", "limit": 2}
    )
    assert quota == "public account 3 of subject s_1 (individual, limit 2)"
    barred = registry.get("blacklisted_subject_registration").sentence(
        {"subject_id": "s_bad", "blacklist_entries": [{"listed_on": "2026-01-05"}, {"listed_on": "2026-03-09"}]}
    )
    assert barred == "registered by subject s_bad, blacklisted on 2026-01-05, 2026-03-09"
    dormant = registry.get("dormant_account").sentence(
        {"months": 6, "cutoff": "2026-03-01T00:00:00+08:00", "last_login_at": None, "last_publish_at": "2025-12-01"}
    )
    assert dormant.endswith("last login never, last publish 2025-12-01 (latest use: 2025-12-01)")


def test_raw_rows_name_the_rows_each_finding_needs(settings):
    burst = registry.get("batch_registration").raw_rows(view("batch_registration", {}, group=("pa_1", "pa_2")))
    assert burst == RawRows(registrations=(("pa_1", date(2026, 3, 9), DAY), ("pa_2", date(2026, 3, 9), DAY)))
    spike = registry.get("fake_follower_spike").raw_rows(view("fake_follower_spike", {}))
    assert spike == RawRows(follows=(("pa_1", DAY),))
    dormant = registry.get("dormant_account").raw_rows(
        view("dormant_account", {"last_login_at": "2025-08-01T09:00:00+08:00", "last_publish_at": None})
    )
    assert [use[:2] for use in dormant.uses] == [("pa_1", "login")]
    assert dormant.uses[0][2] == datetime.fromisoformat("2025-08-01T09:00:00+08:00")
    assert dormant.accounts == (("account_id", "pa_1"),)
    names = registry.get("closed_name_reregistration").raw_rows(
        view("closed_name_reregistration", {"matches": [{"account_id": "pa_old"}]}, settings=settings)
    )
    assert names.registrations == (("pa_1", date(2026, 3, 2), DAY),)
    assert names.accounts == (("account_id", "pa_old"),)
