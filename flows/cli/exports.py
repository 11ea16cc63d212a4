"""Commands that write or score what the lake holds: export-evidence, report and evaluate."""

from __future__ import annotations

import getpass
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from accountwatch.flows.cli.common import (
    DEFAULT_LAKE,
    DEFAULT_LANDING,
    CommandError,
    ConfigOption,
    LakeOption,
    LandingOption,
    _config_arg,
    _open_existing,
    _parse_day,
    _pii_key,
    console,
)


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


def measures(
    month: Annotated[str, typer.Option("--month", help="The calendar month (YYYY-MM).")],
    out: Annotated[Path, typer.Option("--out", help="New (or empty) folder to write the record to.")],
    by: Annotated[
        str | None,
        typer.Option("--by", help="Who exports the record (logged in `exports`); default: the login name."),
    ] = None,
    landing: LandingOption = DEFAULT_LANDING,
    lake: LakeOption = DEFAULT_LAKE,
    config: ConfigOption = None,
) -> None:
    """Write the month's record of measures for the regulator: findings, verdicts, measures, tiers, CSV and HTML."""
    from accountwatch.jobs.outputs.measures import export_measures, month_bounds

    month_bounds(month)
    lake_tables, settings = _open_existing(lake, config, "findings", "run `accountwatch run` or `backfill` first")
    export = export_measures(
        lake_tables, settings, month, out, by or getpass.getuser(), datetime.now(settings.zone), console.print
    )
    console.print(
        f"record of measures for {month} written to {export.out_dir}: {export.findings} finding(s), "
        f"{len(export.files)} CSV files and summary.html (data SHA-256 {export.data_sha256}); "
        f"logged as export {export.export_id}"
    )


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


def evaluate(
    landing: LandingOption = DEFAULT_LANDING,
    lake: LakeOption = DEFAULT_LAKE,
    config: ConfigOption = None,
) -> None:
    """Score the lake's findings against the truth a synthetic platform left in the landing folder."""
    from accountwatch.flows.runtime import open_lake
    from accountwatch.jobs.planted_truth import TRUTH_FILE, PlantedTruth

    truth_file = landing / TRUTH_FILE
    if not truth_file.is_file():
        raise CommandError(f"no {TRUTH_FILE} in {landing}: only a synthetic platform (accountwatch demo) has one")
    if not (lake / "findings").is_dir():
        raise CommandError(f"no findings table under {lake}: run `accountwatch backfill` first")
    truth = PlantedTruth.from_json(truth_file.read_text())
    lake_tables, _ = open_lake(str(lake), _config_arg(config))
    _print_scores(lake_tables.read("findings"), truth)
