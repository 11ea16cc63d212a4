"""accountwatch on a real Prefect server, and a nightly run started on saturated cores and killed midway: each in
processes of their own."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml
from pyspark.sql import functions as F

from accountwatch.benchmarks.tables import table_rows
from accountwatch.flows.deployments import BACKFILL, NIGHTLY, build_deployments
from accountwatch.jobs.core.config import load_settings
from accountwatch.jobs.core.lake import TABLES, Lake
from tests.conftest import BEFORE_LAST_DAY
from tests.flows.prefect_env import without_prefect_server

REPOSITORY = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _fresh_copy(platform_run, folder: Path) -> tuple[Path, Path]:
    _, lake, _ = platform_run
    shutil.copytree(lake.root.parent / BEFORE_LAST_DAY, folder)
    return lake.root.parent / "landing", folder


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stop_all(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    for process in processes:
        process.wait()


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_a_second_run_of_a_locked_lake_fails_naming_the_run_that_holds_it(tmp_path):
    from accountwatch.flows.runtime import LakeBusyError, writer_lock

    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from accountwatch.flows.runtime import writer_lock\n"
            f"with writer_lock({str(tmp_path)!r}, 'the nightly run of 2026-07-19', 0):\n"
            "    print('locked', flush=True)\n"
            "    time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(LakeBusyError, match=r"the nightly run of 2026-07-19 \(pid \d+"):
            with writer_lock(str(tmp_path), "the nightly run of 2026-07-19", wait_seconds=0):
                pass
    finally:
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait()
    # The killed holder's lock went with its process: the next run takes it at once.
    with writer_lock(str(tmp_path), "the rerun", wait_seconds=0):
        pass


def test_prefect_yaml_describes_the_deployments_serve_registers(tmp_path):
    settings = load_settings()
    served = {deployment.name: deployment for deployment in build_deployments(tmp_path, tmp_path, None, settings)}
    entries = yaml.safe_load((REPOSITORY / "prefect.yaml").read_text())["deployments"]
    described = {entry["name"]: entry for entry in entries}
    assert set(served) == set(described) == {NIGHTLY, BACKFILL}
    for name, deployment in served.items():
        entry = described[name]
        assert entry["entrypoint"].split(":")[1] == deployment.flow_name
        assert set(entry["parameters"]) == set(deployment.parameters)
        assert entry["concurrency_limit"] == 1
    nightly_schedule = served[NIGHTLY].schedules[0].schedule
    assert described[NIGHTLY]["schedules"] == [{"cron": nightly_schedule.cron, "timezone": nightly_schedule.timezone}]
    assert (nightly_schedule.cron, nightly_schedule.timezone) == ("0 2 * * *", "Asia/Shanghai")


@dataclass
class ServedRerun:
    """A nightly run started on saturated cores and killed midway in its own process, then the same day run again by a
    served deployment."""

    lake: Lake
    killed_returncode: int
    killed_output: str
    killed_run_created_its_prefect_database: bool
    recorded_after_kill: int
    loaded_before_kill: set[str]
    deployment: dict
    run_state: dict
    artifacts: dict


# Long: one scenario in order (the saturated start, the kill, the server and serve, the served run), its steps
# sharing the processes and the API client that the finally block stops.
@pytest.fixture(scope="module")
def served_rerun(platform_run, spark, settings, tmp_path_factory) -> ServedRerun:
    truth, _, _ = platform_run
    root = tmp_path_factory.mktemp("served")
    landing, lake_dir = _fresh_copy(platform_run, root / "lake")
    # Like the session's Spark: one shuffle partition is quicker on a tiny lake and gives the same tables. The run to
    # be killed starts on saturated cores: give its temporary Prefect server the wait a crawling machine needs.
    config = root / "accountwatch.toml"
    config.write_text("[runs]\nprefect_startup_seconds = 900\n[spark]\nshuffle_partitions = 1\n")
    folders = ["--landing", str(landing), "--lake", str(lake_dir), "--config", str(config)]
    command = [str(BIN / "accountwatch"), "run", "--date", truth.end.isoformat(), *folders]
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(root / "prefect"),
        "PREFECT_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
        # serve polls for scheduled and triggered runs every 10 s by default.
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
    }

    def start_server() -> subprocess.Popen:
        return subprocess.Popen(
            [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    # The server and serve start while the run to be killed works (it runs on a temporary server of its own), once
    # its start on saturated cores is over: starting beside it, they would only crowd the cores it is tested on.
    server: subprocess.Popen | None = None
    served: subprocess.Popen | None = None
    busy: list[subprocess.Popen] = []
    try:
        with httpx.Client(base_url=api, timeout=30) as client:

            def start_serving() -> subprocess.Popen:
                return subprocess.Popen(
                    [str(BIN / "accountwatch"), "serve", *folders],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                    cwd=root,
                )

            # The run to be killed starts its own temporary Prefect server, on a Prefect home whose database does
            # not exist yet, while two busy processes per core saturate the machine until its flow run begins.
            busy = [
                subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True)
                for _ in range(2 * (os.cpu_count() or 1))
            ]
            run = subprocess.Popen(
                command,
                env=without_prefect_server(root),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
                cwd=root,
            )
            seen = []
            assert run.stdout is not None
            for line in run.stdout:
                seen.append(line)
                # The flow run began, so its server answered: the rest of the run need not crawl.
                if busy and "Beginning flow run" in line:
                    _stop_all(busy)
                    busy = []
                    server = start_server()
                if server is not None and served is None and _ok(client, "/health", timeout=1):
                    served = start_serving()
                # Detect's first step: ingest has committed the day, detect has written nothing yet, as at any point
                # before its findings write (which once was the kill point here, at the cost of the detectors' work).
                if "building account snapshots" in line:
                    os.killpg(run.pid, signal.SIGKILL)
                    break
            _stop_all(busy)
            run.wait(timeout=60)
            lake = Lake(spark, lake_dir, settings)
            recorded = lake.read("detector_runs").where(F.col("run_date") == truth.end).count()
            loaded = lake.read("loaded_days").where(F.col("ingest_date") == truth.end).collect()

            if server is None:
                server = start_server()
            if served is None:
                _wait_for(lambda: _ok(client, "/health"), 300, "the Prefect server to start")
                served = start_serving()
            paths = (f"/deployments/name/nightly/{NIGHTLY}", f"/deployments/name/backfill/{BACKFILL}")
            _wait_for(lambda: all(_ok(client, path) for path in paths), 300, "serve to register both deployments")
            deployment = client.get(paths[0]).json()
            created = _post(
                client,
                f"/deployments/{deployment['id']}/create_flow_run",
                {"parameters": {"run_date": truth.end.isoformat()}},
            )
            run_id = created["id"]
            _wait_for(lambda: _finished(client, run_id), 900, "the nightly flow run to finish")
            state = client.get(f"/flow_runs/{run_id}").json()["state"]
            artifacts = _post(client, "/artifacts/filter", {"flow_runs": {"id": {"any_": [run_id]}}, "task_runs": {}})
    finally:
        _stop_all(busy)
        if served is not None:
            _stop(served)
        if server is not None:
            _stop(server)
    return ServedRerun(
        lake,
        run.returncode,
        "".join(seen),
        (root / "prefect-home" / "prefect.db").is_file(),
        recorded,
        {row["table_name"] for row in loaded},
        deployment,
        state,
        {artifact["key"]: artifact for artifact in artifacts},
    )


def test_a_run_on_saturated_cores_waits_for_its_temporary_prefect_server(served_rerun):
    output = served_rerun.killed_output
    assert "Starting temporary server" in output, output[-3000:]
    assert "Beginning flow run" in output, output[-3000:]
    assert served_rerun.killed_run_created_its_prefect_database
    # It went on to load the day before it was killed.
    assert {"accounts", "subscriptions", "engagement"} <= served_rerun.loaded_before_kill


def test_a_nightly_run_killed_midway_has_not_recorded_its_day(served_rerun):
    assert served_rerun.killed_returncode == -signal.SIGKILL, served_rerun.killed_output[-3000:]
    assert served_rerun.recorded_after_kill == 0


def test_served_nightly_deployment_runs_a_day_triggered_through_a_real_server(platform_run, served_rerun):
    truth, uninterrupted, _ = platform_run
    schedule = served_rerun.deployment["schedules"][0]["schedule"]
    assert (schedule["cron"], schedule["timezone"]) == ("0 2 * * *", "Asia/Shanghai")
    assert served_rerun.run_state["type"] == "COMPLETED", served_rerun.run_state
    assert served_rerun.artifacts["accountwatch-nightly-findings"]["type"] == "table"
    summary = served_rerun.artifacts["accountwatch-nightly-summary"]
    assert summary["type"] == "markdown" and "## Data quality" in summary["data"]
    on_last_day = F.col("run_date") == truth.end
    assert served_rerun.lake.read("detector_runs").where(on_last_day).count() > 0
    found = served_rerun.lake.read("findings").where(on_last_day)
    assert _rows(found) == _rows(uninterrupted.read("findings").where(on_last_day))


def test_rerunning_a_killed_day_leaves_the_tables_of_an_uninterrupted_run(platform_run, served_rerun):
    _, uninterrupted, _ = platform_run
    for name in TABLES:
        if name != "exports":
            assert table_rows(served_rerun.lake, name) == table_rows(uninterrupted, name), name


def _rows(frame) -> list[tuple]:
    return sorted(tuple(row) for row in frame.collect())


def _ok(client: httpx.Client, path: str, timeout: float = 30) -> bool:
    try:
        return client.get(path, timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def _post(client: httpx.Client, path: str, body: dict):
    """POST, retrying what the server's SQLite answers with 503 while busy (as Prefect's own client does)."""
    for _ in range(10):
        response = client.post(path, json=body)
        if response.status_code != 503:
            break
        time.sleep(2)
    response.raise_for_status()
    return response.json()


def _finished(client: httpx.Client, run_id: str) -> bool:
    state = client.get(f"/flow_runs/{run_id}").json().get("state") or {}
    return state.get("type") in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED")


def _wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(1)
    raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")
