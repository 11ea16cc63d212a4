"""The detectors, in the order the report and the findings schema list them; code elsewhere iterates over them.

Each detector module (`jobs/detectors/<name>.py`) holds its transforms and its `Detector` entry (`base.Detector`).
"""

from __future__ import annotations

from accountwatch.jobs.detectors import (
    account_hoarding,
    batch_registration,
    blacklisted_subject_registration,
    closed_name_reregistration,
    dormant_account,
    fake_engagement,
    fake_follower_spike,
    quota_overrun,
    unapproved_transfer,
)
from accountwatch.jobs.detectors.base import BlacklistRole, Detector, Phase

__all__ = ["DETECTORS", "BlacklistRole", "Detector", "UnknownDetectorError", "get", "in_phase", "names"]

DETECTORS: tuple[Detector, ...] = (
    fake_follower_spike.DETECTOR,
    batch_registration.DETECTOR,
    dormant_account.DETECTOR,
    quota_overrun.DETECTOR,
    blacklisted_subject_registration.DETECTOR,
    closed_name_reregistration.DETECTOR,
    unapproved_transfer.DETECTOR,
    account_hoarding.DETECTOR,
    fake_engagement.DETECTOR,
)
_BY_NAME = {detector.name: detector for detector in DETECTORS}


class UnknownDetectorError(KeyError):
    """A detector name the registry does not hold."""

    def __str__(self) -> str:
        return f"unknown detector {self.args[0]!r} (expected one of {', '.join(names())})"


def names() -> tuple[str, ...]:
    """Every detector's name, in registry order."""
    return tuple(_BY_NAME)


def get(name: str) -> Detector:
    """The detector called `name`."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnknownDetectorError(name) from None


def in_phase(phase: Phase) -> list[Detector]:
    """The detectors of a phase, each after the detectors it needs."""
    ordered: list[Detector] = []

    def visit(detector: Detector) -> None:
        if detector in ordered:
            return
        for needed in detector.needs:
            visit(get(needed))
        ordered.append(detector)

    for detector in DETECTORS:
        if detector.phase == phase:
            visit(detector)
    return ordered
