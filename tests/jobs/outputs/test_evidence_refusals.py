"""Evidence exports refused: unknown scopes, unusable --out folders, a bad range, and the command's one-line errors.
Nothing is written and nothing is logged for them."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest
from pyspark.sql import functions as F
from typer.testing import CliRunner

from accountwatch.flows.cli import CommandError, app, main
from accountwatch.jobs.core.pii import pii_key_from_environment
from accountwatch.jobs.outputs.evidence import ExportError, Scope, export_bundle
from tests.jobs.outputs.bundles import EXPORTER, NOW, export


@pytest.mark.parametrize("entity_type", ["account", "subject"])
def test_an_unknown_account_or_subject_is_refused_and_nothing_is_written(
    evidence_lake, settings, tmp_path, entity_type
):
    out = tmp_path / "bundle"
    with pytest.raises(ExportError, match=rf"^unknown {entity_type} 'no-such-id': no account in .* has it$"):
        export(evidence_lake, settings, Scope(entity_type, "no-such-id"), out)
    assert list(tmp_path.iterdir()) == []


def test_a_range_holding_none_of_the_accounts_findings_or_listings_has_nothing_to_export(
    platform_run, evidence_lake, settings, spike_account, tmp_path
):
    truth, _, _ = platform_run
    day = truth.start
    assert evidence_lake.read("findings").where(F.col("account_id") == spike_account).count() > 0
    scope = Scope("account", spike_account, day, day)
    with pytest.raises(ExportError) as refused:
        export(evidence_lake, settings, scope, tmp_path / "bundle")
    assert str(refused.value) == (
        f"nothing to export for account {spike_account} from {day.isoformat()} to {day.isoformat()}: "
        "it has no findings and no blacklist entries"
    )
    assert list(tmp_path.iterdir()) == []


def test_an_out_folder_holding_a_file_is_refused_and_left_as_it_was(evidence_lake, settings, spike_account, tmp_path):
    out = tmp_path / "bundle"
    out.mkdir()
    (out / "notes.txt").write_text("kept\n")
    with pytest.raises(ExportError, match="already exists and is not an empty folder: choose a new --out folder"):
        export(evidence_lake, settings, Scope("account", spike_account), out)
    assert list(tmp_path.iterdir()) == [out]
    assert list(out.iterdir()) == [out / "notes.txt"]
    assert (out / "notes.txt").read_text() == "kept\n"
    assert evidence_lake.read("exports").where(F.col("out_dir") == str(out)).isEmpty()


def test_an_out_filled_while_the_export_runs_is_refused_and_the_export_not_logged(
    evidence_lake, settings, spike_account, tmp_path
):
    out = tmp_path / "bundle"

    def fill_out(message: str) -> None:
        if message == "writing the bundle":
            out.mkdir()
            (out / "notes.txt").write_text("kept\n")

    scope = Scope("account", spike_account)
    with pytest.raises(ExportError, match="already exists and is not an empty folder: choose a new --out folder$"):
        export_bundle(evidence_lake, settings, scope, EXPORTER, out, NOW, pii_key_from_environment(), fill_out)
    assert list(tmp_path.iterdir()) == [out]
    assert list(out.iterdir()) == [out / "notes.txt"]
    assert evidence_lake.read("exports").where(F.col("out_dir") == str(out)).isEmpty()


@pytest.mark.parametrize("entity_type", ["account", "subject"])
def test_an_id_shaped_like_a_path_is_only_looked_up_never_used_as_a_path(
    evidence_lake, settings, tmp_path, entity_type
):
    out = tmp_path / "inside" / "bundle"
    with pytest.raises(ExportError, match=rf"^unknown {entity_type} '\.\./\.\./etc/passwd': no account in "):
        export(evidence_lake, settings, Scope(entity_type, "../../etc/passwd"), out)
    assert list(tmp_path.iterdir()) == []


def test_an_out_that_is_a_file_is_refused_and_left_as_it_was(evidence_lake, settings, spike_account, tmp_path):
    out = tmp_path / "bundle.zip"
    out.write_text("kept\n")
    with pytest.raises(ExportError) as refused:
        export(evidence_lake, settings, Scope("account", spike_account), out)
    assert str(refused.value) == f"--out {out} is a file, not a folder: choose a new --out folder"
    assert list(tmp_path.iterdir()) == [out]
    assert out.read_text() == "kept\n"


def test_an_out_under_a_file_is_refused_before_anything_is_written(evidence_lake, settings, spike_account, tmp_path):
    (tmp_path / "notes.txt").write_text("kept\n")
    out = tmp_path / "notes.txt" / "bundle"
    with pytest.raises(ExportError) as refused:
        export(evidence_lake, settings, Scope("account", spike_account), out)
    assert (
        str(refused.value)
        == f"--out {out} is inside {tmp_path / 'notes.txt'}, which is a file: choose a new --out folder"
    )
    assert list(tmp_path.iterdir()) == [tmp_path / "notes.txt"]


def test_an_out_that_is_a_symbolic_link_is_refused_and_its_target_left_empty(
    evidence_lake, settings, spike_account, tmp_path
):
    target = tmp_path / "elsewhere"
    target.mkdir()
    out = tmp_path / "bundle"
    out.symlink_to(target)
    with pytest.raises(ExportError, match="is a symbolic link: choose a new --out folder$"):
        export(evidence_lake, settings, Scope("account", spike_account), out)
    assert sorted(tmp_path.iterdir()) == [out, target]
    assert list(target.iterdir()) == []


@pytest.mark.parametrize("out", [".", "../inner/.."])
def test_an_out_of_dot_or_ending_in_dot_dot_is_refused(
    evidence_lake, settings, spike_account, tmp_path, monkeypatch, out
):
    # `.` is an empty folder here, yet neither it nor `..` names a folder the bundle could be renamed into.
    inner = tmp_path / "inner"
    inner.mkdir()
    monkeypatch.chdir(inner)
    with pytest.raises(ExportError) as refused:
        export(evidence_lake, settings, Scope("account", spike_account), Path(out))
    assert str(refused.value) == f"--out {out} does not name a folder of its own: give a new folder's path"
    assert list(tmp_path.iterdir()) == [inner]
    assert list(inner.iterdir()) == []


def test_an_end_before_the_start_is_refused(evidence_lake, settings, spike_account, tmp_path):
    scope = Scope("account", spike_account, date(2026, 3, 2), date(2026, 3, 1))
    with pytest.raises(ExportError) as refused:
        export(evidence_lake, settings, scope, tmp_path / "bundle")
    assert str(refused.value) == "--end 2026-03-01 is before --start 2026-03-02"
    assert list(tmp_path.iterdir()) == []


def test_cli_reports_an_unknown_account_in_one_line_and_exits_non_zero(evidence_lake, tmp_path, monkeypatch, capsys):
    arguments = ["--account", "no-such-account", "--by", EXPORTER, "--out", str(tmp_path / "bundle")]
    monkeypatch.setattr(sys, "argv", ["accountwatch", "export-evidence", *arguments, "--lake", str(evidence_lake.root)])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 1
    errors = capsys.readouterr().err
    assert "Traceback" not in errors
    assert errors.splitlines()[-1] == (
        f"accountwatch: error: unknown account 'no-such-account': no account in {evidence_lake.root} has it"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("case", ["path-like id", "out is a file", "out holds a file"])
def test_cli_reports_a_path_like_id_or_an_unusable_out_in_one_line_and_writes_nothing(
    evidence_lake, spike_account, tmp_path, monkeypatch, capsys, case
):
    out, account = tmp_path / "bundle", spike_account
    if case == "path-like id":
        account = "../../etc/passwd"
        expected = f"unknown account '../../etc/passwd': no account in {evidence_lake.root} has it"
    elif case == "out is a file":
        out.write_text("kept\n")
        expected = f"--out {out} is a file, not a folder: choose a new --out folder"
    else:
        out.mkdir()
        (out / "notes.txt").write_text("kept\n")
        expected = f"{out} already exists and is not an empty folder: choose a new --out folder"
    before = sorted(path for path in tmp_path.rglob("*"))
    arguments = ["--account", account, "--by", EXPORTER, "--out", str(out), "--lake", str(evidence_lake.root)]
    monkeypatch.setattr(sys, "argv", ["accountwatch", "export-evidence", *arguments])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 1
    errors = capsys.readouterr().err
    assert "Traceback" not in errors
    assert errors.splitlines()[-1] == f"accountwatch: error: {expected}"
    assert sorted(path for path in tmp_path.rglob("*")) == before
    assert evidence_lake.read("exports").where(F.col("out_dir") == str(out)).isEmpty()


def test_cli_refuses_an_account_and_a_subject_together(evidence_lake, spike_account, blacklisted_subject, tmp_path):
    out = tmp_path / "bundle"
    arguments = ["export-evidence", "--account", spike_account, "--subject", blacklisted_subject]
    result = CliRunner().invoke(
        app, [*arguments, "--by", EXPORTER, "--out", str(out), "--lake", str(evidence_lake.root)]
    )
    assert result.exit_code != 0
    assert isinstance(result.exception, CommandError)
    assert str(result.exception) == "give either --account ID or --subject ID"
    assert not out.exists()


def test_a_refused_export_leaves_nothing_cached_in_the_spark_session(
    spark, platform_run, evidence_lake, settings, spike_account, tmp_path
):
    truth, _, _ = platform_run
    cache = spark._jsparkSession.sharedState().cacheManager()
    # Start from an empty cache: no other module's fixture is alive while this module runs.
    spark.catalog.clearCache()
    try:
        for scope in (Scope("account", "no-such-id"), Scope("account", spike_account, truth.start, truth.start)):
            with pytest.raises(ExportError):
                export(evidence_lake, settings, scope, tmp_path / "bundle")
            assert cache.isEmpty(), f"the refused export of {scope.describe()} left its accounts frame persisted"
    finally:
        spark.catalog.clearCache()
