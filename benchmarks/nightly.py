"""Time the bulk backfill and one nightly run with 60 and with 240 days of history loaded.

python -m accountwatch.benchmarks.nightly [--size bench] [--seed 5] [--root data/bench] [--skip-full]

Each nightly run's breakdown (per stage: seconds, Spark jobs, Delta commits) is printed after it and kept in the
results under `<label>_stages`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from datetime import date, timedelta
from pathlib import Path

from accountwatch.flows.pipeline import backfill, nightly
from accountwatch.jobs.core import timing
from accountwatch.jobs.core.pii import PII_KEY_VARIABLE, local_demo_key
from accountwatch.synthetic import PlantedTruth, PlatformSize, generate_platform


def _timed(label: str, results: dict, action) -> None:
    timing.reset()
    started = time.monotonic()
    action()
    results[label] = round(time.monotonic() - started, 1)
    print(f"{label}: {results[label]} s", flush=True)
    if label.startswith("nightly"):
        results[f"{label}_stages"] = timing.as_rows()
        print(timing.as_text(), flush=True)


def main() -> None:
    """Generate the platform once, then time the backfill and the nightly runs."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="bench")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--root", type=Path, default=Path("data/bench"))
    parser.add_argument("--skip-full", action="store_true", help="skip the full backfill")
    args = parser.parse_args()
    timing.enable()
    size = PlatformSize.named(args.size)
    landing = args.root / "landing"
    truth_file = landing / "truth.json"
    results: dict = {"size": args.size, "seed": args.seed}
    if not truth_file.exists():
        shutil.rmtree(landing, ignore_errors=True)
        _timed(
            "generate_s", results, lambda: generate_platform(landing, seed=args.seed, start=date(2026, 1, 1), size=size)
        )
    truth = PlantedTruth.from_json(truth_file.read_text())
    os.environ.setdefault(PII_KEY_VARIABLE, local_demo_key(args.root).decode())

    def day(number: int) -> str:
        return (truth.start + timedelta(days=number - 1)).isoformat()

    if not args.skip_full:
        full_lake = args.root / "lake-full"
        shutil.rmtree(full_lake, ignore_errors=True)
        days = (truth.end - truth.start).days + 1
        _timed(
            f"backfill_{days}_days_s",
            results,
            lambda: backfill(day(1), truth.end.isoformat(), str(landing), str(full_lake)),
        )
    lake = args.root / "lake-nightly"
    shutil.rmtree(lake, ignore_errors=True)
    _timed("backfill_days_1_59_s", results, lambda: backfill(day(1), day(59), str(landing), str(lake)))
    _timed("nightly_day_60_s", results, lambda: nightly(day(60), str(landing), str(lake)))
    _timed("backfill_days_61_239_s", results, lambda: backfill(day(61), day(239), str(landing), str(lake)))
    _timed("nightly_day_240_s", results, lambda: nightly(day(240), str(landing), str(lake)))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
