"""A seeded synthetic platform: landing files in the contract's format, with planted anomalies and their truth."""

from __future__ import annotations

from accountwatch.jobs.planted_truth import TRUTH_FILE, PlantedTruth
from accountwatch.synthetic.common import months_before
from accountwatch.synthetic.plants.quota_overrun import QUOTA_LIMITS
from accountwatch.synthetic.platform import generate_platform
from accountwatch.synthetic.sizes import PlatformSize, SyntheticPlatformError

__all__ = [
    "QUOTA_LIMITS",
    "TRUTH_FILE",
    "PlantedTruth",
    "PlatformSize",
    "SyntheticPlatformError",
    "generate_platform",
    "months_before",
]
