"""settle's barring step and the findings the blacklist rules count, on literal frames (no lake)."""

from __future__ import annotations

import json
from datetime import date, datetime

from accountwatch.jobs.detectors.base import BarringInputs
from accountwatch.jobs.standing.settle import barring_findings, counts_toward_blacklist
from accountwatch.schemas.findings import FINDINGS
from accountwatch.schemas.standing import BLACKLIST

RUN_DAY = date(2026, 3, 10)
FRESH = "run_date date, account_id string, subject_id string, account_name string, registered_at timestamp"
SNAPSHOTS = (
    "run_date date, account_id string, account_name string, subject_id string, status string, registered_at timestamp"
)
CANDIDATES = "detector string, account_id string, subject_id string"


def listing(entry_id: str, entity_type: str, entity_id: str, listed_on: date) -> tuple:
    values = {
        "entry_id": entry_id,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "subject_id": entity_id if entity_type == "subject" else None,
        "rules": ["confirmed_high_severity"],
        "reason": "a high-severity finding confirmed by an analyst",
        "finding_ids": ["f_" + entry_id],
        "listed_on": listed_on,
        "rule_version": "blacklist/1",
        "status": "active",
        "changed_by": "accountwatch",
        "changed_at": datetime(listed_on.year, listed_on.month, listed_on.day, 3),
        "change_reason": "listed by blacklist/1",
        "is_current": True,
    }
    return tuple(values.get(name) for name in BLACKLIST.fieldNames())


def barring_inputs(spark, settings) -> BarringInputs:
    fresh = spark.createDataFrame(
        [
            (RUN_DAY, "pa_back", "s_bad", "Fresh Start", datetime(2026, 3, 10, 9)),
            (RUN_DAY, "pa_copy", "s_new", "Daily News 2", datetime(2026, 3, 10, 10)),
            (RUN_DAY, "pa_clean", "s_clean", "Garden Life", datetime(2026, 3, 10, 11)),
        ],
        FRESH,
    )
    snapshots = spark.createDataFrame(
        [
            (RUN_DAY, "pa_old", "Daily News", "s_old", "closed", datetime(2024, 5, 1)),
            (RUN_DAY, "pa_live", "Garden Life Club", "s_live", "active", datetime(2024, 5, 1)),
        ],
        SNAPSHOTS,
    )
    listed = spark.createDataFrame([listing("e_bad", "subject", "s_bad", date(2026, 1, 5))], BLACKLIST)
    return BarringInputs(fresh, listed, snapshots, settings)


def test_barring_step_flags_a_listed_subjects_return_and_a_closed_name_taken_again_as_findings(spark, settings):
    found = barring_findings(barring_inputs(spark, settings))
    assert found.schema.fieldNames() == FINDINGS.fieldNames()
    rows = {row["detector"]: row for row in found.collect()}
    assert sorted(rows) == ["blacklisted_subject_registration", "closed_name_reregistration"]
    returned, renamed = rows["blacklisted_subject_registration"], rows["closed_name_reregistration"]
    assert (returned["account_id"], returned["subject_id"], returned["severity"]) == ("pa_back", "s_bad", "high")
    assert returned["rule_version"] == "blacklisted_subject_registration/1"
    assert json.loads(returned["evidence"])["blacklist_entries"][0]["entry_id"] == "e_bad"
    assert (renamed["account_id"], renamed["severity"]) == ("pa_copy", "high")
    assert [match["account_id"] for match in json.loads(renamed["evidence"])["matches"]] == ["pa_old"]
    assert {row["recommended_action"] for row in rows.values()} == {"bar_re_registration"}
    assert len({row["finding_id"] for row in rows.values()}) == 2


def test_barring_step_flags_nothing_without_a_listed_subject_or_a_barred_name(spark, settings):
    inputs = barring_inputs(spark, settings)
    clean = BarringInputs(
        inputs.fresh.where("account_id = 'pa_clean'"),
        inputs.listed,
        inputs.snapshots.where("status <> 'closed'"),
        settings,
    )
    assert barring_findings(clean).count() == 0


def test_spikes_count_toward_the_blacklist_and_bursts_and_overruns_only_with_a_subject(spark):
    candidates = spark.createDataFrame(
        [
            ("fake_follower_spike", "pa_spike", None),
            ("batch_registration", "u_burst", None),
            ("batch_registration", "pa_burst", "s_1"),
            ("quota_overrun", "pa_over", "s_1"),
            ("quota_overrun", "pa_orphan", None),
            ("dormant_account", "pa_silent", "s_1"),
            ("closed_name_reregistration", "pa_copy", "s_2"),
        ],
        CANDIDATES,
    )
    counted = sorted(row["account_id"] for row in candidates.where(counts_toward_blacklist()).collect())
    assert counted == ["pa_burst", "pa_over", "pa_spike"]
