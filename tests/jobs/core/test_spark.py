from __future__ import annotations

from dataclasses import replace

import pytest

from accountwatch.jobs.core.spark import INTERPRETED_SQL, sized_for

COMPILED = {"spark.sql.codegen.wholeStage": "true", "spark.sql.codegen.factoryMode": "FALLBACK"}


@pytest.fixture
def compiled(spark):
    """The session as a command starts it: plans compiled to Java."""
    for key, value in COMPILED.items():
        spark.conf.set(key, value)
    return spark


def _modes(spark) -> dict[str, str]:
    return {key: spark.conf.get(key) for key in COMPILED}


def test_a_run_of_a_few_days_runs_interpreted_and_compiles_again_after(compiled, settings):
    with sized_for(compiled, 3, replace(settings, interpreted_max_days=3)):
        assert _modes(compiled) == INTERPRETED_SQL
        assert compiled.range(5).selectExpr("sum(id) AS total").collect()[0]["total"] == 10
    assert _modes(compiled) == COMPILED


def test_a_longer_run_or_a_limit_of_zero_keeps_the_generated_code(compiled, settings):
    with sized_for(compiled, 4, replace(settings, interpreted_max_days=3)):
        assert _modes(compiled) == COMPILED
    with sized_for(compiled, 1, replace(settings, interpreted_max_days=0)):
        assert _modes(compiled) == COMPILED


def test_a_failing_run_leaves_the_session_as_it_found_it(compiled, settings):
    with pytest.raises(RuntimeError, match="boom"), sized_for(compiled, 1, settings):
        raise RuntimeError("boom")
    assert _modes(compiled) == COMPILED
