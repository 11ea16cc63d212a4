"""The sentence an evidence bundle's summary gives for a finding."""

from __future__ import annotations

from accountwatch.jobs.outputs.bundle_summary import describe_finding


def test_a_closed_name_finding_reads_as_the_names_it_takes_and_why_the_name_counts():
    evidence = {
        "account_name": "澜沧江 文旅集团",
        "reason": "distinctive name: 7 characters, not a short handle with a counter, and 0 other subjects' ...",
        "matches": [{"account_name": "澜沧江文旅集团", "account_id": "pa_1", "why": "closed", "edits": 0}],
    }
    assert describe_finding("closed_name_reregistration", evidence) == (
        "name '澜沧江 文旅集团' takes the name of 澜沧江文旅集团 (pa_1, closed, 0 edits): "
        "distinctive name: 7 characters, not a short handle with a counter, and 0 other subjects' ..."
    )
    del evidence["reason"]
    assert describe_finding("closed_name_reregistration", evidence).endswith("(pa_1, closed, 0 edits)")
