"""Run accountwatch on a real Spark standalone cluster and check it gives what local mode gives.

Starts a master and two workers from the pyspark distribution on 127.0.0.1 (`spark-class
org.apache.spark.deploy.master.Master` and `...worker.Worker`), generates a short synthetic platform, and runs the
same backfill and nightly runs twice through the command line: once with `[spark] master = "local[2]"`, once with
the cluster's master URL from the configuration file. Then every lake table (findings, tiers, blacklist and all the
others, without the columns that record when a run happened) must hold the same rows in both lakes, and the
cluster's master must list every run as a finished application.

python -m accountwatch.benchmarks.cluster [--root data/cluster] [--seed 11] [--days 40]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pyspark

from accountwatch.jobs.core.pii import PII_KEY_VARIABLE, local_demo_key
from accountwatch.synthetic import PlatformSize, generate_platform

START = date(2026, 1, 1)
# Seconds the master and its workers may take to come up on a busy machine.
STARTUP_SECONDS = 300
# The short platform judges dormancy over one calendar month, so its 40 days reach the dormant cut-off.
CONFIG = """\
[spark]
master = "{master}"
driver_memory = "2g"

[dormant_account]
months = 1
"""


class ClusterError(RuntimeError):
    """The standalone cluster did not come up, or a run on it failed."""


@dataclass(frozen=True)
class Cluster:
    """A running standalone cluster: its master URL and the master's web UI (for its JSON status)."""

    master_url: str
    status_url: str

    def status(self) -> dict:
        with urllib.request.urlopen(self.status_url, timeout=10) as response:
            return json.loads(response.read())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def spark_class() -> Path:
    return Path(pyspark.__file__).parent / "bin" / "spark-class"


def cluster_environment() -> dict[str, str]:
    """Every process binds to 127.0.0.1, and the cluster runs this interpreter's pyspark."""
    return {
        **os.environ,
        "SPARK_HOME": str(Path(pyspark.__file__).parent),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "PYSPARK_PYTHON": sys.executable,
    }


def wait_for_workers(cluster: Cluster, workers: int, processes: list[subprocess.Popen], logs: Path) -> None:
    """Poll the master until `workers` workers are alive; fail naming the logs if a process exits first."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                raise ClusterError(f"a cluster process exited with {process.returncode}: see the logs in {logs}")
        try:
            if len([w for w in cluster.status().get("workers", []) if w.get("state") == "ALIVE"]) >= workers:
                return
        except OSError:
            pass
        time.sleep(1)
    raise ClusterError(f"the cluster did not have {workers} live workers within {STARTUP_SECONDS} s: see {logs}")


@contextmanager
def standalone_cluster(work: Path, workers: int = 2, cores: int = 1, memory: str = "2g") -> Iterator[Cluster]:
    """A master and `workers` workers on 127.0.0.1, stopped when the block ends."""
    logs = work / "cluster-logs"
    logs.mkdir(parents=True, exist_ok=True)
    port, ui_port = free_port(), free_port()
    cluster = Cluster(f"spark://127.0.0.1:{port}", f"http://127.0.0.1:{ui_port}/json/")
    environment = cluster_environment()
    master_class = "org.apache.spark.deploy.master.Master"
    worker_class = "org.apache.spark.deploy.worker.Worker"
    commands = [[master_class, "--host", "127.0.0.1", "--port", str(port), "--webui-port", str(ui_port)]]
    for number in range(workers):
        worker_dir = work / f"worker-{number}"
        worker_dir.mkdir(exist_ok=True)
        commands.append(
            [
                worker_class,
                cluster.master_url,
                "--host",
                "127.0.0.1",
                "--cores",
                str(cores),
                "--memory",
                memory,
                "--work-dir",
                str(worker_dir),
                "--webui-port",
                str(free_port()),
            ]
        )
    processes: list[subprocess.Popen] = []
    try:
        for number, command in enumerate(commands):
            name = "master" if number == 0 else f"worker-{number - 1}"
            log = (logs / f"{name}.log").open("w")
            processes.append(
                subprocess.Popen([str(spark_class()), *command], env=environment, stdout=log, stderr=subprocess.STDOUT)
            )
        wait_for_workers(cluster, workers, processes, logs)
        print(f"cluster up: {cluster.master_url}, {workers} workers of {cores} core(s) and {memory}", flush=True)
        yield cluster
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def accountwatch(*arguments: str, config: Path) -> None:
    """Run an accountwatch command in its own process (its own Spark driver), failing with its output."""
    command = [str(Path(sys.executable).parent / "accountwatch"), *arguments, "--config", str(config)]
    started = time.monotonic()
    result = subprocess.run(command, env=cluster_environment(), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ClusterError(f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    print(f"  {' '.join(arguments[:3])}: {time.monotonic() - started:.1f} s", flush=True)


def run_days(landing: Path, lake: Path, config: Path, first: date, last: date) -> None:
    """A backfill of every day but the last two, then a nightly run of each of them."""
    shutil.rmtree(lake, ignore_errors=True)
    common = ("--landing", str(landing), "--lake", str(lake))
    accountwatch(
        "backfill",
        "--start",
        first.isoformat(),
        "--end",
        (last - timedelta(days=2)).isoformat(),
        *common,
        config=config,
    )
    for day in (last - timedelta(days=1), last):
        accountwatch("run", "--date", day.isoformat(), *common, config=config)


def _finished_applications(cluster: Cluster, expected: int, wait_seconds: float = 60.0) -> list[str]:
    """The names of the applications the master lists as finished, once it lists `expected` (or after the wait).

    A driver's process can exit before the master has moved its application to the finished ones: on
    2026-12-04 the master removed the last run's application in the same second the status was read, and the
    status listed two of three.
    """
    deadline = time.monotonic() + wait_seconds
    while True:
        finished = [app["name"] for app in cluster.status().get("completedapps", [])]
        if len(finished) >= expected or time.monotonic() > deadline:
            return finished
        time.sleep(1)


def differing(local: Path, clustered: Path, config: Path) -> list[str]:
    """The tables whose rows differ between the two lakes (read in this process, in local mode)."""
    from accountwatch.benchmarks.tables import lake_rows
    from accountwatch.flows.runtime import open_lake

    local_lake, _ = open_lake(str(local), str(config))
    reference = lake_rows(local_lake)
    cluster_lake, _ = open_lake(str(clustered), str(config))
    other = lake_rows(cluster_lake)
    differ = [name for name in sorted(reference) if reference[name] != other[name]]
    for name in sorted(reference):
        same = "DIFFERENT" if name in differ else "same rows"
        print(f"  {name}: local {len(reference[name])} rows, cluster {len(other[name])} rows, {same}")
    return differ


def main() -> None:
    """Generate the platform, run it locally and on the cluster, compare every table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", type=Path, default=Path("data/cluster"))
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--days", type=int, default=40)
    args = parser.parse_args()
    root = args.root.absolute()
    shutil.rmtree(root, ignore_errors=True)
    landing = root / "landing"
    size = PlatformSize(public_accounts=40, users=300, events=150 * args.days, days=args.days)
    truth = generate_platform(landing, seed=args.seed, start=START, size=size)
    os.environ[PII_KEY_VARIABLE] = local_demo_key(root).decode()
    local_config = root / "local.toml"
    local_config.write_text(CONFIG.format(master="local[2]"))
    print(f"local mode, {truth.start} to {truth.end}:", flush=True)
    run_days(landing, root / "lake-local", local_config, truth.start, truth.end)
    with standalone_cluster(root) as cluster:
        cluster_config = root / "cluster.toml"
        cluster_config.write_text(CONFIG.format(master=cluster.master_url))
        print(f"cluster mode ({cluster.master_url}), {truth.start} to {truth.end}:", flush=True)
        run_days(landing, root / "lake-cluster", cluster_config, truth.start, truth.end)
        finished = _finished_applications(cluster, expected=3)
    print(f"the master lists {len(finished)} finished applications: {', '.join(finished)}")
    if len(finished) < 3:
        raise SystemExit("cluster-test: the runs did not run on the cluster (fewer than 3 finished applications)")
    print("comparing every table:")
    tables = differing(root / "lake-local", root / "lake-cluster", local_config)
    if tables:
        raise SystemExit(f"cluster-test: the cluster's lake differs from local mode's in {', '.join(tables)}")
    print("cluster-test: every table of the cluster's lake equals local mode's")


if __name__ == "__main__":
    main()
