"""Platform sizes: the named presets."""

from __future__ import annotations

import pytest

from accountwatch.synthetic import PlatformSize, SyntheticPlatformError
from tests.synthetic.landed import TINY


def test_named_sizes_are_the_documented_presets():
    assert PlatformSize.named("demo") == PlatformSize()
    assert PlatformSize.named("bench") == PlatformSize(1000, 15_000, 4_000_000, 245)
    assert PlatformSize.named("wide") == PlatformSize(2500, 37_500, 2_600_000, 245)
    assert (TINY.public_accounts, TINY.users, TINY.days) == (40, 300, 200)


def test_unknown_size_name_is_refused_with_the_known_names():
    with pytest.raises(SyntheticPlatformError, match="bench"):
        PlatformSize.named("huge")


def test_a_scaled_size_multiplies_accounts_users_and_events_over_the_same_days():
    assert PlatformSize.named("bench").scaled(3) == PlatformSize(3000, 45_000, 12_000_000, 245)
    assert PlatformSize.named("bench").scaled(1) == PlatformSize.named("bench")
    with pytest.raises(SyntheticPlatformError, match="scale factor 0"):
        PlatformSize.named("bench").scaled(0)
