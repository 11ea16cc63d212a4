"""The opt-in run breakdown: per stage its Spark jobs, Delta commits and nesting."""

from __future__ import annotations

import pytest

from accountwatch.jobs.core import timing


@pytest.fixture
def profiling(monkeypatch):
    monkeypatch.setenv(timing.PROFILE_VARIABLE, "1")
    timing.reset()
    yield
    timing.reset()


def test_stage_counts_the_spark_jobs_and_delta_commits_of_its_block(spark, profiling):
    with timing.stage("outer"):
        spark.range(5).count()
        timing.delta_commit()
        with timing.stage("inner"):
            pass
    outer, inner = timing.stages()
    assert (outer.name, outer.depth, outer.delta_commits) == ("outer", 0, 1)
    assert outer.spark_jobs >= 1
    assert (inner.name, inner.depth, inner.spark_jobs, inner.delta_commits) == ("inner", 1, 0, 0)


def test_stage_rest_holds_the_jobs_outside_its_inner_stages(spark, profiling):
    with timing.stage("flow", rest="outside tasks"):
        with timing.stage("task"):
            spark.range(3).collect()
        spark.range(4).collect()
    flow, task, rest = timing.stages()
    assert rest.name == "outside tasks" and rest.depth == 1
    assert rest.spark_jobs == flow.spark_jobs - task.spark_jobs >= 1
    assert rest.seconds <= flow.seconds


def test_stage_records_nothing_when_the_breakdown_is_off(spark, monkeypatch):
    monkeypatch.delenv(timing.PROFILE_VARIABLE, raising=False)
    timing.reset()
    with timing.stage("ignored"):
        spark.range(2).count()
    assert timing.stages() == []


def test_listeners_hear_each_stage_start_and_end_with_the_breakdown_off(monkeypatch):
    monkeypatch.delenv(timing.PROFILE_VARIABLE, raising=False)
    heard: list[tuple[str, bool]] = []
    with timing.listening(lambda name, started: heard.append((name, started))):
        with timing.stage("flow"):
            with timing.stage("task"):
                pass
    with timing.stage("after the listener left"):
        pass
    assert heard == [("flow", True), ("task", True), ("task", False), ("flow", False)]


def test_a_listener_hears_a_stage_end_when_its_block_fails(monkeypatch):
    monkeypatch.delenv(timing.PROFILE_VARIABLE, raising=False)
    heard: list[tuple[str, bool]] = []
    with timing.listening(lambda name, started: heard.append((name, started))):
        with pytest.raises(RuntimeError), timing.stage("write"):
            raise RuntimeError("disk full")
    assert heard == [("write", True), ("write", False)]
