"""Starting a run: Prefect's temporary server given time to start, and a configured server that does not answer.

A run that starts its temporary server on saturated cores is tested in test_server.py, as the run killed there.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from dataclasses import replace
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from accountwatch.flows.prefect_api import (
    STARTUP_VARIABLE,
    PrefectApiDownError,
    check_server_answers,
    give_server_time_to_start,
)
from accountwatch.jobs.core.config import ConfigError, load_settings
from tests.flows.prefect_env import without_prefect_server

BIN = Path(sys.executable).parent
DAY = date(2026, 3, 10)


def test_the_startup_setting_is_read_from_the_runs_table(tmp_path):
    config = tmp_path / "accountwatch.toml"
    config.write_text("[runs]\nprefect_startup_seconds = 900\n")
    assert load_settings().prefect_startup_seconds == 600
    assert load_settings(config).prefect_startup_seconds == 900


def test_the_startup_setting_leaves_the_configuration_digest_alone():
    settings = load_settings()
    changed = replace(settings, prefect_startup_seconds=settings.prefect_startup_seconds + 1)
    assert changed.provenance()["config_sha256"] == settings.provenance()["config_sha256"]


@pytest.mark.parametrize(("user_value", "expected"), [(None, 123), ("45", 45)])
def test_the_startup_wait_reaches_prefect_unless_the_user_set_it(tmp_path, user_value, expected):
    # In a process of its own: Prefect reads its settings at import, and this one imports it before the hand-over.
    env = without_prefect_server(tmp_path)
    if user_value is not None:
        env[STARTUP_VARIABLE] = user_value
    script = (
        "import prefect\n"
        "from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS as wait\n"
        "from accountwatch.flows.prefect_api import give_server_time_to_start\n"
        "give_server_time_to_start(123)\n"
        "print(wait.value())\n"
    )
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-1] == str(expected)


def test_a_startup_wait_under_a_second_is_refused():
    with pytest.raises(ConfigError, match="prefect_startup_seconds must be at least 1"):
        give_server_time_to_start(0)


class _BusyThenHealthy(BaseHTTPRequestHandler):
    """A Prefect-like /health that answers 503 to its first request."""

    requests: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        self.requests.append(self.path)
        self.send_response(503 if len(self.requests) == 1 else 200)
        self.end_headers()
        self.wfile.write(b"true")

    def log_message(self, *args) -> None:
        pass


def test_a_server_busy_at_the_first_probe_passes_on_a_later_one():
    _BusyThenHealthy.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _BusyThenHealthy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        check_server_answers(f"http://127.0.0.1:{server.server_address[1]}/api/", "start it", within=10)
    finally:
        server.shutdown()
        server.server_close()
    assert _BusyThenHealthy.requests == ["/api/health", "/api/health"]


def test_a_server_that_only_answers_with_errors_is_reported_with_the_last_status():
    class AlwaysBusy(_BusyThenHealthy):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            self.send_response(503)
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), AlwaysBusy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    api = f"http://127.0.0.1:{server.server_address[1]}/api"
    try:
        with pytest.raises(PrefectApiDownError, match=rf"the Prefect server at {api} does not answer \(HTTP 503;"):
            check_server_answers(api, "start it", within=1.5)
    finally:
        server.shutdown()
        server.server_close()


def test_a_run_with_a_prefect_server_that_does_not_answer_fails_in_one_line(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port once the socket is closed.
    api = f"http://127.0.0.1:{port}/api"
    landing = tmp_path / "landing"
    landing.mkdir()
    env = {**without_prefect_server(tmp_path), "PREFECT_API_URL": api}
    command = [str(BIN / "accountwatch"), "run", "--date", DAY.isoformat(), "--landing", str(landing)]
    done = subprocess.run(
        [*command, "--lake", str(tmp_path / "lake")], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    assert done.stderr.startswith(f"accountwatch: error: the Prefect server at {api} does not answer (")
    assert done.stderr.rstrip().endswith("start it, or unset PREFECT_API_URL to run without a server")
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    # It failed before any Spark or lake work.
    assert not (tmp_path / "lake").exists()
