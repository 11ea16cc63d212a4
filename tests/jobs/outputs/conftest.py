"""The evidence tests' lake: each module that asks for it works on its own copy of the shared platform lake."""

from __future__ import annotations

import shutil
from collections import Counter

import pytest
from pyspark.sql import functions as F

from accountwatch.jobs.core.lake import Lake


@pytest.fixture(scope="module")
def evidence_lake(platform_run, spark, settings, tmp_path_factory) -> Lake:
    """A copy of the shared platform lake: exports log themselves and one test appends a row."""
    _, lake, _ = platform_run
    copy = tmp_path_factory.mktemp("evidence") / "lake"
    shutil.copytree(lake.root, copy)
    return Lake(spark, copy, settings)


@pytest.fixture(scope="module")
def spike_account(platform_run) -> str:
    truth, _, _ = platform_run
    counts = Counter(account for account, _ in truth.bought_followers())
    return min(counts, key=lambda account: (-counts[account], account))


@pytest.fixture(scope="module")
def blacklisted_subject(platform_run, evidence_lake) -> str:
    truth, _, _ = platform_run
    (account, day), *_ = sorted(truth.blacklisted_subject_registration)
    finding = (
        evidence_lake.read("findings")
        .where(
            (F.col("detector") == "blacklisted_subject_registration")
            & (F.col("account_id") == account)
            & (F.col("run_date") == day)
        )
        .first()
    )
    assert finding is not None
    return finding["subject_id"]
