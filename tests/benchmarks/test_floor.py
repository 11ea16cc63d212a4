"""The floor benchmark's breakdown: stages grouped into a nightly run's parts, cold and warm side by side."""

from __future__ import annotations

from accountwatch.benchmarks.floor import NIGHTLY_COMMITS, PARTS, report, summary


def _stage(name: str, seconds: float, jobs: int = 0, depth: int = 1) -> dict:
    return {"stage": name, "depth": depth, "seconds": seconds, "spark_jobs": jobs, "delta_commits": 0}


COLD = [
    _stage("process start and imports", 0.5, depth=0),
    _stage("the nightly skeleton", 20.0, 30, depth=0),
    _stage("JVM and Spark session start", 8.0),
    _stage("delta read accounts (the day's rows counted)", 1.0, 3),
    _stage("delta read findings (the day's rows counted)", 0.5, 3),
    _stage("GX suite accounts", 1.5, 4),
    _stage("delta replace engagement", 2.0, 8),
    _stage("delta merge findings", 3.0, 12),
    _stage("Prefect: temporary server, flows, tasks and artifacts", 4.0),
]


def test_stages_are_summed_into_the_parts_and_the_rest_is_what_no_stage_covers():
    parts = summary(COLD, end_to_end=23.0)

    assert parts["Delta: read each table written (one small count each)"] == (1.5, 6)
    assert parts[f"Delta: {len(NIGHTLY_COMMITS)} one-row commits"] == (5.0, 20)
    assert parts["Great Expectations: 4 suites on empty frames"] == (1.5, 4)
    assert parts["JVM and Spark session start"] == (8.0, 0)
    # The enclosing stage is not a part: counting it would count its inner stages twice.
    assert "the nightly skeleton" not in parts
    assert parts[PARTS[-1]] == (23.0 - 0.5 - 8.0 - 1.5 - 1.5 - 5.0 - 4.0, 0)


def test_the_report_puts_the_median_cold_and_warm_runs_beside_the_target():
    warm = [_stage("delta merge findings", 1.0, 12), _stage(PARTS[2], 1.0)]
    runs = [
        (cold_seconds, [{"seconds": cold_seconds - 1, "stages": COLD}, {"seconds": warm_seconds, "stages": warm}])
        for cold_seconds, warm_seconds in ((40.0, 3.0), (20.0, 2.0), (30.0, 5.0))
    ]

    text = report(runs)

    assert "the median of 3 fresh processes" in text
    assert text.splitlines()[-2].split() == ["end", "to", "end", "30.0", "3.0"]
    assert "3.0 times it cold and 0.3 times it warm" in text
