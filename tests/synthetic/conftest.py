"""The tiny and demo-size synthetic platforms, generated once per test session (per worker)."""

from __future__ import annotations

import pytest

from accountwatch.synthetic import PlatformSize, generate_platform
from tests.synthetic.landed import SEED, START, TINY, Landed, load_landed


@pytest.fixture(scope="session")
def tiny(tmp_path_factory) -> Landed:
    landing = tmp_path_factory.mktemp("tiny") / "landing"
    progress: list[tuple[int, int]] = []
    truth = generate_platform(
        landing, seed=SEED, start=START, size=TINY, progress=lambda done, total: progress.append((done, total))
    )
    return load_landed(landing, truth, progress)


@pytest.fixture(scope="session")
def demo(tmp_path_factory) -> Landed:
    """The demo-size platform, for the cases the tiny one leaves out (the drip); engagement is not loaded."""
    landing = tmp_path_factory.mktemp("demo") / "landing"
    truth = generate_platform(landing, seed=SEED, start=START, size=PlatformSize.named("demo"))
    return load_landed(landing, truth, [], tables=("accounts", "subscriptions"))
