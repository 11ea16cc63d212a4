"""One Spark session and one Prefect test harness for the whole test run."""

from __future__ import annotations

import os
import pickle
import shutil
import sys
import time
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

# A pytest-xdist worker runs in a bare __main__ (no __spec__, no __file__). pyspark's Connect package, which
# Great Expectations imports, takes that for a doctest run without grpc and exits the worker: name a file.
_main = sys.modules["__main__"]
if getattr(_main, "__spec__", None) is None and not hasattr(_main, "__file__"):
    _main.__file__ = __file__

from accountwatch.jobs.core.config import Settings, load_settings  # noqa: E402
from accountwatch.jobs.core.lake import Lake  # noqa: E402
from accountwatch.jobs.core.spark import INTERPRETED_SQL, get_spark, session_conf  # noqa: E402

os.environ.setdefault("ACCOUNTWATCH_PII_KEY", "test-key-0123456789abcdef")
# Python turns naive datetimes into instants with the process time zone: make literals mean platform time.
os.environ["TZ"] = "Asia/Shanghai"
time.tzset()


# Modules that load landing folders through ingest and detect, run flows or start processes: `make test` runs them,
# `make test-fast` (the inner loop: unit tests on literal frames) leaves them out.
INTEGRATION_MODULES = frozenset(
    {
        "test_pipeline",
        "test_spark_log",
        "test_transfers",
        "test_measures",
        "test_status",
        "test_server",
        "test_startup",
        "test_artifacts",
        "test_run",
        "test_settle",
        "test_load",
        "test_landing",
        "test_evidence",
        "test_report",
        "test_daily_review",
        "test_platform",
        "test_faults",
        "test_cli_pii",
        "test_purge",
        "test_cli_csv",
    }
)
# Session fixtures that build a whole platform: a test using one is an integration test wherever it lives.
SHARED_PLATFORM_FIXTURES = ("platform_run",)


# The test files that read the shared platform: the first worker to need it builds it, the others wait and read it.
PLATFORM_FILES = frozenset(
    {
        "tests/flows/test_console.py",
        "tests/flows/test_pipeline.py",
        "tests/flows/test_server.py",
        "tests/jobs/outputs/test_evidence.py",
        "tests/jobs/outputs/test_evidence_refusals.py",
        "tests/jobs/outputs/test_report.py",
        "tests/notebooks/test_daily_review.py",
    }
)
# The slowest files, slowest first (worker-seconds of `make test` on 2026-12-03): xdist hands them out first, so
# that no worker starts one of them when the others are nearly done. test_server builds the shared platform (about
# 400 s) before its own processes, and the other readers of the platform come after the long ingest modules, by
# which time it is built. Every other file follows in collection order.
SLOWEST_FIRST = (
    "tests/flows/test_server.py",
    "tests/jobs/ingest/test_load.py",
    "tests/jobs/standing/test_settle.py",
    "tests/jobs/detectors/test_run.py",
    "tests/flows/test_console.py",
    "tests/jobs/ingest/test_transfers.py",
    "tests/notebooks/test_daily_review.py",
    "tests/jobs/outputs/test_evidence.py",
)


def _slowness_rank(item) -> int:
    path = item.nodeid.split("::", 1)[0]
    return SLOWEST_FIRST.index(path) if path in SLOWEST_FIRST else len(SLOWEST_FIRST)


def pytest_collection_modifyitems(config, items) -> None:
    """Mark the integration tests (left out by `make test-fast`), check the platform's readers are all known, and
    put the slowest files first (a stable sort: every file keeps its tests' order)."""
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1]
        shares_platform = any(name in item.fixturenames for name in SHARED_PLATFORM_FIXTURES)
        if module in INTEGRATION_MODULES or shares_platform:
            item.add_marker(pytest.mark.integration)
        if shares_platform and item.nodeid.split("::", 1)[0] not in PLATFORM_FILES:
            raise pytest.UsageError(f"{item.nodeid} reads the shared platform: add its file to PLATFORM_FILES")
    items.sort(key=_slowness_rank)


def pytest_xdist_make_scheduler(config, log):
    """Each test file stays in one worker (its module fixtures are built once), in the order of the collection."""
    from xdist.scheduler import LoadScopeScheduling

    # xdist would hand out the files with the most tests first; the collection order puts the slowest first.
    config.option.loadscopereorder = False

    class FileByFile(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            # tests/synthetic/conftest.py builds its tiny and demo platforms once per worker: keep them in one.
            return "synthetic platforms" if path.startswith("tests/synthetic/") else path

        def _reschedule(self, node) -> None:
            # A worker holds its last test until it is sent more (or told to stop): send the next file then, not
            # while two tests are still pending, which would queue a file behind a long module fixture.
            if not node.shutting_down and self.workqueue and self._pending_of(self.assigned_work[node]) > 1:
                return
            super()._reschedule(node)

    return FileByFile(config, log)


@pytest.fixture(scope="session")
def settings() -> Settings:
    # One JVM serves every test's Spark plans, among them hundreds of nightly detector passes: 2g thrashed in GC.
    return replace(load_settings(), spark_master="local[2]", shuffle_partitions=1, driver_memory="6g")


@pytest.fixture(scope="session")
def spark(settings):
    return get_spark(settings, app_name="accountwatch-tests")


@pytest.fixture
def lake(spark, settings, tmp_path: Path) -> Lake:
    return Lake(spark, tmp_path / "lake", settings)


# Literal frames of a few rows run faster without adaptive execution and generated code: side by side on
# 2026-12-02, test_fake_follower_spike 250 s against 308 s, test_batch_registration 237 s against 272 s. The results
# are the same by Spark's contract; the integration tests (flows, processes, landing folders) keep the production
# settings, and the commands they start run with them.
LITERAL_FRAME_SQL = {"spark.sql.adaptive.enabled": "false", **INTERPRETED_SQL}


@pytest.fixture(autouse=True)
def literal_frame_execution(request):
    """A unit test's Spark plans run interpreted, without adaptive execution; other tests keep the defaults."""
    if request.node.get_closest_marker("integration") or "spark" not in request.fixturenames:
        yield
        return
    with session_conf(request.getfixturevalue("spark"), LITERAL_FRAME_SQL):
        yield


@pytest.fixture(scope="session")
def prefect_harness():
    """A throwaway Prefect API for the flow tests, shared by the whole session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def platform_run(prefect_harness, spark, settings, tmp_path_factory, worker_id):
    """A tiny synthetic platform: backfill all but its last day, then the nightly flow for the last day.

    Built once per test run, whatever the number of workers: the first worker to need it builds it under a file
    lock, in the folder every worker of the run shares; the others wait for the lock and read what it built. Every
    module that reads a whole platform's lake shares it; a test that changes the lake works on a copy.
    """
    from filelock import FileLock

    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        shared = shared.parent
    root = shared / "platform"
    built = root / "built.pickle"
    with FileLock(str(shared / "platform.lock")):
        if not built.is_file():
            built.parent.mkdir(exist_ok=True)
            built.write_bytes(pickle.dumps(_build_platform(root)))
    truth, result = pickle.loads(built.read_bytes())
    return truth, Lake(spark, root / "lake", settings), result


def _build_platform(root: Path) -> tuple:
    from accountwatch.flows.pipeline import backfill, nightly
    from accountwatch.synthetic import PlatformSize, generate_platform

    truth = generate_platform(root / "landing", seed=11, start=date(2026, 1, 1), size=PlatformSize.named("tiny"))
    lake_dir = root / "lake"
    backfill(truth.start.isoformat(), (truth.end - timedelta(days=1)).isoformat(), str(root / "landing"), str(lake_dir))
    # The lake as the last day's nightly run finds it, for the tests that run that day again in another process.
    shutil.copytree(lake_dir, root / BEFORE_LAST_DAY)
    result = nightly(truth.end.isoformat(), str(root / "landing"), str(lake_dir))
    return truth, result


BEFORE_LAST_DAY = "lake-before-last-day"
