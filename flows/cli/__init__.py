"""The `accountwatch` command line: the Typer app, its commands in the order --help lists them, and main."""

from __future__ import annotations

import sys

import typer

from accountwatch.flows.cli import admin, exports, review, runs, status
from accountwatch.flows.cli.common import DEMO_MARKER, CommandError, OutputFormat, _emit, _pii_key
from accountwatch.flows.cli.review import BLACKLIST_COLUMNS

__all__ = ["BLACKLIST_COLUMNS", "DEMO_MARKER", "CommandError", "OutputFormat", "_emit", "_pii_key", "app", "main"]

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="accountwatch: nightly public-account compliance checks."
)

# Registered here, in one place, so that --help lists the commands in this order.
app.command()(runs.run)
app.command()(runs.backfill)
app.command()(review.findings)
app.command()(review.review)
app.command()(review.tiers)
app.command("console")(review.console_app)
app.add_typer(review.blacklist_app, name="blacklist")
app.command("export-evidence")(exports.export_evidence)
app.command("purge-quarantine-pii")(admin.purge_quarantine_pii)
app.command("rotate-pii-key")(admin.rotate_pii_key)
app.command()(exports.report)
app.command()(exports.measures)
app.command()(status.status)
app.command()(runs.serve)
app.command()(exports.evaluate)
app.command()(runs.demo)


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


def main() -> None:
    """Entry point: run the command, turning known failures into one line and a non-zero exit."""
    try:
        app(standalone_mode=False)
    except typer.Exit as done:
        raise SystemExit(done.exit_code) from None
    except Exception as error:  # noqa: BLE001 - the known kinds become one line; others are bugs
        import click
        from typer.exceptions import TyperException

        # Typer raises its own copies of click's exceptions (typer._click), with the same show() and exit_code.
        if isinstance(error, click.ClickException | TyperException) and hasattr(error, "show"):
            error.show()
            raise SystemExit(getattr(error, "exit_code", 2)) from None
        if isinstance(error, click.exceptions.Abort | typer.Abort):
            raise SystemExit(130) from None
        from accountwatch.jobs.core import spark

        hint = f" (Spark's own output: {spark.spark_log})" if spark.spark_log else ""
        if isinstance(error, _known_errors()):
            sys.stderr.write(f"accountwatch: error: {' '.join(str(error).split())}{hint}\n")
            raise SystemExit(1) from None
        if hint:
            sys.stderr.write(f"accountwatch: unexpected error{hint}\n")
        raise
