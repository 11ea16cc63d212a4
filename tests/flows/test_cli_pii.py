from __future__ import annotations

import sys
from datetime import date

import pytest
from typer.testing import CliRunner

from accountwatch.flows.cli import CommandError, app, main
from accountwatch.jobs.core.lake import TABLES, Lake
from accountwatch.jobs.core.pii import PiiKeyMismatchError, check_pii_key, read_key_record

KEY = "unit-test-key-0123456789"
NEW_KEY = "rotated-key-0123456789abc"


@pytest.fixture
def keyed_lake(tmp_path, monkeypatch):
    lake = tmp_path / "lake"
    check_pii_key(lake, KEY.encode())
    monkeypatch.setenv("NEW_PII_KEY", NEW_KEY)
    return lake


def test_rotate_pii_key_needs_yes_then_the_lake_takes_only_the_new_key(keyed_lake):
    runner = CliRunner()
    unconfirmed = runner.invoke(app, ["rotate-pii-key", "--new-key-env", "NEW_PII_KEY", "--lake", str(keyed_lake)])
    assert isinstance(unconfirmed.exception, CommandError) and "--yes" in str(unconfirmed.exception)
    assert len(read_key_record(keyed_lake)["keys"]) == 1

    rotated = runner.invoke(
        app, ["rotate-pii-key", "--new-key-env", "NEW_PII_KEY", "--yes", "--by", "li.wei", "--lake", str(keyed_lake)]
    )
    assert rotated.exit_code == 0, rotated.output
    check_pii_key(keyed_lake, NEW_KEY.encode())
    with pytest.raises(PiiKeyMismatchError):
        check_pii_key(keyed_lake, KEY.encode())
    assert read_key_record(keyed_lake)["keys"][-1]["how"] == "rotate-pii-key by li.wei"


def test_a_refused_key_is_one_line_and_a_nonzero_exit(keyed_lake, monkeypatch, capsys):
    monkeypatch.setenv("NEW_PII_KEY", KEY)
    argv = ["accountwatch", "rotate-pii-key", "--new-key-env", "NEW_PII_KEY", "--yes", "--lake", str(keyed_lake)]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as exited:
        main()
    error = capsys.readouterr().err
    assert exited.value.code == 1 and error.count("\n") == 1 and "already the key of the lake" in error


def test_purge_command_dry_run_changes_nothing_then_the_purge_masks_the_row(spark, settings, tmp_path):
    lake = Lake(spark, tmp_path / "lake", settings)
    row = ("engagement", date(2026, 3, 10), "/landing/part.csv", 1, "malformed_record", None, ["malformed_record"])
    clear = spark.createDataFrame([(*row, '{"record":"e1,pa_1,138 1111 0007"}')], TABLES["quarantine"].schema)
    lake.replace("quarantine", clear, "true")
    runner = CliRunner()
    dry = runner.invoke(app, ["purge-quarantine-pii", "--dry-run", "--lake", str(lake.root)])
    assert dry.exit_code == 0, dry.output
    assert "would rewrite 1 of 1 rows" in " ".join(dry.output.split()) and lake.version("quarantine") == 1

    purged = runner.invoke(app, ["purge-quarantine-pii", "--lake", str(lake.root)])
    assert purged.exit_code == 0, purged.output
    assert "did rewrite 1 of 1 rows" in " ".join(purged.output.split())
    assert [row["raw"] for row in lake.read("quarantine").collect()] == ['{"record":"e1,pa_1,<phone removed>"}']
