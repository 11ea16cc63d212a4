"""Meeting Prefect's API: time for its temporary server to start, and a quick check of a configured server."""

from __future__ import annotations

import math
import os
import sys
import time

import httpx

from accountwatch.jobs.core.config import ConfigError

STARTUP_VARIABLE = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
# A busy server may miss one probe: it gets this long to answer one of them.
PROBE_SECONDS = 10.0
PROBE_TIMEOUT_SECONDS = 2.0
PROBE_PAUSE_SECONDS = 1.0


class PrefectApiDownError(RuntimeError):
    """PREFECT_API_URL names a server that does not answer."""


def give_server_time_to_start(seconds: float) -> None:
    """Let Prefect wait `seconds` for its temporary API server to start, unless the user set the variable."""
    if seconds < 1:
        raise ConfigError(f"[runs] prefect_startup_seconds must be at least 1, not {seconds}")
    # Prefect takes whole seconds.
    os.environ.setdefault(STARTUP_VARIABLE, str(math.ceil(seconds)))
    if "prefect.context" in sys.modules:
        # Prefect reads the environment into its settings once, at import: read it again so the wait counts.
        from prefect.context import refresh_global_settings_context

        refresh_global_settings_context()


def check_server_answers(api_url: str, hint: str, within: float = PROBE_SECONDS) -> None:
    """Fail with PrefectApiDownError when `api_url`/health gives no answer (or only 5xx ones) for `within` s."""
    health = f"{api_url.rstrip('/')}/health"
    deadline = time.monotonic() + within
    while True:
        try:
            response = httpx.get(health, timeout=PROBE_TIMEOUT_SECONDS)
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as error:
            raise PrefectApiDownError(f"PREFECT_API_URL {api_url!r} is not a server address ({error})") from None
        except httpx.TimeoutException:
            reason = f"no answer within {PROBE_TIMEOUT_SECONDS:.0f} s"
        except httpx.HTTPError as error:
            reason = " ".join(str(error).split()) or type(error).__name__
        else:
            # Any answer below 500 means a server is there; what it thinks of the request is Prefect's to report.
            if response.status_code < 500:
                return
            reason = f"HTTP {response.status_code}"
        if time.monotonic() + PROBE_PAUSE_SECONDS >= deadline:
            raise PrefectApiDownError(
                f"the Prefect server at {api_url} does not answer ({reason}; tried for {within:.0f} s): {hint}"
            )
        time.sleep(PROBE_PAUSE_SECONDS)
