"""How a backfill's time and peak memory grow with the platform: the bench platform at 1, 3 and 10 times its size.

python -m accountwatch.benchmarks.growth [--scales 1,3,10] [--seed 5] [--root data/growth]

For each scale it generates the bench platform with that many times its accounts, users and events over the same 245
days, then runs `accountwatch backfill` of every day as a fresh process (the JVM start included) while sampling the
resident memory of that process and its children (the JVM) every quarter second, and then the DuckDB peer's backfill
of the same files in this process, its tables in a database file beside the lake. Each scale's figures are appended
to `<root>/growth.json` as soon as they are measured, so a long run keeps what it finished; a scale already there is
not run again.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import psutil

from accountwatch.benchmarks.peer import Peer
from accountwatch.jobs.core.config import load_settings
from accountwatch.jobs.core.pii import PII_KEY_VARIABLE, local_demo_key
from accountwatch.synthetic import PlantedTruth, PlatformSize, generate_platform

SAMPLE_SECONDS = 0.25


@dataclass(frozen=True)
class Growth:
    """One scale's figures."""

    scale: int
    public_accounts: int
    users: int
    events_loaded: int
    generate_s: float | None  # None: the landing files were there from an earlier run
    backfill_s: float
    backfill_peak_mb: float
    peer_backfill_s: float
    peer_peak_mb: float


class PeakMemory:
    """The largest resident memory, summed over a process and its descendants, sampled on a background thread."""

    def __init__(self, pid: int) -> None:
        self._process = psutil.Process(pid)
        self._stop = threading.Event()
        self.peak_bytes = 0
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _tree_bytes(self) -> int:
        total = 0
        for process in [self._process, *self._process.children(recursive=True)]:
            try:
                total += process.memory_info().rss
            except psutil.Error:  # a child that ended between listing and reading
                continue
        return total

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak_bytes = max(self.peak_bytes, self._tree_bytes())
            except psutil.Error:  # the process itself ended
                return
            self._stop.wait(SAMPLE_SECONDS)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mb(self) -> float:
        return round(self.peak_bytes / 2**20, 1)


def run_backfill(truth: PlantedTruth, landing: Path, lake: Path, log: Path) -> tuple[float, float]:
    """`accountwatch backfill` of every day in a fresh process: its wall seconds and peak memory (MB)."""
    command = [
        str(Path(sys.executable).with_name("accountwatch")),
        "backfill",
        "--start",
        truth.start.isoformat(),
        "--end",
        truth.end.isoformat(),
        "--landing",
        str(landing),
        "--lake",
        str(lake),
    ]
    started = time.monotonic()
    with log.open("w") as output:
        # Its own process group: an interrupted benchmark takes the backfill and its JVM down with it.
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            with PeakMemory(process.pid) as memory:
                code = process.wait()
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
    seconds = round(time.monotonic() - started, 1)
    if code != 0:
        raise SystemExit(f"the backfill exited with {code}: see {log}")
    return seconds, memory.peak_mb


def run_peer(landing: Path, database: Path) -> tuple[float, float, int]:
    """The DuckDB peer's backfill in this process: seconds, peak memory of this process (MB), events loaded.

    The peer keeps its tables in the file `database` (made anew), not in memory: in memory its peak grew with the
    data (5.9 GB at 1x, 17.5 GB at 3x) and 10x would not fit this machine, while a file lets DuckDB spill.
    """
    truth = PlantedTruth.from_json((landing / "truth.json").read_text())
    for stale in (database, database.with_name(database.name + ".wal")):
        stale.unlink(missing_ok=True)
    peer = Peer(landing, load_settings(None), database=str(database))
    started = time.monotonic()
    with PeakMemory(os.getpid()) as memory:
        counts = peer.backfill(truth.start, truth.end)
    seconds = round(time.monotonic() - started, 1)
    peer.close()
    events = sum(counts[table].loaded for table in ("subscriptions", "engagement") if table in counts)
    return seconds, memory.peak_mb, events


def measure(scale: int, seed: int, root: Path) -> Growth:
    """Generate the platform at `scale`, then time accountwatch's and the peer's backfills of it."""
    size = PlatformSize.named("bench").scaled(scale)
    folder = root / f"x{scale}"
    landing, lake = folder / "landing", folder / "lake"
    generate_s = None
    if not (landing / "truth.json").exists():
        started = time.monotonic()
        generate_platform(landing, seed=seed, start=date(2026, 1, 1), size=size)
        generate_s = round(time.monotonic() - started, 1)
    truth = PlantedTruth.from_json((landing / "truth.json").read_text())
    made = f"generated in {generate_s} s" if generate_s is not None else "generated earlier"
    print(f"x{scale}: platform {made}; backfill {truth.start}..{truth.end}", flush=True)
    shutil.rmtree(lake, ignore_errors=True)
    backfill_s, backfill_peak = run_backfill(truth, landing, lake, folder / "backfill.log")
    print(f"x{scale}: accountwatch backfill {backfill_s} s, peak {backfill_peak} MB", flush=True)
    peer_s, peer_peak, events = run_peer(landing, folder / "peer.duckdb")
    print(f"x{scale}: peer backfill {peer_s} s, peak {peer_peak} MB, {events} events loaded", flush=True)
    return Growth(
        scale, size.public_accounts, size.users, events, generate_s, backfill_s, backfill_peak, peer_s, peer_peak
    )


def print_table(rows: list[Growth]) -> None:
    """Each scale's figures, with seconds per million events and the ratio to the peer."""
    print(
        f"{'scale':>5} {'accounts':>9} {'events':>11} {'backfill s':>11} {'s/M events':>11} "
        f"{'peak MB':>8} {'peer s':>7} {'ratio':>6}"
    )
    for row in rows:
        per_million = row.backfill_s / (row.events_loaded / 1e6) if row.events_loaded else float("nan")
        ratio = row.backfill_s / row.peer_backfill_s if row.peer_backfill_s else float("nan")
        print(
            f"{row.scale:>5} {row.public_accounts:>9} {row.events_loaded:>11} {row.backfill_s:>11.1f} "
            f"{per_million:>11.1f} {row.backfill_peak_mb:>8.0f} {row.peer_backfill_s:>7.1f} {ratio:>6.1f}"
        )


def main() -> None:
    """Measure each scale not yet in `<root>/growth.json`, then print every scale's figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", default="1,3,10", help="comma-separated multiples of the bench platform")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--root", type=Path, default=Path("data/growth"))
    args = parser.parse_args()
    try:
        scales = [int(part) for part in args.scales.split(",")]
    except ValueError:
        parser.error(f"--scales {args.scales!r}: expected whole numbers separated by commas, such as 1,3,10")
    if any(scale < 1 for scale in scales):
        parser.error(f"--scales {args.scales!r}: each scale must be at least 1")
    args.root.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault(PII_KEY_VARIABLE, local_demo_key(args.root).decode())
    results_file = args.root / "growth.json"
    earlier = json.loads(results_file.read_text()) if results_file.exists() else []
    done = {row["scale"]: Growth(**row) for row in earlier}
    for scale in scales:
        if scale in done:
            print(f"x{scale}: already measured in {results_file}", flush=True)
            continue
        done[scale] = measure(scale, args.seed, args.root)
        results_file.write_text(json.dumps([asdict(done[key]) for key in sorted(done)], indent=2) + "\n")
    print_table([done[scale] for scale in scales])


if __name__ == "__main__":
    main()
