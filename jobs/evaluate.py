"""Score findings against a synthetic platform's planted truth."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from accountwatch.jobs.detectors import fake_follower_spike, registry
from accountwatch.jobs.detectors.base import Detector
from accountwatch.jobs.planted_truth import PlantedTruth


@dataclass(frozen=True)
class DetectorScore:
    """Planted and found cases of one detector.

    A case is an account or an (account, day) pair, as the detector's `Scoring` says: a purchase or a
    registration is found only when its day is flagged. `ignored` found cases are neither right nor wrong (the
    days of a slow drip of bought follows). `organic_flagged` of `organic_planted` planted look-alikes that must
    never be flagged were (viral days, common-name collisions and the name two edits away).
    """

    detector: str
    planted: int
    found: int
    true_positives: int
    ignored: int = 0
    organic_flagged: int = 0
    organic_planted: int = 0

    @property
    def precision(self) -> float:
        judged = self.found - self.ignored
        return self.true_positives / judged if judged else (1.0 if not self.planted else 0.0)

    @property
    def recall(self) -> float:
        return self.true_positives / self.planted if self.planted else 1.0


@dataclass(frozen=True)
class DripScore:
    """How much of the planted slow drips of bought follows was flagged."""

    buyers: int
    buyers_flagged: int
    days: int
    days_flagged: int


def _found(findings: DataFrame) -> dict[str, set[tuple[str, date]]]:
    names = registry.names()
    rows = findings.where(F.col("detector").isin(*names)).select("detector", "account_id", "run_date").collect()
    found: dict[str, set[tuple[str, date]]] = {name: set() for name in names}
    for row in rows:
        found[row["detector"]].add((row["account_id"], row["run_date"]))
    return found


def _accounts(pairs: set[tuple[str, date]]) -> set[str]:
    return {account_id for account_id, _ in pairs}


def score_detector(detector: Detector, found: set[tuple[str, date]], truth: PlantedTruth) -> DetectorScore:
    """Compare what one detector flagged, as (account, run_date) pairs, with what was planted for it."""
    scoring = detector.scoring
    planted = set(scoring.planted(truth))
    cases: set = found if scoring.case == "account_day" else _accounts(found)
    ignored = len((cases & set(scoring.ignored(truth))) - planted) if scoring.ignored else 0
    organic_flagged = organic_planted = 0
    if scoring.look_alikes:
        look_alikes = set(scoring.look_alikes(truth))
        flagged: set = found if scoring.look_alike_case == "account_day" else _accounts(found)
        organic_flagged, organic_planted = len(flagged & look_alikes), len(look_alikes)
    return DetectorScore(
        detector.name,
        len(planted),
        len(cases),
        len(cases & planted),
        ignored=ignored,
        organic_flagged=organic_flagged,
        organic_planted=organic_planted,
    )


def score_detectors(findings: DataFrame, truth: PlantedTruth) -> list[DetectorScore]:
    """Per detector, compare what was flagged with what was planted."""
    found = _found(findings)
    return [score_detector(detector, found[detector.name], truth) for detector in registry.DETECTORS]


def score_drip(findings: DataFrame, truth: PlantedTruth) -> DripScore:
    """The stretch goal: how many drip buyers, and drip days, fake_follower_spike flagged."""
    spikes = _found(findings)[fake_follower_spike.NAME]
    drip = truth.drip_days()
    flagged = spikes & drip
    return DripScore(
        buyers=len(truth.fake_follower_drip),
        buyers_flagged=len({account_id for account_id, _ in flagged}),
        days=len(drip),
        days_flagged=len(flagged),
    )
