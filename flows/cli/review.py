"""Commands an analyst reviews with: findings, review, tiers and blacklist (list and lift)."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import datetime
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from accountwatch.flows.cli.common import (
    DEFAULT_LAKE,
    DEFAULT_LANDING,
    CommandError,
    ConfigOption,
    LakeOption,
    LandingOption,
    OutputFormat,
    _config_arg,
    _emit,
    _open_existing,
    _parse_day,
    console,
)
from accountwatch.jobs.outputs.csvsafe import spreadsheet_safe
from accountwatch.schemas.findings import FINDINGS

FINDING_COLUMNS = tuple(field.name for field in FINDINGS.fields)
SHOWN_COLUMNS = ("run_date", "detector", "account_id", "subject_id", "severity", "score", "finding_id")


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


class Verdict(StrEnum):
    confirmed = "confirmed"
    dismissed = "dismissed"


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
    from accountwatch.flows.runtime import writer_lock
    from accountwatch.jobs.standing.reviews import record_review

    lake_tables, settings = _open_existing(lake, config, "findings", "run `accountwatch run` or `backfill` first")
    # A run reads the reviews when it settles: the verdict waits for a run in progress rather than race it.
    with writer_lock(str(lake), f"a review by {reviewer}", settings.lock_wait_seconds, console.print):
        row = record_review(lake_tables, finding_id, verdict.value, reviewer, note, datetime.now(settings.zone))
    console.print(
        f"{row['verdict']} by {row['reviewer']}: finding {row['finding_id']} ({row['detector']}, account "
        f"{row['account_id']}, {row['run_date'].isoformat()}); tiers and the blacklist take it into account "
        "at the next run"
    )


TIER_COLUMNS = ("account_id", "tier", "rule", "reasons", "policy_version", "valid_from", "valid_to", "is_current")


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

    from accountwatch.jobs.core.pii import masked_phones

    lake_tables, _ = _open_existing(lake, config, "blacklist", "run `accountwatch run` or `backfill` first")
    # Lift reasons are free text: rows stored before they were masked on the way in are masked here.
    rows = lake_tables.read("blacklist").withColumn("change_reason", masked_phones(F.col("change_reason")))
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
    from accountwatch.flows.runtime import writer_lock
    from accountwatch.jobs.standing import blacklist

    lake_tables, settings = _open_existing(lake, config, "blacklist", "run `accountwatch run` or `backfill` first")
    with writer_lock(str(lake), f"a lift by {by}", settings.lock_wait_seconds, console.print):
        rows = blacklist.lift(
            lake_tables, entity, by, reason, datetime.now(settings.zone), entity_type.value if entity_type else None
        )
        blacklist.write(lake_tables, rows)
    console.print(blacklist.lift_summary(rows))


def console_app(
    host: Annotated[str, typer.Option("--host", help="Address to bind; not 127.0.0.1 needs --token.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8765,
    token: Annotated[
        str | None,
        typer.Option(
            "--token", envvar="ACCOUNTWATCH_CONSOLE_TOKEN", help="Secret every browser must present once (?token=)."
        ),
    ] = None,
    reviewer: Annotated[str, typer.Option("--reviewer", help="The name the review forms start with.")] = "",
    landing: LandingOption = DEFAULT_LANDING,
    lake: LakeOption = DEFAULT_LAKE,
    config: ConfigOption = None,
) -> None:
    """Review findings in a browser: the day's queue, each finding's evidence and history, verdicts, the blacklist."""
    import uvicorn

    from accountwatch.flows.console import create_app, needs_token

    if needs_token(host) and not token:
        raise CommandError(
            f"binding the console to {host} opens it beyond this machine: give --token (or ACCOUNTWATCH_CONSOLE_TOKEN)"
        )
    if token is not None and len(token) < 16:
        raise CommandError("--token is too short: use a secret of at least 16 characters")
    lake_tables, settings = _open_existing(lake, config, "findings", "run `accountwatch run` or `backfill` first")
    app = create_app(lake_tables, settings, str(lake), token, reviewer)
    where = f"http://{host}:{port}/" + ("?token=..." if token else "")
    console.print(f"console for {lake} at {where} (Ctrl-C to stop)")
    uvicorn.run(app, host=host, port=port, log_level="warning")
