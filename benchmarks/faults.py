"""Fault campaign: SIGKILL a nightly run at chosen Delta commits, rerun the day, compare every table.

python -m accountwatch.benchmarks.faults [--root data/faults] [--seed 11] [--day 2026-05-11]
                                         [--at 3:before,17:after] [--keep] [--resume]

On the tiny synthetic platform: backfill every day before --day (by default a day whose run lists an account on
the blacklist, so that it writes every stage's tables), then run that day once uninterrupted (the reference; it
also lists the run's Delta commits through jobs/core/lake.py's fault-injection hook). Each fault point
then starts from a copy of the lake as it was before the day, runs `accountwatch run` with ACCOUNTWATCH_FAULT_AT
(the process kills itself right before or right after that commit), runs the day again without it, and compares
every table with the reference, leaving out the run-time columns of benchmarks.tables.RUN_TIME_COLUMNS.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path

from accountwatch.benchmarks.tables import RUN_TIME_COLUMNS, differing_tables, lake_rows
from accountwatch.jobs.core.config import load_settings
from accountwatch.jobs.core.lake import FAULT_AT_VARIABLE, FAULT_TRACE_VARIABLE, TABLES, Lake
from accountwatch.jobs.core.pii import PII_KEY_VARIABLE, local_demo_key
from accountwatch.jobs.core.spark import get_spark
from accountwatch.synthetic import TRUTH_FILE, PlantedTruth, PlatformSize, generate_platform

BIN = Path(sys.executable).parent
RUN_TIMEOUT_SECONDS = 1800
# A run whose Spark JVM went away under it (on a crowded machine, killed for memory) logs one of these. Such an
# attempt says nothing about the pipeline: it is made again from the start, and the attempts are reported.
JVM_LOST = ("Connection refused", "Py4JNetworkError", "does not exist in the JVM", "Answer from Java side is empty")
ATTEMPTS = 3
POSITIONS = ("before", "after")
DEFAULT_DAY = date(2026, 5, 11)
# A table of each stage of a nightly run: ingest, findings, blacklist, tiers, detector state, the day's record.
STAGE_TABLES = ("loaded_days", "findings", "blacklist", "account_tiers", "detector_state", "detector_runs")


@dataclass(frozen=True)
class Commit:
    """One Delta commit of the reference run, numbered in the order the run made them."""

    number: int
    operation: str
    table: str

    def __str__(self) -> str:
        return f"{self.operation} {self.table}"


@dataclass
class Outcome:
    """What one fault point did: the kill, the tables it had written by then, the rerun and what differed."""

    point: str
    where: str
    killed_returncode: int | None = None
    written_before_kill: list[str] = field(default_factory=list)
    rerun_returncode: int | None = None
    differing_after_rerun: list[str] = field(default_factory=list)
    attempts: int = 0
    seconds: float = 0.0

    @property
    def survived(self) -> bool:
        return (
            self.killed_returncode == -signal.SIGKILL and self.rerun_returncode == 0 and not self.differing_after_rerun
        )


def _run(command: list[str], env: dict[str, str], log: Path) -> int:
    """Run a command in a process group of its own, logging its output; then end whatever it left behind."""
    with open(log, "w") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            returncode = process.wait(timeout=RUN_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            returncode = None
        # A killed run leaves its children (Prefect's temporary server, perhaps the JVM) in its group.
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if returncode is None:
            returncode = process.wait()
    return returncode


def _outcome(line: str) -> Outcome:
    return Outcome(**json.loads(line))


def _jvm_lost(returncode: int, expected: int, log: Path) -> bool:
    return returncode != expected and any(sign in log.read_text(errors="replace") for sign in JVM_LOST)


def _log_commits(table_dir: Path) -> int:
    return len(list((table_dir / "_delta_log").glob("*.json")))


def _read_trace(trace: Path) -> list[Commit]:
    commits = []
    for line in trace.read_text().splitlines():
        number, operation, table = line.split("\t")
        commits.append(Commit(int(number), operation, table))
    return commits


def _where(point: str, commits: list[Commit]) -> str:
    number, position = point.split(":")
    index = int(number) - 1
    if position == "before":
        return f"before commit {number} ({commits[index]})"
    following = f", before {commits[index + 1]}" if index + 1 < len(commits) else ", the run's last commit"
    return f"after commit {number} ({commits[index]}{following})"


def default_points(commits: int) -> list[str]:
    """A point for each state the lake passes through after the run's first commit: after a commit, or before one.

    Killed after commit k or before commit k + 1, a run leaves the same tables on disk (only the work in between
    differs), so the points take each state once, in turn by one position and the other.
    """
    return [f"{k}:after" if k % 2 or k == commits else f"{k + 1}:before" for k in range(1, commits + 1)]


def _prepare(root: Path, seed: int, day: date | None, env: dict[str, str], config: Path) -> tuple[Path, date, Path]:
    """The landing folder, the day to fault, and the lake with every day before it loaded (made once per root)."""
    landing, before = root / "landing", root / "lake-before-day"
    prepared, wanted = root / "prepared.json", {"seed": seed, "day": day.isoformat() if day else None}
    if prepared.exists() and json.loads(prepared.read_text()) == wanted:
        truth = PlantedTruth.from_json((landing / TRUTH_FILE).read_text())
        return landing, day or truth.end, before
    prepared.unlink(missing_ok=True)
    shutil.rmtree(landing, ignore_errors=True)
    shutil.rmtree(before, ignore_errors=True)
    truth = generate_platform(landing, seed=seed, start=date(2026, 1, 1), size=PlatformSize.named("tiny"))
    day = day or truth.end
    day_before = (day - timedelta(days=1)).isoformat()
    print(f"backfilling {truth.start}..{day_before}", flush=True)
    command = [str(BIN / "accountwatch"), "backfill", "--start", truth.start.isoformat(), "--end", day_before]
    folders = ["--landing", str(landing), "--lake", str(before), "--config", str(config)]
    returncode = _run([*command, *folders], env, root / "logs" / "backfill.log")
    if returncode != 0:
        raise SystemExit(f"the backfill failed ({returncode}); see {root / 'logs' / 'backfill.log'}")
    prepared.write_text(json.dumps(wanted))
    return landing, day, before


def _gained_commits(before: Path, after: Path) -> dict[str, int]:
    """How many commits each table's Delta log gained from the lake `before` to the lake `after`."""
    gained = {name: _log_commits(after / name) - _log_commits(before / name) for name in TABLES}
    return {name: count for name, count in gained.items() if count}


def _unseen_commits(before: Path, after: Path, commits: list[Commit]) -> dict[str, int]:
    """Tables whose Delta log gained more commits than the hook counted for them (none, when it sees them all).

    A replace or merge that changes nothing can leave the log as it was, so the hook may count more than the logs.
    """
    counted: dict[str, int] = {}
    for commit in commits:
        counted[commit.table] = counted.get(commit.table, 0) + 1
    gained = _gained_commits(before, after)
    return {name: count - counted.get(name, 0) for name, count in gained.items() if count > counted.get(name, 0)}


# Long: the campaign in order (arguments, platform, reference run, each point, summary), printed as it goes.
def main() -> None:  # noqa: C901 - the campaign in order: arguments, platform, reference run, each point, summary
    """Prepare the platform, run the reference day, then every fault point; print what survived."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=Path("data/faults"))
    parser.add_argument("--seed", type=int, default=11)
    # Seed 11's tiny platform lists an account on the blacklist on this day: its run writes every stage's tables.
    parser.add_argument("--day", type=date.fromisoformat, default=DEFAULT_DAY, help="the day to fault (YYYY-MM-DD)")
    parser.add_argument("--at", help="comma-separated points <commit>:<before|after> instead of the default set")
    parser.add_argument("--keep", action="store_true", help="keep every faulted lake, not only those that differ")
    parser.add_argument("--resume", action="store_true", help="go on from where an interrupted campaign stopped")
    args = parser.parse_args()
    root = args.root.absolute()
    (root / "logs").mkdir(parents=True, exist_ok=True)
    # Like the tests' Spark: one shuffle partition is quicker on a tiny lake and gives the same tables.
    config = root / "accountwatch.toml"
    # Like the tests' Spark: one shuffle partition is quicker on a tiny lake and gives the same tables; 2g is
    # plenty for it and leaves room for the campaign's own JVM and for other work on the machine.
    config.write_text('[spark]\nshuffle_partitions = 1\ndriver_memory = "2g"\n')
    env = {k: v for k, v in os.environ.items() if k not in (FAULT_AT_VARIABLE, FAULT_TRACE_VARIABLE)}
    env.setdefault(PII_KEY_VARIABLE, local_demo_key(root).decode())
    # A Prefect home of its own: the runs' temporary servers keep their SQLite apart from any other Prefect use.
    env.update(PREFECT_HOME=str(root / "prefect"), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    # On a busy machine the temporary server can take longer than the 20 s Prefect waits for it by default.
    env.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    started = time.monotonic()
    landing, day, before = _prepare(root, args.seed, args.day, env, config)

    def nightly(lake_dir: Path, label: str, extra: dict[str, str], expected: int = 0) -> tuple[int, bool]:
        """The run's return code, and whether its JVM was lost (then the attempt tells nothing)."""
        command = [str(BIN / "accountwatch"), "run", "--date", day.isoformat(), "--landing", str(landing)]
        command += ["--lake", str(lake_dir), "--config", str(config)]
        log = root / "logs" / f"{label}.log"
        returncode = _run(command, {**env, **extra}, log)
        return returncode, _jvm_lost(returncode, expected, log)

    reference_dir, trace = root / "lake-reference", root / "reference-commits.tsv"
    made, marker = {"seed": args.seed, "day": day.isoformat()}, root / "reference.json"
    if args.resume and marker.exists() and json.loads(marker.read_text()) == made:
        print(f"reference: the nightly run of {day} made earlier, in {reference_dir}", flush=True)
    else:
        marker.unlink(missing_ok=True)
        print(f"reference: the nightly run of {day}, uninterrupted", flush=True)
        for attempt in range(1, ATTEMPTS + 1):
            shutil.rmtree(reference_dir, ignore_errors=True)
            shutil.copytree(before, reference_dir)
            trace.unlink(missing_ok=True)
            returncode, lost = nightly(reference_dir, "reference", {FAULT_TRACE_VARIABLE: str(trace)})
            if not lost:
                break
            print(f"    attempt {attempt}: the run's Spark JVM went away; once more", flush=True)
        if returncode != 0:
            raise SystemExit(f"the reference run failed; see {root / 'logs' / 'reference.log'}")
        marker.write_text(json.dumps(made))
    commits = _read_trace(trace)
    print(f"the run made {len(commits)} Delta commits (replace or merge calls):")
    for commit in commits:
        print(f"  {commit.number:3d} {commit}")
    unseen = _unseen_commits(before, reference_dir, commits)
    if unseen:
        raise SystemExit(f"the tables' logs hold commits the hook did not count: {unseen}")
    missing = [name for name in STAGE_TABLES if name not in {commit.table for commit in commits}]
    if missing:
        print(f"note: the run of {day} does not write {', '.join(missing)}; no point comes before those writes")

    points = args.at.split(",") if args.at else default_points(len(commits))
    valid = {f"{number}:{position}" for number in range(1, len(commits) + 1) for position in POSITIONS}
    if invalid := [point for point in points if point not in valid]:
        raise SystemExit(f"--at {', '.join(invalid)}: a point is <commit 1..{len(commits)}>:<before|after>")
    print(f"{len(points)} fault points; every table compared, without the columns {RUN_TIME_COLUMNS}", flush=True)
    settings = load_settings(str(config))
    spark = get_spark(settings, app_name="accountwatch-faults")
    expected = lake_rows(Lake(spark, reference_dir, settings))
    # Each point's outcome is kept as it is known, so that --resume can go on after the campaign is stopped.
    done, finished = root / "outcomes.jsonl", {}
    if args.resume and done.exists():
        finished = {outcome.point: outcome for outcome in map(_outcome, done.read_text().splitlines())}
    else:
        done.unlink(missing_ok=True)
    outcomes = []
    for index, point in enumerate(points, start=1):
        if point in finished:
            print(f"[{index}/{len(points)}] {point}: done earlier, survived: {finished[point].survived}", flush=True)
            outcomes.append(finished[point])
            continue
        outcome = Outcome(point, _where(point, commits))
        print(f"[{index}/{len(points)}] kill {outcome.where}", flush=True)
        point_started = time.monotonic()
        lake_dir = root / f"lake-fault-{point.replace(':', '-')}"
        label = f"fault-{point.replace(':', '-')}"
        for outcome.attempts in range(1, ATTEMPTS + 1):
            shutil.rmtree(lake_dir, ignore_errors=True)
            shutil.copytree(before, lake_dir)
            killed = {FAULT_AT_VARIABLE: point}
            outcome.killed_returncode, lost = nightly(lake_dir, f"{label}-killed", killed, -signal.SIGKILL)
            if not lost:
                outcome.written_before_kill = sorted(_gained_commits(before, lake_dir))
                outcome.rerun_returncode, lost = nightly(lake_dir, f"{label}-rerun", {})
            if not lost:
                break
            print(f"    attempt {outcome.attempts}: a run's Spark JVM went away; the point once more", flush=True)
        outcome.differing_after_rerun = differing_tables(Lake(spark, lake_dir, settings), expected)
        outcome.seconds = round(time.monotonic() - point_started, 1)
        print(
            f"    killed: returncode {outcome.killed_returncode}, tables written by then: "
            f"{', '.join(outcome.written_before_kill) or 'none'}; rerun: returncode {outcome.rerun_returncode}, "
            "tables differing: "
            f"{outcome.differing_after_rerun or 'none'} ({outcome.seconds} s)",
            flush=True,
        )
        if outcome.survived and not args.keep:
            shutil.rmtree(lake_dir)
        outcomes.append(outcome)
        with open(done, "a") as kept:
            kept.write(json.dumps(asdict(outcome)) + "\n")

    survived = sum(outcome.survived for outcome in outcomes)
    differing = sum(len(outcome.differing_after_rerun) for outcome in outcomes)
    summary = {
        "run_date": day.isoformat(),
        "commits": len(commits),
        "tables": len(TABLES),
        "left_out_columns": {name: list(columns) for name, columns in RUN_TIME_COLUMNS.items()},
        "faults": len(outcomes),
        "survived": survived,
        "tables_differing_after_rerun": differing,
        "attempts_repeated_for_a_lost_jvm": sum(outcome.attempts - 1 for outcome in outcomes),
        "minutes": round((time.monotonic() - started) / 60, 1),
        "minutes_of_the_points": round(sum(outcome.seconds for outcome in outcomes) / 60, 1),
        "outcomes": [asdict(outcome) for outcome in outcomes],
    }
    (root / "faults.json").write_text(json.dumps(summary, indent=2))
    print(
        f"faults survived: {survived}/{len(outcomes)}; tables differing after the rerun: {differing} "
        f"(of {len(outcomes) * len(TABLES)} table comparisons); {summary['minutes']} min, "
        f"{summary['attempts_repeated_for_a_lost_jvm']} attempts repeated for a lost JVM; details in "
        f"{root / 'faults.json'}"
    )
    if survived != len(outcomes):
        sys.exit(1)


if __name__ == "__main__":
    main()
