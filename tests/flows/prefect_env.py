"""The environment of an `accountwatch` process that starts its own temporary Prefect server (the start-up and
server tests run such processes)."""

from __future__ import annotations

import os
from pathlib import Path

from accountwatch.flows.prefect_api import STARTUP_VARIABLE


def without_prefect_server(folder: Path) -> dict[str, str]:
    """The environment of a run on a temporary Prefect server whose home (and database) does not exist yet: its home
    is `prefect-home` under `folder`."""
    env = {key: value for key, value in os.environ.items() if key not in ("PREFECT_API_URL", STARTUP_VARIABLE)}
    env["PREFECT_HOME"] = str(folder / "prefect-home")
    return env
