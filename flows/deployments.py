"""The Prefect deployments `accountwatch serve` registers: the nightly schedule and an on-demand backfill."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron

from accountwatch.flows.pipeline import backfill, nightly
from accountwatch.jobs.core.config import Settings

NIGHTLY = "accountwatch-nightly"
BACKFILL = "accountwatch-backfill"


def build_deployments(landing: Path, lake: Path, config_file: str | None, settings: Settings) -> list[RunnerDeployment]:
    """The nightly deployment (cron in the platform time zone, run_date = yesterday) and the backfill deployment.

    Both write the same lake, so each runs one at a time; across deployments the lake's writer lock applies.
    """
    folders = {"landing": str(landing.absolute()), "lake_dir": str(lake.absolute()), "config_file": config_file}
    # to_deployment returns a coroutine only when called from async code; these callers are synchronous.
    deployments = [
        nightly.to_deployment(
            name=NIGHTLY,
            schedules=[Cron(settings.nightly_cron, timezone=settings.time_zone)],
            parameters={"run_date": None, **folders},
            concurrency_limit=1,
            description="The nightly run: ingest yesterday (platform time zone) unless run_date is given, detect, "
            "update the blacklist and tiers, publish the findings and a summary as artifacts.",
            tags=["accountwatch"],
        ),
        backfill.to_deployment(
            name=BACKFILL,
            parameters=folders,
            concurrency_limit=1,
            description="Every day from start to end in one bulk job, with the same results as nightly runs.",
            tags=["accountwatch"],
        ),
    ]
    return [cast(RunnerDeployment, deployment) for deployment in deployments]
