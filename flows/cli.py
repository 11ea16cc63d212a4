"""The `accountwatch` command line."""

from __future__ import annotations

import csv
import getpass
import io
import json
import os
import shutil
import sys
import time
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from accountwatch.jobs.outputs.csvsafe import spreadsheet_safe
from accountwatch.schemas.findings import FINDINGS

# No outbound telemetry; its heartbeat also races the no-server mode's SQLite ("database is locked").
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="accountwatch: nightly public-account compliance checks."
)
console = Console(stderr=True)
DEMO_MARKER = ".accountwatch-demo"

LandingOption = Annotated[
    Path, typer.Option("--landing", envvar="ACCOUNTWATCH_LANDING", help="Landing folder (input files).")
]
LakeOption = Annotated[Path, typer.Option("--lake", envvar="ACCOUNTWATCH_LAKE", help="Lake folder (Delta tables).")]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", envvar="ACCOUNTWATCH_CONFIG", help="TOML file overriding the built-in defaults."),
]
DEFAULT_LANDING = Path("data/landing")
DEFAULT_LAKE = Path("data/lake")


class CommandError(RuntimeError):
    """A failure reported to the user as one line."""


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def _parse_day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"{option} {value!r} is not a date (expected YYYY-MM-DD)") from error


def _config_arg(config: Path | None) -> str | None:
    if config is None:
        return None
    if not config.is_file():
        raise CommandError(f"configuration file {config} does not exist")
    return str(config)


def _known_errors() -> tuple[type[BaseException], ...]:
    from accountwatch.expectations.runner import DataQualityError
    from accountwatch.flows.prefect_api import PrefectApiDownError
    from accountwatch.flows.runtime import LakeBusyError
    from accountwatch.jobs.core.config import ConfigError
    from accountwatch.jobs.core.lake import LakeError
    from accountwatch.jobs.core.pii import MissingPiiKeyError, PiiKeyMismatchError
    from accountwatch.jobs.core.spark import SparkSetupError
    from accountwatch.jobs.ingest.landing import LandingError
    from accountwatch.jobs.ingest.load import QuarantineThresholdError
    from accountwatch.jobs.ingest.purge import PurgeError
    from accountwatch.jobs.outputs.evidence import ExportError
    from accountwatch.jobs.outputs.report import ReportError
    from accountwatch.jobs.standing.blacklist import BlacklistError
    from accountwatch.jobs.standing.reviews import ReviewError

    return (
        CommandError,
        ReviewError,
        BlacklistError,
        ExportError,
        ReportError,
        LakeBusyError,
        PrefectApiDownError,
        ConfigError,
        LandingError,
        QuarantineThresholdError,
        DataQualityError,
        MissingPiiKeyError,
        PiiKeyMismatchError,
        PurgeError,
        SparkSetupError,
        LakeError,
    )


def _pii_key(lake: Path) -> bytes:
    """ACCOUNTWATCH_PII_KEY, or for a lake the demo wrote, the demo's local key (then also set for the flows)."""
    from accountwatch.jobs.core.pii import PII_KEY_VARIABLE, pii_key_from_environment

    demo_key = lake.absolute().parent / "demo-pii.key"
    if not os.environ.get(PII_KEY_VARIABLE) and (lake / DEMO_MARKER).exists() and demo_key.is_file():
        os.environ[PII_KEY_VARIABLE] = demo_key.read_text().strip()
    return pii_key_from_environment()


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


def _run_pipeline(kind: str, start: date, end: date, landing: Path, lake: Path, config: Path | None) -> dict:
    _pii_key(lake)
    if not landing.is_dir():
        raise CommandError(f"landing folder {landing} does not exist")
    config_file = _config_arg(config)
    _prepare_prefect(config_file)
    from accountwatch.flows import pipeline

    started = time.monotonic()
    if kind == "nightly":
        result = pipeline.nightly(start.isoformat(), str(landing), str(lake), config_file)
    else:
        result = pipeline.backfill(start.isoformat(), end.isoformat(), str(landing), str(lake), config_file)
    _print_ingest(result["ingest"])
    _print_detect(result["detect"])
    console.print(f"{kind} {start.isoformat()}..{end.isoformat()} finished in {time.monotonic() - started:.1f} s")
    return result


@app.command()
def run(
    run_date: Annotated[str, typer.Option("--date", help="The platform day to process (YYYY-MM-DD).")],
    landing: LandingOption = DEFAULT_LANDING,
    lake: LakeOption = DEFAULT_LAKE,
    config: ConfigOption = None,
) -> None:
    """The nightly run for one day: ingest it, detect, record the findings."""
    day = _parse_day(run_date, "--date")
    _run_pipeline("nightly", day, day, landing, lake, config)


@app.command()
def backfill(
    start: Annotated[str, typer.Option("--start", help="First day (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option("--end", help="Last day (YYYY-MM-DD).")],
    landing: LandingOption = DEFAULT_LANDING,
    lake: LakeOption = DEFAULT_LAKE,
    config: ConfigOption = None,
) -> None:
    """Every day from --start to --end in one bulk job, with the same results as nightly runs."""
    first, last = _parse_day(start, "--start"), _parse_day(end, "--end")
    if last < first:
        raise CommandError(f"--end {end} is before --start {start}")
    _run_pipeline("backfill", first, last, landing, lake, config)


FINDING_COLUMNS = tuple(field.name for field in FINDINGS.fields)
SHOWN_COLUMNS = ("run_date", "detector", "account_id", "subject_id", "severity", "score", "finding_id")


@app.command()
def findings(
    run_date: Annotated[str | None, typer.Option("--date", help="One day.")] = None,
    start: Annotated[str | None, typer.Option("--start", help="First day of a range.")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Last day of a range.")] = None,
    detector: Annotated[str | None, typer.Option("--detector", help="Only this detector.")] = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="table, csv or json.")] = OutputFormat.table,
    landing: LandingOption = DEFAULT_LANDING,
    lake: LakeOption = DEFAULT_LAKE,
    config: ConfigOption = None,
) -> None:
    """Print the findings of a day or a range of days."""
    from pyspark.sql import functions as F

    from accountwatch.flows.runtime import open_lake
    from accountwatch.jobs.detectors.registry import names as detector_names

    if run_date and (start or end):
        raise CommandError("give either --date or --start and --end, not both")
    if run_date:
        first = last = _parse_day(run_date, "--date")
    elif start and end:
        first, last = _parse_day(start, "--start"), _parse_day(end, "--end")
    else:
        raise CommandError("give --date D, or --start D1 and --end D2")
    if detector and detector not in detector_names():
        raise CommandError(f"unknown detector {detector!r} (expected one of {', '.join(detector_names())})")
    if not (lake / "findings").is_dir():
        raise CommandError(f"no findings table under {lake}: run `accountwatch run` or `backfill` first")
    lake_tables, _ = open_lake(str(lake), _config_arg(config))
    selected = lake_tables.read("findings").where(F.col("run_date").between(first, last))
    if detector:
        selected = selected.where(F.col("detector") == detector)
    rows = [
        row.asDict() for row in selected.orderBy("run_date", "detector", F.col("score").desc(), "account_id").collect()
    ]
    for row in rows:
        row["run_date"] = row["run_date"].isoformat()
    if output is OutputFormat.csv:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=FINDING_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({key: spreadsheet_safe(value) for key, value in row.items()} for row in rows)
        sys.stdout.write(buffer.getvalue())
    elif output is OutputFormat.json:
        sys.stdout.write(
            json.dumps([{**row, "evidence": json.loads(row["evidence"])} for row in rows], ensure_ascii=False, indent=2)
            + "\n"
        )
    else:
        table = Table(title=f"Findings {first.isoformat()}..{last.isoformat()} ({len(rows)})")
        for column in SHOWN_COLUMNS:
            table.add_column(column)
        for row in rows:
            table.add_row(*[str(row[column] if row[column] is not None else "") for column in SHOWN_COLUMNS])
        Console().print(table)


def _plain(value):
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _emit(rows: list[dict], columns: tuple[str, ...], shown: tuple[str, ...], title: str, output: OutputFormat) -> None:
    """Print rows as a table (the `shown` columns), or every column as CSV or JSON on stdout."""
    rows = [{column: _plain(row[column]) for column in columns} for row in rows]
    if output is OutputFormat.csv:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(
            {
                key: spreadsheet_safe(json.dumps(value) if isinstance(value, list) else value)
                for key, value in row.items()
            }
            for row in rows
        )
        sys.stdout.write(buffer.getvalue())
    elif output is OutputFormat.json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
    else:
        table = Table(title=title)
        for column in shown:
            # Ids, dates and codes stay on one line; the last column (reasons, finding ids) wraps.
            last = column == shown[-1]
            table.add_column(column, no_wrap=not last, overflow="fold" if last else "ellipsis")
        for row in rows:
            cells = []
            for column in shown:
                value = row[column]
                cells.append(", ".join(value) if isinstance(value, list) else "" if value is None else str(value))
            table.add_row(*cells)
        Console().print(table)


def _open_existing(lake: Path, config: Path | None, table: str, hint: str):
    from accountwatch.flows.runtime import open_lake

    if not (lake / table).is_dir():
        raise CommandError(f"no {table} table under {lake}: {hint}")
    return open_lake(str(lake), _config_arg(config))


class Verdict(StrEnum):
    confirmed = "confirmed"
    dismissed = "dismissed"


@app.command()
def review(
    finding_id: Annotated[str, typer.Argument(help="The finding_id to review.")],
    verdict: Annotated[Verdict, typer.Option("--verdict", help="confirmed or dismissed.")],
    reviewer: Annotated[str, typer.Option("--reviewer", help="Who reviewed the finding.")],
    note: Annotated[str | None, typer.Option("--note", help="Why.")] = None,
    landing: LandingOption = DEFAULT_LANDING,
    lake: LakeOption = DEFAULT_LAKE,
    config: ConfigOption = None,
) -> None:
    """Record an analyst's verdict on a finding; the next run's tiers and blacklist take it into account."""
    from accountwatch.jobs.standing.reviews import record_review

    lake_tables, settings = _open_existing(lake, config, "findings", "run `accountwatch run` or `backfill` first")
    row = record_review(lake_tables, finding_id, verdict.value, reviewer, note, datetime.now(settings.zone))
    console.print(
        f"{row['verdict']} by {row['reviewer']}: finding {row['finding_id']} ({row['detector']}, account "
        f"{row['account_id']}, {row['run_date'].isoformat()}); tiers and the blacklist take it into account "
        "at the next run"
    )


TIER_COLUMNS = ("account_id", "tier", "rule", "reasons", "policy_version", "valid_from", "valid_to", "is_current")


@app.command()
def tiers(
    account: Annotated[str | None, typer.Option("--account", help="One account's tier history.")] = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="table, csv or json.")] = OutputFormat.table,
    landing: LandingOption = DEFAULT_LANDING,
    lake: LakeOption = DEFAULT_LAKE,
    config: ConfigOption = None,
) -> None:
    """Every public account's current credit tier, or with --account that account's whole tier history."""
    from pyspark.sql import functions as F

    lake_tables, _ = _open_existing(lake, config, "account_tiers", "run `accountwatch run` or `backfill` first")
    rows = lake_tables.read("account_tiers")
    if account:
        selected = [row.asDict() for row in rows.where(F.col("account_id") == account).orderBy("valid_from").collect()]
        if not selected:
            raise CommandError(f"no tier history for account {account!r} (only public accounts have tiers)")
        shown = ("valid_from", "valid_to", "tier", "rule", "reasons")
        _emit(selected, TIER_COLUMNS, shown, f"Tier history of {account}", output)
        return
    current = [row.asDict() for row in rows.where(F.col("is_current")).orderBy("tier", "account_id").collect()]
    counts = ", ".join(f"{tier} {sum(1 for row in current if row['tier'] == tier)}" for tier in ("A", "B", "C", "D"))
    shown = ("account_id", "tier", "valid_from", "rule", "reasons")
    _emit(current, TIER_COLUMNS, shown, f"Current tiers ({counts})", output)


BLACKLIST_COLUMNS = (
    "entity_type",
    "entity_id",
    "status",
    "listed_on",
    "reason",
    "finding_ids",
    "changed_by",
    "changed_at",
    "change_reason",
    "rule_version",
    "entry_id",
    "is_current",
)
blacklist_app = typer.Typer(help="The blacklist: list its entries (and their history), or lift one.")
app.add_typer(blacklist_app, name="blacklist")


@blacklist_app.callback(invoke_without_command=True)
def blacklist_entries(
    context: typer.Context,
    active: Annotated[bool, typer.Option("--active", help="Only entries in force now.")] = False,
    output: Annotated[OutputFormat, typer.Option("--format", help="table, csv or json.")] = OutputFormat.table,
    landing: LandingOption = DEFAULT_LANDING,
    lake: LakeOption = DEFAULT_LAKE,
    config: ConfigOption = None,
) -> None:
    """List blacklist entries: every listing and lift in order, or with --active the entries in force now."""
    if context.invoked_subcommand:
        return
    from pyspark.sql import functions as F

    lake_tables, _ = _open_existing(lake, config, "blacklist", "run `accountwatch run` or `backfill` first")
    rows = lake_tables.read("blacklist")
    if active:
        rows = rows.where(F.col("is_current") & (F.col("status") == "active"))
    selected = [row.asDict() for row in rows.orderBy("listed_on", "entity_type", "entity_id", "changed_at").collect()]
    shown = ("entity_type", "entity_id", "status", "listed_on", "changed_by", "reason")
    title = f"Blacklist: {'entries in force' if active else 'every listing and lift'} ({len(selected)})"
    _emit(selected, BLACKLIST_COLUMNS, shown, title, output)


class EntityType(StrEnum):
    account = "account"
    subject = "subject"


@blacklist_app.command("lift")
def blacklist_lift(
    entity: Annotated[str, typer.Argument(help="The account or subject id to lift.")],
    by: Annotated[str, typer.Option("--by", help="Who lifts the entry.")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is lifted.")],
    entity_type: Annotated[
        EntityType | None, typer.Option("--type", help="account or subject, when the id is listed as both.")
    ] = None,
    landing: LandingOption = DEFAULT_LANDING,
    lake: LakeOption = DEFAULT_LAKE,
    config: ConfigOption = None,
) -> None:
    """Lift an active blacklist entry; the listing stays on record with who lifted it, when and why."""
    from accountwatch.jobs.standing import blacklist

    lake_tables, settings = _open_existing(lake, config, "blacklist", "run `accountwatch run` or `backfill` first")
    rows = blacklist.lift(
        lake_tables, entity, by, reason, datetime.now(settings.zone), entity_type.value if entity_type else None
    )
    blacklist.write(lake_tables, rows)
    lifted = rows[-1]
    console.print(
        f"lifted {lifted.entity_type} {lifted.entity_id} (listed {lifted.listed_on.isoformat()}) by "
        f"{lifted.changed_by}: {lifted.change_reason}"
    )


@app.command("export-evidence")
def export_evidence(
    out: Annotated[Path, typer.Option("--out", help="New (or empty) folder to write the bundle to.")],
    by: Annotated[
        str | None,
        typer.Option("--by", help="Who exports the bundle (recorded in it and in `exports`); default: the login name."),
    ] = None,
    account: Annotated[str | None, typer.Option("--account", help="One account.")] = None,
    subject: Annotated[str | None, typer.Option("--subject", help="One subject and all its accounts.")] = None,
    start: Annotated[str | None, typer.Option("--start", help="First run day of the findings (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Last run day of the findings (YYYY-MM-DD).")] = None,
    landing: LandingOption = DEFAULT_LANDING,
    lake: LakeOption = DEFAULT_LAKE,
    config: ConfigOption = None,
) -> None:
    """Write a compliance evidence bundle for an account or subject: findings, reviews, tiers, blacklist, raw rows."""
    from accountwatch.jobs.outputs.evidence import Scope, export_bundle

    if bool(account) == bool(subject):
        raise CommandError("give either --account ID or --subject ID")
    if bool(start) != bool(end):
        raise CommandError("give both --start and --end, or neither")
    first = _parse_day(start, "--start") if start else None
    last = _parse_day(end, "--end") if end else None
    scope = Scope("account" if account else "subject", account or subject or "", first, last)
    exported_by = by or getpass.getuser()
    pii_key = _pii_key(lake)
    lake_tables, settings = _open_existing(lake, config, "findings", "run `accountwatch run` or `backfill` first")
    bundle = export_bundle(
        lake_tables, settings, scope, exported_by, out, datetime.now(settings.zone), pii_key, console.print
    )
    console.print(
        f"evidence bundle for {scope.describe()} written to {bundle.out_dir}: {bundle.findings} finding(s), "
        f"{len(bundle.files)} data files (data SHA-256 {bundle.data_sha256}); logged as export {bundle.export_id}"
    )


@app.command("purge-quarantine-pii")
def purge_quarantine_pii(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would be purged; change nothing.")] = False,
    landing: LandingOption = DEFAULT_LANDING,
    lake: LakeOption = DEFAULT_LAKE,
    config: ConfigOption = None,
) -> None:
    """Mask phone numbers older runs left in quarantine rows, and delete the table's old files and log."""
    from accountwatch.flows.runtime import open_lake, writer_lock
    from accountwatch.jobs.ingest.purge import purge_quarantine_pii as purge

    if not lake.is_dir():
        raise CommandError(f"lake folder {lake} does not exist")
    lake_tables, settings = open_lake(str(lake), _config_arg(config))
    if dry_run:
        outcome = purge(lake_tables, dry_run=True, say=console.print)
    else:
        with writer_lock(str(lake), "the quarantine PII purge", settings.lock_wait_seconds, console.print):
            outcome = purge(lake_tables, say=console.print)
    if not outcome.versions_removed:
        console.print(f"no quarantine table under {lake}: nothing to purge")
        return
    done = "would" if dry_run else "did"
    console.print(
        f"quarantine under {lake} ({'dry run, nothing changed' if dry_run else 'purged'}): {done} rewrite "
        f"{outcome.rows_rewritten} of {outcome.rows} rows holding a phone-like value; {done} remove "
        f"{outcome.data_files_removed} data files and {outcome.log_files_removed} log files "
        f"(its history, versions 0..{outcome.versions_removed - 1})"
    )


@app.command("rotate-pii-key")
def rotate_pii_key(
    new_key_env: Annotated[
        str, typer.Option("--new-key-env", help="Name of the environment variable that holds the new key.")
    ],
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm: pseudonyms written from now on will not match earlier ones.")
    ] = False,
    by: Annotated[str | None, typer.Option("--by", help="Who rotates the key; default: the login name.")] = None,
    landing: LandingOption = DEFAULT_LANDING,
    lake: LakeOption = DEFAULT_LAKE,
    config: ConfigOption = None,
) -> None:
    """Make a new PII key the lake's key from now on; stored pseudonyms stay as they are (they are one-way)."""
    from accountwatch.flows.runtime import writer_lock
    from accountwatch.jobs.core import pii
    from accountwatch.jobs.core.config import load_settings

    new_key = pii.pii_key_from_environment(new_key_env)
    if not lake.is_dir():
        raise CommandError(f"lake folder {lake} does not exist")
    if not yes:
        raise CommandError(
            "rotating the PII key cannot re-key the stored phone pseudonyms (they are one-way): pseudonyms written "
            "after the rotation will not match those written before; rerun with --yes to rotate"
        )
    settings = load_settings(_config_arg(config))
    note = f"rotate-pii-key by {by or getpass.getuser()}"
    with writer_lock(str(lake), "a PII key rotation", settings.lock_wait_seconds, console.print):
        retired, current = pii.rotate_pii_key(lake, new_key, note)
    console.print(
        f"the lake {lake} takes the key with fingerprint {current['fingerprint'][:8]} from {current['in_use_from']}"
        + (f" (key {retired['fingerprint'][:8]} retired)" if retired else "")
        + f"; set {pii.PII_KEY_VARIABLE} to it for runs and exports. Phone pseudonyms written before and after "
        "this time differ for the same number; phone blocks (batch_registration) are unaffected"
    )


@app.command()
def report(
    run_date: Annotated[str, typer.Option("--date", help="The run day to review (YYYY-MM-DD).")],
    out: Annotated[Path, typer.Option("--out", help="The HTML file to write.")],
    landing: LandingOption = DEFAULT_LANDING,
    lake: LakeOption = DEFAULT_LAKE,
    config: ConfigOption = None,
) -> None:
    """Write the day's review as one self-contained HTML file: charts, findings, spikes, clusters, tiers, blacklist."""
    from accountwatch.jobs.outputs.report import daily_review, render

    day = _parse_day(run_date, "--date")
    if out.is_dir():
        raise CommandError(f"--out {out} is a folder: give the HTML file to write")
    lake_tables, settings = _open_existing(lake, config, "findings", "run `accountwatch run` or `backfill` first")
    review = daily_review(lake_tables, day, settings)
    document = render(review, str(lake), datetime.now(settings.zone))
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    partial.write_text(document, encoding="utf-8")
    partial.replace(out)
    console.print(
        f"daily review of {day.isoformat()} written to {out}: {len(review.findings)} findings, "
        f"{len(review.spikes)} spikes, {len(review.clusters)} clusters, {len(review.tier_moves)} tier moves, "
        f"{len(review.blacklist_changes)} blacklist changes"
    )


@app.command()
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


def _print_scores(findings_rows, truth) -> None:
    from accountwatch.jobs.evaluate import score_detectors, score_drip

    table = Table(title="Planted vs found", box=box.SIMPLE, pad_edge=False)
    table.add_column("detector", no_wrap=True)
    for column in ("planted", "found", "hit", "prec.", "recall", "look-alikes"):
        table.add_column(column, no_wrap=True, justify="right")
    for score in score_detectors(findings_rows, truth):
        organic = f"{score.organic_flagged} of {score.organic_planted}" if score.organic_planted else ""
        table.add_row(
            score.detector,
            str(score.planted),
            str(score.found),
            str(score.true_positives),
            f"{score.precision:.3f}",
            f"{score.recall:.3f}",
            organic,
        )
    # Detector names stay whole: the table takes 100 columns even when stdout is not a wide terminal.
    Console(width=max(Console().width, 100)).print(table)
    drip = score_drip(findings_rows, truth)
    if drip.buyers:
        Console().print(
            f"slow drip of bought follows (not counted above): {drip.buyers_flagged} of {drip.buyers} buyers "
            f"flagged, on {drip.days_flagged} of {drip.days} drip days"
        )
    Console().print(
        "hit = found and planted; fake_follower_spike and the barring detectors score (account, day) pairs; "
        "look-alikes = planted look-alikes flagged (want 0): viral days; common-name collisions and a name two "
        "edits from a closed one"
    )


@app.command()
def evaluate(
    landing: LandingOption = DEFAULT_LANDING,
    lake: LakeOption = DEFAULT_LAKE,
    config: ConfigOption = None,
) -> None:
    """Score the lake's findings against the truth a synthetic platform left in the landing folder."""
    from accountwatch.flows.runtime import open_lake
    from accountwatch.synthetic.platform import TRUTH_FILE, PlantedTruth

    truth_file = landing / TRUTH_FILE
    if not truth_file.is_file():
        raise CommandError(f"no {TRUTH_FILE} in {landing}: only a synthetic platform (accountwatch demo) has one")
    if not (lake / "findings").is_dir():
        raise CommandError(f"no findings table under {lake}: run `accountwatch backfill` first")
    truth = PlantedTruth.from_json(truth_file.read_text())
    lake_tables, _ = open_lake(str(lake), _config_arg(config))
    _print_scores(lake_tables.read("findings"), truth)


def _prepare_demo_folder(folder: Path) -> None:
    if folder.exists() and any(folder.iterdir()) and not (folder / DEMO_MARKER).exists():
        raise CommandError(f"{folder} holds data that the demo did not write: choose another --landing/--lake")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    (folder / DEMO_MARKER).write_text("written by accountwatch demo; the next demo replaces this folder\n")


@app.command()
def demo(
    size: Annotated[str, typer.Option("--size", help="tiny, demo or bench.")] = "demo",
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
    from accountwatch.synthetic.platform import PlatformSize, generate_platform

    first = _parse_day(start, "--start")
    try:
        platform_size = PlatformSize.named(size)
    except (KeyError, ValueError) as error:
        raise CommandError(f"unknown --size {size!r} (expected tiny, demo or bench)") from error
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


def main() -> None:
    """Entry point: run the command, turning known failures into one line and a non-zero exit."""
    try:
        app(standalone_mode=False)
    except typer.Exit as done:
        raise SystemExit(done.exit_code) from None
    except Exception as error:  # noqa: BLE001 - the known kinds become one line; others are bugs
        import click

        if isinstance(error, click.ClickException):
            error.show()
            raise SystemExit(error.exit_code) from None
        if isinstance(error, click.exceptions.Abort):
            raise SystemExit(130) from None
        if isinstance(error, _known_errors()):
            sys.stderr.write(f"accountwatch: error: {' '.join(str(error).split())}\n")
            raise SystemExit(1) from None
        raise


if __name__ == "__main__":
    main()
