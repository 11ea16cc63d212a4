"""Evidence bundles exported end to end from a copy of the shared synthetic platform lake."""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import re
import shutil
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from html import escape
from importlib import metadata
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pyspark.sql import functions as F
from typer.testing import CliRunner

from accountwatch.flows.cli import CommandError, app, main
from accountwatch.jobs.core.lake import TABLES, Lake
from accountwatch.jobs.core.pii import pii_key_from_environment
from accountwatch.jobs.ingest.landing import days_between, list_day_files, read_landing
from accountwatch.jobs.outputs.csvsafe import original_value
from accountwatch.jobs.outputs.evidence import EXPORT_READS, Bundle, ExportError, Scope, export_bundle
from accountwatch.schemas.landing import ACCOUNTS

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 8, 1, 9, 30, tzinfo=ZONE)
EXPORTER = "compliance.officer@example.org"
ADDED_FOLLOW = "ev-added-after-the-run"
FORMULA_NAME = "=cmd|' /C calc'!A0"


@dataclass
class Exported:
    """A bundle written by export_bundle and its parsed manifest."""

    bundle: Bundle
    folder: Path
    manifest: dict

    def rows(self, path: str) -> list[dict[str, str]]:
        with (self.folder / path).open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))

    def data_files(self) -> list[str]:
        return [entry["path"] for entry in self.manifest["files"] if entry["path"] != "summary.html"]


def export(lake: Lake, settings, scope: Scope, folder: Path) -> Exported:
    bundle = export_bundle(lake, settings, scope, EXPORTER, folder, NOW, pii_key_from_environment())
    return Exported(bundle, folder, json.loads((folder / "manifest.json").read_text(encoding="utf-8")))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_version_of(exported: Exported, table: str) -> dict[str, int]:
    """Run date -> the version of `table` its detect run read, as the manifest records it."""
    return {day: run["read_versions"][table] for run in exported.manifest["detection_runs"] for day in run["run_dates"]}


def summary_events(exported: Exported) -> list[tuple[str, str, str, str]]:
    """The rows of summary.html's "What was found and done" table."""
    page = (exported.folder / "summary.html").read_text(encoding="utf-8")
    found_and_done = page.split("<h2>What was found and done</h2>", 1)[1].split("</table>", 1)[0]
    return re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", found_and_done)


@pytest.fixture(scope="module")
def evidence_lake(platform_run, spark, settings, tmp_path_factory) -> Lake:
    """A copy of the shared platform lake: exports log themselves and one test appends a row."""
    _, lake, _ = platform_run
    copy = tmp_path_factory.mktemp("evidence") / "lake"
    shutil.copytree(lake.root, copy)
    return Lake(spark, copy, settings)


@pytest.fixture(scope="module")
def bundles(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("bundles")


@pytest.fixture(scope="module")
def spike_account(platform_run) -> str:
    truth, _, _ = platform_run
    counts = Counter(account for account, _ in truth.bought_followers())
    return min(counts, key=lambda account: (-counts[account], account))


@pytest.fixture(scope="module")
def spike_export(evidence_lake, settings, spike_account, bundles) -> Exported:
    return export(evidence_lake, settings, Scope("account", spike_account), bundles / "spike")


@pytest.fixture(scope="module")
def spike_reexport(evidence_lake, settings, spike_account, spike_export, bundles) -> Exported:
    return export(evidence_lake, settings, Scope("account", spike_account), bundles / "spike-again")


@pytest.fixture(scope="module")
def late_follow_export(evidence_lake, spark, settings, spike_account, spike_export, spike_reexport, bundles):
    """After both spike exports: a follow on the spike day appended to subscriptions, then the same export again."""
    day = min(date.fromisoformat(row["run_date"]) for row in spike_export.rows("findings.csv"))
    added = (
        ADDED_FOLLOW,
        spike_account,
        "u-added-after-the-run",
        "follow",
        datetime(day.year, day.month, day.day, 12, 0, tzinfo=ZONE),
        "search",
        day,
        day,
        "added-by-test.csv",
        1,
    )
    frame = spark.createDataFrame([added], TABLES["subscriptions"].schema)
    frame.write.format("delta").mode("append").save(evidence_lake.path("subscriptions"))
    return day, export(evidence_lake, settings, Scope("account", spike_account), bundles / "spike-after-append")


@pytest.fixture(scope="module")
def blacklisted_subject(platform_run, evidence_lake) -> str:
    truth, _, _ = platform_run
    (account, day), *_ = sorted(truth.blacklisted_subject_registration)
    finding = (
        evidence_lake.read("findings")
        .where(
            (F.col("detector") == "blacklisted_subject_registration")
            & (F.col("account_id") == account)
            & (F.col("run_date") == day)
        )
        .first()
    )
    assert finding is not None
    return finding["subject_id"]


@pytest.fixture(scope="module")
def subject_export(evidence_lake, settings, blacklisted_subject, bundles) -> Exported:
    return export(evidence_lake, settings, Scope("subject", blacklisted_subject), bundles / "subject")


@pytest.fixture(scope="module")
def dormant_finding(evidence_lake) -> dict:
    """A dormant_account finding, preferring one whose evidence names a last login or publish."""
    findings = [row.asDict() for row in evidence_lake.read("findings").where("detector = 'dormant_account'").collect()]
    assert findings

    def never_used(finding: dict) -> bool:
        evidence = json.loads(finding["evidence"])
        return not (evidence.get("last_login_at") or evidence.get("last_publish_at"))

    return min(findings, key=lambda finding: (never_used(finding), finding["account_id"]))


@pytest.fixture(scope="module")
def dormant_export(evidence_lake, settings, dormant_finding, bundles) -> Exported:
    return export(evidence_lake, settings, Scope("account", dormant_finding["account_id"]), bundles / "dormant")


@pytest.fixture(scope="module")
def formula_named_export(
    evidence_lake, spark, settings, spike_account, dormant_finding, blacklisted_subject, bundles
) -> tuple[str, Exported]:
    """An account no other export here covers, renamed in `accounts` to a spreadsheet formula, then exported."""
    taken = {spike_account, dormant_finding["account_id"]}
    candidates = (
        evidence_lake.read("findings")
        .where(~F.col("account_id").isin(*taken))
        .where(F.col("subject_id").isNull() | (F.col("subject_id") != blacklisted_subject))
        .select("account_id")
    )
    account_id = min(row["account_id"] for row in candidates.collect())
    current = evidence_lake.read("accounts").where(F.col("account_id") == account_id).first()
    assert current is not None
    renamed = spark.createDataFrame([{**current.asDict(), "account_name": FORMULA_NAME}], TABLES["accounts"].schema)
    evidence_lake.upsert("accounts", renamed, ["account_id"])
    return account_id, export(evidence_lake, settings, Scope("account", account_id), bundles / "formula-name")


@pytest.fixture(scope="module")
def landing_phone_numbers(platform_run, spark) -> set[str]:
    """Every phone number of the landing account files, as national digits (no +86)."""
    truth, lake, _ = platform_run
    landing = lake.root.parent / "landing"
    files = [
        found for day in days_between(truth.start, truth.end) for found in list_day_files(landing, "accounts", day)
    ]
    assert files
    phones = read_landing(spark, ACCOUNTS, files).where(F.col("phone").isNotNull()).select("phone").distinct()
    numbers = {re.sub(r"^\+86", "", row["phone"].strip()) for row in phones.collect()}
    return {number for number in numbers if re.fullmatch(r"[0-9]{7,}", number)}


def test_account_bundle_holds_its_findings_and_each_spike_days_follows_read_at_the_runs_version(
    platform_run, evidence_lake, spike_account, spike_export
):
    truth, _, _ = platform_run
    in_lake = evidence_lake.read("findings").where(F.col("account_id") == spike_account).collect()
    exported = spike_export.rows("findings.csv")
    assert len(exported) == len(in_lake)
    assert {row["finding_id"]: (row["run_date"], row["detector"], row["evidence"]) for row in exported} == {
        row["finding_id"]: (row["run_date"].isoformat(), row["detector"], row["evidence"]) for row in in_lake
    }
    spikes = [row for row in exported if row["detector"] == "fake_follower_spike"]
    assert {(row["account_id"], date.fromisoformat(row["run_date"])) for row in spikes} == {
        (account, day) for account, day in truth.bought_followers() if account == spike_account
    }

    follows = spike_export.rows("raw/follow_events.csv")
    versions = read_version_of(spike_export, "subscriptions")
    assert {row["event_date"] for row in follows} == {spike["run_date"] for spike in spikes}
    for spike in spikes:
        day = spike["run_date"]
        on_day = [row for row in follows if row["event_date"] == day]
        assert len(on_day) == json.loads(spike["evidence"])["observed_follows"]
        assert all(
            (row["account_id"], row["action"], row["table_version"]) == (spike_account, "follow", str(versions[day]))
            and row["ingest_date"] <= day
            and spike["finding_id"] in row["finding_ids"].split()
            for row in on_day
        )
        delivered_that_day = (
            evidence_lake.read("subscriptions", versions[day])
            .where(
                (F.col("account_id") == spike_account)
                & (F.col("event_date") == date.fromisoformat(day))
                & (F.col("action") == "follow")
                & (F.col("ingest_date") <= F.col("event_date"))
            )
            .select("event_id")
        )
        assert {row["event_id"] for row in on_day} == {row["event_id"] for row in delivered_that_day.collect()}

    commits = {commit["version"]: commit for commit in evidence_lake.commits("findings")}
    for run in spike_export.manifest["detection_runs"]:
        assert run["read_versions"] == commits[run["findings_version"]]["userMetadata"]["read_versions"]


def test_raw_rows_are_read_at_the_runs_version_not_the_tables_current_one(
    evidence_lake, spike_account, spike_export, late_follow_export
):
    day, after_append = late_follow_export
    current = evidence_lake.read("subscriptions").where(
        (F.col("account_id") == spike_account)
        & (F.col("event_date") == day)
        & (F.col("action") == "follow")
        & (F.col("ingest_date") <= F.col("event_date"))
    )
    assert ADDED_FOLLOW in {row["event_id"] for row in current.collect()}

    follows = after_append.rows("raw/follow_events.csv")
    assert follows == spike_export.rows("raw/follow_events.csv")
    assert ADDED_FOLLOW not in {row["event_id"] for row in follows}
    run_version = read_version_of(after_append, "subscriptions")[day.isoformat()]
    assert after_append.manifest["tables_read"]["subscriptions"] > run_version
    assert {row["table_version"] for row in follows if row["event_date"] == day.isoformat()} == {str(run_version)}


def test_reexporting_the_same_scope_gives_byte_identical_data_files_and_logs_each_export(
    evidence_lake, spike_account, spike_export, spike_reexport
):
    first, second = spike_export, spike_reexport
    assert first.data_files() == second.data_files()
    assert "summary.html" not in first.data_files()
    for path in first.data_files():
        assert sha256(first.folder / path) == sha256(second.folder / path), path
    assert first.manifest["export_id"] != second.manifest["export_id"]
    assert first.manifest["data_sha256"] == second.manifest["data_sha256"]

    ids = [first.bundle.export_id, second.bundle.export_id]
    logged = evidence_lake.read("exports").where(F.col("export_id").isin(*ids)).collect()
    assert sorted(row["export_id"] for row in logged) == sorted(ids)
    for exported in (first, second):
        (row,) = [row for row in logged if row["export_id"] == exported.bundle.export_id]
        assert (row["exported_by"], row["entity_type"], row["entity_id"], row["out_dir"]) == (
            EXPORTER,
            "account",
            spike_account,
            str(exported.folder),
        )
        assert row["findings"] == len(exported.rows("findings.csv"))
        assert row["data_sha256"] == first.manifest["data_sha256"]
        assert row["manifest_sha256"] == sha256(exported.folder / "manifest.json")


def test_manifest_lists_every_file_with_its_sha256_and_records_what_the_export_read(
    evidence_lake, settings, spike_export
):
    folder, manifest = spike_export.folder, spike_export.manifest
    on_disk = {path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()}
    listed = {entry["path"]: entry["sha256"] for entry in manifest["files"]}
    assert set(listed) == on_disk - {"manifest.json", "SHA256SUMS"}
    assert {path: sha256(folder / path) for path in listed} == listed
    assert (folder / "SHA256SUMS").read_text() == "".join(
        f"{entry['sha256']}  {entry['path']}\n" for entry in manifest["files"]
    )

    assert manifest["exported_by"] == EXPORTER
    assert manifest["exported_at"] == "2026-08-01T09:30:00+08:00"
    assert manifest["accountwatch_version"] == metadata.version("accountwatch")
    assert manifest["configuration"]["rule_versions"] == settings.rule_versions
    assert set(manifest["tables_read"]) == {name for name in EXPORT_READS if evidence_lake.exists(name)}
    assert manifest["tables_read"]["findings"] == evidence_lake.version("findings")
    assert all(run["rule_versions"] == settings.rule_versions for run in manifest["detection_runs"])


def test_phone_numbers_and_their_blocks_never_appear_in_clear_in_any_bundle(
    evidence_lake,
    landing_phone_numbers,
    subject_export,
    spike_export,
    dormant_export,
):
    registrations = subject_export.rows("raw/registration_rows.csv")
    assert registrations
    assert "phone_block_pseudonym" in registrations[0] and "phone_block" not in registrations[0]
    registered = {row["account_id"] for row in registrations}
    clear = (
        evidence_lake.read("account_changes")
        .where(F.col("account_id").isin(*registered) & F.col("phone_block").isNotNull())
        .select("account_id", "phone_block")
        .collect()
    )
    blocks = {number[:7] for number in landing_phone_numbers}
    # The lake holds these accounts' blocks in clear, so a bundle copying them would fail the check below.
    assert clear and {row["phone_block"] for row in clear} <= blocks

    key = pii_key_from_environment()
    pseudonym_of = {
        row["account_id"]: hmac.new(key, row["phone_block"].encode(), hashlib.sha256).hexdigest() for row in clear
    }
    assert all(row["phone_block_pseudonym"] == pseudonym_of[row["account_id"]] for row in registrations)

    for exported in (subject_export, spike_export, dormant_export):
        for path in sorted(exported.folder.rglob("*")):
            if not path.is_file():
                continue
            text = path.read_text(encoding="utf-8")
            assert not [number for number in landing_phone_numbers if number in text], path
            standalone = set(re.findall(r"(?<![0-9A-Za-z])[0-9]{7,}(?![0-9A-Za-z])", text))
            assert not standalone & blocks, path


def test_subject_bundle_holds_whole_batch_clusters_its_listing_and_exactly_its_accounts(
    evidence_lake, blacklisted_subject, subject_export
):
    findings = subject_export.rows("findings.csv")
    batch = {
        (row["run_date"], json.loads(row["evidence"])["cluster_id"])
        for row in findings
        if row["detector"] == "batch_registration"
    }
    assert batch
    cluster_members = (
        evidence_lake.read("findings")
        .where(F.col("detector") == "batch_registration")
        .select(F.col("run_date").cast("string").alias("run_date"), "evidence", "account_id")
        .collect()
    )
    members = {
        row["account_id"]
        for row in cluster_members
        if (row["run_date"], json.loads(row["evidence"])["cluster_id"]) in batch
    }
    registered_alone = {
        row["account_id"]
        for row in findings
        if row["detector"] in ("blacklisted_subject_registration", "closed_name_reregistration")
    }
    registrations = subject_export.rows("raw/registration_rows.csv")
    assert {row["account_id"] for row in registrations} == members | registered_alone

    listing = (
        evidence_lake.read("blacklist")
        .where((F.col("entity_type") == "subject") & (F.col("entity_id") == blacklisted_subject))
        .collect()
    )
    assert listing
    exported_listing = [
        row
        for row in subject_export.rows("blacklist.csv")
        if (row["entity_type"], row["entity_id"]) == ("subject", blacklisted_subject)
    ]
    assert sorted((row["entry_id"], row["status"]) for row in exported_listing) == sorted(
        (row["entry_id"], row["status"]) for row in listing
    )

    accounts = evidence_lake.read("accounts").where(F.col("subject_id") == blacklisted_subject).collect()
    exported_accounts = [row["account_id"] for row in subject_export.rows("accounts.csv")]
    assert sorted(exported_accounts) == sorted(row["account_id"] for row in accounts)
    assert subject_export.manifest["scope"]["accounts"] == sorted(exported_accounts)


def test_dormant_bundle_holds_the_use_events_its_evidence_names_and_the_account_row(dormant_finding, dormant_export):
    evidence = json.loads(dormant_finding["evidence"])
    named = {
        (event_type, datetime.fromisoformat(evidence[key]))
        for event_type, key in (("login", "last_login_at"), ("publish", "last_publish_at"))
        if evidence.get(key)
    }
    uses = dormant_export.rows("raw/login_publish_events.csv")
    assert {(row["event_type"], datetime.fromisoformat(row["event_ts"])) for row in uses} == named
    assert all(
        row["account_id"] == dormant_finding["account_id"] and row["finding_ids"] == dormant_finding["finding_id"]
        for row in uses
    )
    if not evidence.get("last_publish_at"):
        assert not [row for row in uses if row["event_type"] == "publish"]

    accounts = dormant_export.rows("raw/accounts.csv")
    assert [(row["account_id"], row["finding_ids"]) for row in accounts] == [
        (dormant_finding["account_id"], dormant_finding["finding_id"])
    ]


def test_summary_lists_the_findings_in_run_date_order_and_names_the_exporter(subject_export, spike_export):
    for exported in (subject_export, spike_export):
        findings = exported.rows("findings.csv")
        listed = [(when, details) for when, _, what, details in summary_events(exported) if what.startswith("finding:")]
        run_dates = [when for when, _ in listed]
        assert run_dates == sorted(run_dates)
        assert sorted(re.search(r"finding ([0-9a-f]{32})$", details)[1] for _, details in listed) == sorted(
            row["finding_id"] for row in findings
        )
        page = (exported.folder / "summary.html").read_text(encoding="utf-8")
        assert f"Exported by {EXPORTER} at 2026-08-01T09:30:00+08:00" in page
    assert len({when for when, _, what, _ in summary_events(subject_export) if what.startswith("finding:")}) > 1


def test_an_account_named_like_a_formula_is_written_as_text_in_the_csv_and_as_it_is_in_the_summary(
    formula_named_export,
):
    account_id, exported = formula_named_export
    [row] = exported.rows("accounts.csv")
    assert (row["account_id"], row["account_name"]) == (account_id, "'" + FORMULA_NAME)
    assert original_value(row["account_name"]) == FORMULA_NAME
    lines = (exported.folder / "accounts.csv").read_text(encoding="utf-8").splitlines()
    assert f",'{FORMULA_NAME}," in lines[1]
    registered = [
        details for _, who, what, details in summary_events(exported) if (who, what) == (account_id, "registered")
    ]
    assert registered == [escape(FORMULA_NAME)]


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


def test_a_closed_name_finding_reads_as_the_names_it_takes_and_why_the_name_counts():
    from accountwatch.jobs.outputs.bundle_summary import describe_finding

    evidence = {
        "account_name": "澜沧江 文旅集团",
        "reason": "distinctive name: 7 characters, not a short handle with a counter, and 0 other subjects' ...",
        "matches": [{"account_name": "澜沧江文旅集团", "account_id": "pa_1", "why": "closed", "edits": 0}],
    }
    assert describe_finding("closed_name_reregistration", evidence) == (
        "name '澜沧江 文旅集团' takes the name of 澜沧江文旅集团 (pa_1, closed, 0 edits): "
        "distinctive name: 7 characters, not a short handle with a counter, and 0 other subjects' ..."
    )
    del evidence["reason"]
    assert describe_finding("closed_name_reregistration", evidence).endswith("(pa_1, closed, 0 edits)")
