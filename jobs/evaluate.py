"""Score findings against a synthetic platform's planted truth."""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame
from pyspark.sql import functions as F


@dataclass(frozen=True)
class DetectorScore:
    """Planted and found accounts of one detector."""

    detector: str
    planted: int
    found: int
    true_positives: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.found if self.found else (1.0 if not self.planted else 0.0)

    @property
    def recall(self) -> float:
        return self.true_positives / self.planted if self.planted else 1.0


def score_detectors(findings: DataFrame, planted: dict[str, frozenset[str]]) -> list[DetectorScore]:
    """Per detector, compare the distinct flagged accounts with the planted ones."""
    flagged: dict[str, set[str]] = {name: set() for name in planted}
    rows = findings.where(F.col("detector").isin(*planted)).select("detector", "account_id").distinct().collect()
    for row in rows:
        flagged[row["detector"]].add(row["account_id"])
    return [
        DetectorScore(name, len(accounts), len(flagged[name]), len(flagged[name] & accounts))
        for name, accounts in planted.items()
    ]
