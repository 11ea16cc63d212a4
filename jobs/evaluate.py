"""Score findings against a synthetic platform's planted truth."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from accountwatch.jobs.planted_truth import PlantedTruth

DETECTORS = (
    "dormant_account",
    "quota_overrun",
    "batch_registration",
    "fake_follower_spike",
    "blacklisted_subject_registration",
    "closed_name_reregistration",
)


@dataclass(frozen=True)
class DetectorScore:
    """Planted and found cases of one detector.

    A case is an account, except for fake_follower_spike and the barring detectors, whose cases are
    (account, day) pairs: a purchase or a registration is found only when its day is flagged. `ignored` found
    cases are neither right nor wrong (the days of a slow drip of bought follows). `organic_flagged` of
    `organic_planted` planted look-alikes that must never be flagged were: fake_follower_spike's viral days,
    closed_name_reregistration's common-name collisions and the name two edits away.
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
    rows = findings.where(F.col("detector").isin(*DETECTORS)).select("detector", "account_id", "run_date").collect()
    found: dict[str, set[tuple[str, date]]] = {name: set() for name in DETECTORS}
    for row in rows:
        found[row["detector"]].add((row["account_id"], row["run_date"]))
    return found


def score_detectors(findings: DataFrame, truth: PlantedTruth) -> list[DetectorScore]:
    """Per detector, compare what was flagged with what was planted."""
    found = _found(findings)
    scores = []
    for name, planted in (
        ("dormant_account", truth.dormant_account),
        ("quota_overrun", truth.quota_overrun),
        ("batch_registration", truth.batch_registration),
    ):
        accounts = {account_id for account_id, _ in found[name]}
        scores.append(DetectorScore(name, len(planted), len(accounts), len(accounts & planted)))
    spikes = found["fake_follower_spike"]
    drip = truth.drip_days()
    scores.append(
        DetectorScore(
            "fake_follower_spike",
            len(truth.fake_follower_spike),
            len(spikes),
            len(spikes & truth.fake_follower_spike),
            ignored=len((spikes & drip) - truth.fake_follower_spike),
            organic_flagged=len(spikes & truth.viral_days),
            organic_planted=len(truth.viral_days),
        )
    )
    barred, returns = found["blacklisted_subject_registration"], truth.blacklisted_subject_registration
    scores.append(DetectorScore("blacklisted_subject_registration", len(returns), len(barred), len(barred & returns)))
    names, taken = found["closed_name_reregistration"], truth.closed_name_reregistration
    # A look-alike counts as flagged on any day.
    look_alikes = {account_id for account_id, _ in truth.common_name_collisions} | set(truth.closed_name_negatives)
    scores.append(
        DetectorScore(
            "closed_name_reregistration",
            len(taken),
            len(names),
            len(names & taken),
            organic_flagged=len({account_id for account_id, _ in names} & look_alikes),
            organic_planted=len(look_alikes),
        )
    )
    return scores


def score_drip(findings: DataFrame, truth: PlantedTruth) -> DripScore:
    """The stretch goal: how many drip buyers, and drip days, fake_follower_spike flagged."""
    spikes = _found(findings)["fake_follower_spike"]
    drip = truth.drip_days()
    flagged = spikes & drip
    return DripScore(
        buyers=len(truth.fake_follower_drip),
        buyers_flagged=len({account_id for account_id, _ in flagged}),
        days=len(drip),
        days_flagged=len(flagged),
    )
