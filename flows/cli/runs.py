"""Commands that run the pipeline: run, backfill, serve and demo."""

from __future__ import annotations

import os
import shutil
import time
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from accountwatch.flows.cli.common import (
    DEFAULT_LAKE,
    DEFAULT_LANDING,
    DEMO_MARKER,
    CommandError,
    ConfigOption,
    LakeOption,
    LandingOption,
    _config_arg,
    _parse_day,
    _pii_key,
    console,
)
from accountwatch.flows.cli.exports import _print_scores


def _print_ingest(result: dict) -> None:
    from accountwatch.jobs.ingest.load import reasons_in_order

    table = Table(title="Ingest")
    for column in ("table", "files", "rows landed", "rows loaded", "re-delivered", "quarantined (by reason)"):
        table.add_column(column)
    for name, load in result.items():
        reasons = ", ".join(f"{reason} {count}" for reason, count in reasons_in_order(load["quarantined"])) or "-"
        landed, loaded, again = (str(load[key]) for key in ("landed", "loaded", "redelivered"))
        table.add_row(name, str(load["files"]), landed, loaded, again, reasons)
    console.print(table)


def _print_detect(result: dict) -> None:
    table = Table(title="Detectors")
    table.add_column("detector", no_wrap=True)
    for column in ("days judged", "new findings", "note"):
        table.add_column(column)
    for name, outcome in result["detectors"].items():
        skipped = outcome["skipped"]
        note = f"{len(skipped)} day(s) not judged: {next(iter(skipped.values()))}" if skipped else ""
        table.add_row(name, str(outcome["judged_days"]), str(outcome["findings"]), note)
    console.print(table)
    standing = result["standing"]
    tiers = ", ".join(f"{tier} {count}" for tier, count in sorted(standing["current_tiers"].items())) or "-"
    console.print(
        f"blacklist: {len(standing['listed'])} listed, {len(standing['lifted'])} lifted; "
        f"tiers now {tiers} ({standing['tier_rows']} tier rows written); "
        f"{standing['suppressed']} finding(s) not raised again after a dismissal"
    )


def _prepare_prefect(config_file: str | None) -> None:
    """Before any flow and Spark: time for Prefect's temporary server to start, or a check the set one answers."""
    from accountwatch.flows.prefect_api import check_server_answers, give_server_time_to_start
    from accountwatch.jobs.core.config import load_settings

    give_server_time_to_start(load_settings(config_file).prefect_startup_seconds)
    from prefect.settings import PREFECT_API_URL

    api = PREFECT_API_URL.value()
    if api:
        check_server_answers(api, "start it, or unset PREFECT_API_URL to run without a server")


ProfileOption = Annotated[
    bool,
    typer.Option(
        "--profile", help="Print where the run's time goes: per stage its seconds, Spark jobs and Delta commits."
    ),
]


def _run_pipeline(
    kind: str, start: date, end: date, landing: Path, lake: Path, config: Path | None, profile: bool = False
) -> dict:
    from accountwatch.jobs.core import timing

    if profile:
        timing.enable()
        timing.add("process start to the command (Python imports)", time.time() - _process_started())
    _pii_key(lake)
    if not landing.is_dir():
        raise CommandError(f"landing folder {landing} does not exist")
    config_file = _config_arg(config)
    _prepare_prefect(config_file)
    from accountwatch.flows import pipeline
    from accountwatch.flows.cli.progress import stage_progress

    started = time.monotonic()
    with (
        stage_progress(console, f"{kind} {start.isoformat()}..{end.isoformat()}"),
        timing.stage(f"{kind} flow", rest="Prefect: flows, tasks and artifacts (the flow's time outside its tasks)"),
    ):
        if kind == "nightly":
            result = pipeline.nightly(start.isoformat(), str(landing), str(lake), config_file)
        else:
            result = pipeline.backfill(start.isoformat(), end.isoformat(), str(landing), str(lake), config_file)
    _print_ingest(result["ingest"])
    _print_detect(result["detect"])
    console.print(f"{kind} {start.isoformat()}..{end.isoformat()} finished in {time.monotonic() - started:.1f} s")
    if profile:
        console.print(timing.as_text(), markup=False, highlight=False, soft_wrap=True)
        console.print(f"end to end since the process started: {time.time() - _process_started():.1f} s")
    return result


def _process_started() -> float:
    """When this process started (epoch seconds), from /proc; where there is none, now."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, IndexError, ValueError):
        return time.time()
    return time.time() - (uptime - ticks / os.sysconf("SC_CLK_TCK"))


def run(
    run_date: Annotated[str, typer.Option("--date", help="The platform day to process (YYYY-MM-DD).")],
    landing: LandingOption = DEFAULT_LANDING,
    lake: LakeOption = DEFAULT_LAKE,
    config: ConfigOption = None,
    profile: ProfileOption = False,
) -> None:
    """The nightly run for one day: ingest it, detect, record the findings."""
    day = _parse_day(run_date, "--date")
    _run_pipeline("nightly", day, day, landing, lake, config, profile)


def backfill(
    start: Annotated[str, typer.Option("--start", help="First day (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option("--end", help="Last day (YYYY-MM-DD).")],
    landing: LandingOption = DEFAULT_LANDING,
    lake: LakeOption = DEFAULT_LAKE,
    config: ConfigOption = None,
    profile: ProfileOption = False,
) -> None:
    """Every day from --start to --end in one bulk job, with the same results as nightly runs."""
    first, last = _parse_day(start, "--start"), _parse_day(end, "--end")
    if last < first:
        raise CommandError(f"--end {end} is before --start {start}")
    _run_pipeline("backfill", first, last, landing, lake, config, profile)


def serve(
    landing: LandingOption = DEFAULT_LANDING,
    lake: LakeOption = DEFAULT_LAKE,
    config: ConfigOption = None,
) -> None:
    """Register and serve the nightly and backfill deployments on the Prefect server in PREFECT_API_URL."""
    from prefect import serve as serve_deployments
    from prefect.settings import PREFECT_API_URL

    from accountwatch.flows.deployments import BACKFILL, NIGHTLY, build_deployments
    from accountwatch.flows.prefect_api import check_server_answers
    from accountwatch.jobs.core.config import load_settings

    api = PREFECT_API_URL.value()
    if not api:
        raise CommandError(
            "PREFECT_API_URL is not set: start a server (prefect server start) and "
            "export PREFECT_API_URL=http://127.0.0.1:4200/api"
        )
    check_server_answers(api, "start it (prefect server start), or point PREFECT_API_URL at a running server")
    _pii_key(lake)
    if not landing.is_dir():
        raise CommandError(f"landing folder {landing} does not exist")
    config_file = _config_arg(config)
    settings = load_settings(config_file)
    console.print(
        f"serving nightly/{NIGHTLY} (cron '{settings.nightly_cron}' {settings.time_zone}, yesterday's folder) and "
        f"backfill/{BACKFILL} on {api}; landing {landing.absolute()}, lake {lake.absolute()}"
    )
    serve_deployments(*build_deployments(landing, lake, config_file, settings))


def _prepare_demo_folder(folder: Path) -> None:
    if folder.exists() and any(folder.iterdir()) and not (folder / DEMO_MARKER).exists():
        raise CommandError(f"{folder} holds data that the demo did not write: choose another --landing/--lake")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    (folder / DEMO_MARKER).write_text("written by accountwatch demo; the next demo replaces this folder\n")


def demo(
    size: Annotated[str, typer.Option("--size", help="tiny, demo, bench or wide.")] = "demo",
    seed: Annotated[int, typer.Option("--seed", help="Seed of the synthetic platform.")] = 7,
    start: Annotated[str, typer.Option("--start", help="First day of the synthetic platform.")] = "2026-01-01",
    landing: LandingOption = DEFAULT_LANDING,
    lake: LakeOption = DEFAULT_LAKE,
    config: ConfigOption = None,
) -> None:
    """Make a synthetic platform with planted anomalies, backfill it and score what was found."""
    from rich.progress import Progress

    from accountwatch.flows.runtime import open_lake
    from accountwatch.jobs.core.pii import PII_KEY_VARIABLE, local_demo_key
    from accountwatch.synthetic import PlatformSize, generate_platform

    first = _parse_day(start, "--start")
    try:
        platform_size = PlatformSize.named(size)
    except (KeyError, ValueError) as error:
        raise CommandError(f"unknown --size {size!r} (expected tiny, demo, bench or wide)") from error
    # Before the synthetic platform is written: a Prefect server that does not answer fails the demo at once.
    _prepare_prefect(_config_arg(config))
    started = time.monotonic()
    _prepare_demo_folder(landing)
    _prepare_demo_folder(lake)
    os.environ.setdefault(PII_KEY_VARIABLE, local_demo_key(lake.parent).decode())
    with Progress(console=console, transient=True) as progress:
        bar = progress.add_task("writing synthetic landing files", total=platform_size.days)
        truth = generate_platform(
            landing,
            seed=seed,
            start=first,
            size=platform_size,
            progress=lambda done, total: progress.update(bar, completed=done),
        )
    console.print(
        f"synthetic platform: {truth.start}..{truth.end}, seed {seed}, written in {time.monotonic() - started:.1f} s"
    )
    _run_pipeline("backfill", truth.start, truth.end, landing, lake, config)
    lake_tables, _ = open_lake(str(lake), _config_arg(config))
    _print_scores(lake_tables.read("findings"), truth)
    console.print(f"demo finished in {time.monotonic() - started:.1f} s; lake at {lake}, landing at {landing}")
