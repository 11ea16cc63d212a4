"""Commands that look after the lake's personal data: purge-quarantine-pii and rotate-pii-key."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from accountwatch.flows.cli.common import (
    DEFAULT_LAKE,
    DEFAULT_LANDING,
    CommandError,
    ConfigOption,
    LakeOption,
    LandingOption,
    _config_arg,
    console,
)


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
