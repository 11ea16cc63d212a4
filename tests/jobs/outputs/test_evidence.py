"""Evidence bundles exported end to end from a copy of the shared synthetic platform lake."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import date, datetime
from html import escape
from importlib import metadata
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from accountwatch.jobs.core.lake import TABLES
from accountwatch.jobs.core.pii import pii_key_from_environment
from accountwatch.jobs.ingest.landing import days_between, list_day_files, read_landing
from accountwatch.jobs.outputs.csvsafe import original_value
from accountwatch.jobs.outputs.evidence import EXPORT_READS, Scope
from accountwatch.schemas.landing import ACCOUNTS
from tests.jobs.outputs.bundles import EXPORTER, ZONE, Exported, export

ADDED_FOLLOW = "ev-added-after-the-run"
FORMULA_NAME = "=cmd|' /C calc'!A0"


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
def bundles(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("bundles")


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
