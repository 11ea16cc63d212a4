"""Time the bulk backfill and one nightly run with 60 and with 240 days of history loaded, beside a DuckDB peer.

The peer (`benchmarks.peer`) does the same ingest, dormant_account and quota_overrun detection and follower
baseline on the same landing files, in the same steps; its findings must equal accountwatch's.

python -m accountwatch.benchmarks.nightly [--size bench] [--seed 5] [--root data/bench] [--skip-full] [--peer-only]

Each nightly run's breakdown (per stage: seconds, Spark jobs, Delta commits) is printed after it and kept in the
results under `<label>_stages`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from pathlib import Path

from accountwatch.benchmarks.peer import Peer
from accountwatch.benchmarks.peer_detect import SPELL_DETECTORS
from accountwatch.jobs.core import timing
from accountwatch.jobs.core.config import load_settings
from accountwatch.jobs.core.pii import PII_KEY_VARIABLE, local_demo_key
from accountwatch.synthetic import PlantedTruth, PlatformSize, generate_platform

# The nightly runs measured: after 60 days of history, and after 240 (or the platform's last day, if earlier).
FIRST_NIGHTLY, LAST_NIGHTLY = 60, 240
FindingKey = tuple[str, date, str]


@dataclass(frozen=True)
class Step:
    """One timed step: a backfill of first..last or a nightly run of last, on one lake (and one peer)."""

    label: str
    kind: str
    first: date
    last: date
    lake: str


def _timed(label: str, results: dict, action: Callable[[], object]) -> None:
    timing.reset()
    started = time.monotonic()
    action()
    results[label] = round(time.monotonic() - started, 1)
    print(f"{label}: {results[label]} s", flush=True)
    if label.startswith("nightly"):
        results[f"{label}_stages"] = timing.as_rows()
        print(timing.as_text(), flush=True)


def plan_steps(start: date, end: date, skip_full: bool) -> list[Step]:
    """The full backfill (unless skipped), then backfill, nightly, backfill, nightly on a second lake."""
    days = (end - start).days + 1

    def day(number: int) -> date:
        return start + timedelta(days=number - 1)

    last = min(LAST_NIGHTLY, days)
    steps = [] if skip_full else [Step(f"backfill_{days}_days_s", "backfill", start, end, "full")]
    return steps + [
        Step(f"backfill_days_1_{FIRST_NIGHTLY - 1}_s", "backfill", start, day(FIRST_NIGHTLY - 1), "nightly"),
        Step(f"nightly_day_{FIRST_NIGHTLY}_s", "nightly", day(FIRST_NIGHTLY), day(FIRST_NIGHTLY), "nightly"),
        Step(
            f"backfill_days_{FIRST_NIGHTLY + 1}_{last - 1}_s",
            "backfill",
            day(FIRST_NIGHTLY + 1),
            day(last - 1),
            "nightly",
        ),
        Step(f"nightly_day_{last}_s", "nightly", day(last), day(last), "nightly"),
    ]


def run_accountwatch(steps: list[Step], landing: Path, root: Path, results: dict) -> None:
    """accountwatch's flows, each lake started afresh."""
    # Imported here: --peer-only needs neither Prefect nor Spark.
    from accountwatch.flows.pipeline import backfill, nightly

    for name in {step.lake for step in steps}:
        shutil.rmtree(root / f"lake-{name}", ignore_errors=True)
    for step in steps:
        lake = str(root / f"lake-{step.lake}")
        if step.kind == "backfill":
            action = partial(backfill, step.first.isoformat(), step.last.isoformat(), str(landing), lake)
        else:
            action = partial(nightly, step.last.isoformat(), str(landing), lake)
        _timed(step.label, results, action)


def run_peer(steps: list[Step], landing: Path, results: dict) -> dict[str, Peer]:
    """The DuckDB peer in the same steps, one in-memory database per lake."""
    settings = load_settings(None)
    peers: dict[str, Peer] = {}
    for step in steps:
        if step.lake not in peers:
            peers[step.lake] = Peer(landing, settings)
        peer = peers[step.lake]
        action = (
            partial(peer.backfill, step.first, step.last)
            if step.kind == "backfill"
            else partial(peer.nightly, step.last)
        )
        _timed(f"peer_{step.label}", results, action)
    return peers


def lake_finding_keys(lake_dir: Path) -> set[FindingKey]:
    """(detector, run_date, account_id) of accountwatch's dormant and quota findings in a lake."""
    from pyspark.sql import functions as F

    from accountwatch.flows.runtime import open_lake

    lake, _ = open_lake(str(lake_dir), None)
    rows = (
        lake.read("findings")
        .where(F.col("detector").isin(*SPELL_DETECTORS))
        .select("detector", "run_date", "account_id")
        .collect()
    )
    return {(row["detector"], row["run_date"], row["account_id"]) for row in rows}


def lake_spike_baselines(lake_dir: Path) -> dict[tuple[date, str], tuple]:
    """(run_date, account_id) -> (follows, baseline days, median, MAD) from accountwatch's spike findings' evidence."""
    from pyspark.sql import functions as F

    from accountwatch.flows.runtime import open_lake

    lake, _ = open_lake(str(lake_dir), None)
    rows = (
        lake.read("findings")
        .where(F.col("detector") == "fake_follower_spike")
        .select("run_date", "account_id", "evidence")
        .collect()
    )
    baselines = {}
    for row in rows:
        evidence = json.loads(row["evidence"])
        baseline = evidence["baseline"]
        baselines[(row["run_date"], row["account_id"])] = (
            evidence["observed_follows"],
            baseline["baseline_days"],
            baseline["median_follows"],
            baseline["mad_follows"],
        )
    return baselines


def compare_baselines(
    name: str, accountwatch: dict[tuple[date, str], tuple], peer: dict[tuple[date, str], tuple]
) -> bool:
    """Check the peer's baseline of every account-day accountwatch flagged as a follower spike; True when equal."""

    def same(ours: tuple, theirs: tuple | None) -> bool:
        return theirs is not None and all(
            (a is None and b is None) or (a is not None and b is not None and abs(a - b) < 1e-9)
            for a, b in zip(ours, theirs, strict=True)
        )

    differing = sorted(key for key, values in accountwatch.items() if not same(values, peer.get(key)))
    print(
        f"{name} lake, fake_follower_spike baselines: {len(accountwatch)} spike days, "
        f"the peer's follows, baseline days, median and MAD differ on {len(differing)}"
    )
    for key in differing[:20]:
        print(f"  {key[0]} {key[1]}: accountwatch {accountwatch[key]}, peer {peer.get(key)}")
    return not differing


def compare_findings(name: str, accountwatch: set[FindingKey], peer: set[FindingKey]) -> bool:
    """Print how the two sets of finding keys differ; True when they are equal."""
    for detector in SPELL_DETECTORS:
        ours = {key for key in accountwatch if key[0] == detector}
        theirs = {key for key in peer if key[0] == detector}
        print(f"{name} lake, {detector}: accountwatch {len(ours)}, peer {len(theirs)}, in both {len(ours & theirs)}")
    only_accountwatch, only_peer = sorted(accountwatch - peer), sorted(peer - accountwatch)
    for label, keys in (("only accountwatch", only_accountwatch), ("only peer", only_peer)):
        for detector, day, account in keys[:20]:
            print(f"  {label}: {detector} {day} {account}")
        if len(keys) > 20:
            print(f"  {label}: {len(keys) - 20} more")
    return not only_accountwatch and not only_peer


def print_table(steps: list[Step], results: dict, peer_only: bool) -> None:
    """The steps side by side: accountwatch seconds, peer seconds and their ratio."""
    print(f"{'step':<28} {'accountwatch s':>15} {'peer s':>9} {'ratio':>8}")
    for step in steps:
        peer_seconds = results[f"peer_{step.label}"]
        ours = None if peer_only else results[step.label]
        ratio = f"{ours / peer_seconds:.1f}" if ours is not None and peer_seconds > 0 else "-"
        shown = "-" if ours is None else f"{ours:.1f}"
        print(f"{step.label.removesuffix('_s'):<28} {shown:>15} {peer_seconds:>9.1f} {ratio:>8}")


def main() -> None:
    """Generate the platform once, time accountwatch's and the peer's runs on it, then compare their findings."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="bench")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--root", type=Path, default=Path("data/bench"))
    parser.add_argument("--skip-full", action="store_true", help="skip the full backfill")
    parser.add_argument("--peer-only", action="store_true", help="time only the DuckDB peer (no Spark, no check)")
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
    steps = plan_steps(truth.start, truth.end, args.skip_full)
    if not args.peer_only:
        run_accountwatch(steps, landing, args.root, results)
    peers = run_peer(steps, landing, results)
    print(json.dumps(results, indent=2))
    print_table(steps, results, args.peer_only)
    if args.peer_only:
        return
    equal = True
    for name, peer in peers.items():
        lake_dir = args.root / f"lake-{name}"
        equal &= compare_findings(name, lake_finding_keys(lake_dir), peer.finding_keys())
        equal &= compare_baselines(name, lake_spike_baselines(lake_dir), peer.follower_baselines())
    print(
        "findings: the peer's dormant and quota findings and spike baselines equal accountwatch's"
        if equal
        else "findings: MISMATCH"
    )
    if not equal:
        sys.exit(1)


if __name__ == "__main__":
    main()
