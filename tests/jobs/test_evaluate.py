from __future__ import annotations

import subprocess
import sys
from datetime import date

from accountwatch.jobs.evaluate import score_detectors
from accountwatch.jobs.planted_truth import PlantedTruth

DAY = date(2026, 3, 10)
FINDINGS = "detector string, account_id string, run_date date"


def closed_name_score(spark, flagged: list[tuple[str, date]]):
    truth = PlantedTruth(
        start=date(2026, 1, 1),
        end=date(2026, 8, 31),
        seed=1,
        dormant_account=frozenset(),
        quota_overrun=frozenset(),
        bad_rows={},
        closed_name_reregistration=frozenset({("pa_brand", DAY), ("pa_return", DAY)}),
        closed_name_negatives=["pa_far"],
        common_name_collisions=frozenset({("pa_qiwei405", DAY), ("pa_zhangwei", DAY)}),
    )
    findings = spark.createDataFrame(
        [("closed_name_reregistration", account_id, day) for account_id, day in flagged], FINDINGS
    )
    [score] = [score for score in score_detectors(findings, truth) if score.detector == "closed_name_reregistration"]
    return score


def test_closed_names_score_planted_reregistrations_and_count_flagged_common_name_collisions(spark):
    clean = closed_name_score(spark, [("pa_brand", DAY), ("pa_return", DAY)])
    assert (clean.precision, clean.recall, clean.organic_flagged, clean.organic_planted) == (1.0, 1.0, 0, 3)
    # A stranger with a common name flagged (on another day too), and a re-registration missed.
    noisy = closed_name_score(spark, [("pa_brand", DAY), ("pa_qiwei405", date(2026, 3, 11)), ("pa_far", DAY)])
    assert (noisy.precision, noisy.recall, noisy.organic_flagged) == (1 / 3, 0.5, 2)


def test_scoring_and_the_command_line_import_no_generator_code():
    # Production reads truth.json through jobs.planted_truth; only `accountwatch demo` loads the generator.
    modules = ("accountwatch.jobs.evaluate", "accountwatch.jobs.planted_truth", "accountwatch.flows.cli")
    code = (
        f"import importlib, sys; [importlib.import_module(name) for name in {modules!r}]; "
        "print(sorted(name for name in sys.modules if name.startswith('accountwatch.synthetic')))"
    )
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert imported.strip() == "[]"
