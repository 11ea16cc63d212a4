from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from accountwatch.jobs.core.lake import Lake, LakeError
from accountwatch.jobs.ingest.landing import LandingError
from accountwatch.jobs.ingest.load import QuarantineThresholdError, ingest_range
from tests.landing_files import (
    ACCOUNT_HEADER,
    ENGAGEMENT_HEADER,
    SUBSCRIPTION_HEADER,
    account,
    quiet_day,
    write_csv,
    write_jsonl,
    write_parquet,
)

DAY = date(2026, 3, 10)
KEY = b"unit-test-key-0123456789"
TABLES = (
    "account_changes",
    "accounts",
    "subscriptions",
    "engagement",
    "account_daily",
    "article_daily",
    "account_activity",
    "quarantine",
    "dq_results",
    "loaded_days",
)


@pytest.fixture
def lenient(settings):
    return replace(settings, max_quarantine_share=1.0)


def quarantined(lake, table: str, file: str | None = None) -> dict[int, str]:
    """The table's quarantined rows (of its landing file named `file`, when given): row number -> reason:column."""
    rows = lake.read("quarantine").where(F.col("table_name") == table).collect()
    return {
        row["source_row"]: f"{row['reason']}:{row['column_name']}" if row["column_name"] else row["reason"]
        for row in rows
        if file is None or Path(row["source_file"]).name == file
    }


def test_mixed_formats_and_timestamp_forms_load_to_the_same_instant(lake, tmp_path, lenient):
    landing = tmp_path / "landing"
    write_csv(landing, "accounts", DAY, ACCOUNT_HEADER, [account("pa_1")])
    write_jsonl(
        landing,
        "subscriptions",
        DAY,
        [
            {
                "event_id": "a",
                "account_id": "pa_1",
                "user_id": "u_1",
                "action": "follow",
                "event_ts": "2026-03-10T10:00:00+08:00",
            },
            {
                "event_id": "b",
                "account_id": "pa_1",
                "user_id": "u_2",
                "action": "follow",
                "event_ts": "2026-03-10T02:00:00Z",
            },
        ],
    )
    write_csv(
        landing, "subscriptions", DAY, SUBSCRIPTION_HEADER, [["c", "pa_1", "u_3", "follow", "2026-03-10 10:00:00", ""]]
    )
    stamp = pd.Timestamp("2026-03-10 10:00:00", tz="Asia/Shanghai")
    write_parquet(
        landing,
        "engagement",
        DAY,
        pd.DataFrame(
            {
                "event_id": ["e1"],
                "account_id": ["pa_1"],
                "actor_id": ["op"],
                "event_type": ["login"],
                "event_ts": [stamp],
                "count": [1],
            }
        ),
    )
    naive = pd.Timestamp("2026-03-10 10:00:00")
    write_parquet(
        landing,
        "engagement",
        DAY,
        pd.DataFrame({"event_id": ["e2"], "account_id": ["pa_1"], "event_type": ["publish"], "event_ts": [naive]}),
        name="naive.parquet",
    )
    (landing / "engagement" / f"date={DAY}" / "_SUCCESS").write_text("")
    ingest_range(lake, landing, DAY, DAY, lenient, KEY)
    instants = {row[0] for row in lake.read("subscriptions").select("event_ts").collect()}
    assert len(instants) == 1
    assert {row[0] for row in lake.read("engagement").select("event_ts").collect()} == instants
    assert lake.read("quarantine").count() == 0


@pytest.fixture(scope="module")
def one_day_of_cases(spark, settings, tmp_path_factory) -> tuple[Lake, Path]:
    """One lenient ingest of a day whose files each hold one case (bad input, phones, time window, big counts).

    The cases use their own accounts, event ids and file names, so a test reads its case by file or account.
    """
    root = tmp_path_factory.mktemp("cases")
    landing = root / "landing"
    lenient = replace(settings, max_quarantine_share=1.0)
    write_csv(
        landing,
        "accounts",
        DAY,
        ACCOUNT_HEADER,
        [
            account("pa_ok"),
            account("", account_name="no id"),
            account("pa_bot", account_type="bot"),
            account("pa_status", status="banned"),
            account("pa_nosubject", subject_id=""),
            account("pa_time", registered_at="2026-13-45 99:00"),
            account("pa_phone", phone="call me"),
        ],
        name="bad.csv",
    )
    write_jsonl(
        landing,
        "subscriptions",
        DAY,
        [
            {
                "event_id": "s1",
                "account_id": "pa_ok",
                "user_id": "u_1",
                "action": "follow",
                "event_ts": "2026-03-10T09:00:00+08:00",
            },
            {
                "event_id": "s2",
                "account_id": "pa_ok",
                "user_id": "u_1",
                "action": "subscribe",
                "event_ts": "2026-03-10T09:00:00+08:00",
            },
            "{not json",
            {
                "event_id": "s1",
                "account_id": "pa_ok",
                "user_id": "u_9",
                "action": "follow",
                "event_ts": "2026-03-10T09:00:00+08:00",
            },
            {
                "event_id": "s3",
                "account_id": "pa_ok",
                "user_id": "u_1",
                "action": "follow",
                "event_ts": "2026-02-28T09:00:00+08:00",
            },
            {
                "event_id": "s4",
                "account_id": "pa_ok",
                "user_id": "u_1",
                "action": "follow",
                "event_ts": "2026-03-12T00:00:00+08:00",
            },
            {
                "event_id": "s5",
                "account_id": "pa_ok",
                "user_id": "u_1",
                "action": "follow",
                "event_ts": "2026-03-11T23:59:59+08:00",
            },
            {
                "event_id": "s6",
                "account_id": "pa_ok",
                "user_id": "u_1",
                "action": "follow",
                "event_ts": "2026-03-03T00:00:00+08:00",
            },
        ],
        name="bad.jsonl",
    )
    write_csv(
        landing,
        "engagement",
        DAY,
        ENGAGEMENT_HEADER,
        [
            ["e1", "pa_ok", "op", "login", "2026-03-10 09:00:00", ""],
            ["e2", "pa_ok", "u_1", "read", "2026-03-10 09:00:00", "0"],
            ["e3", "pa_ok", "u_1", "read", "2026-03-10 09:00:00", "-2"],
            ["e4", "pa_ok", "u_1", "view", "2026-03-10 09:00:00", "1"],
            ["e5", "pa_ok", "u_1", "read", "", "1"],
            ["e6", "pa_ok", "u_1", "read", "2026-03-10 09:00:00", "two"],
        ],
        name="bad.csv",
    )
    account_files = {
        # A phone number in a quarantined row of a csv file (and, below, in a line that is not JSON).
        "phone_banned.csv": [account("pa_ph1", status="banned", phone="+8613912345678")],
        "pseudonyms.csv": [
            account("pa_ps1", phone="+8613812345678"),
            account("pa_ps2", phone="13812345678"),
            account("pa_ps3", phone=""),
        ],
        "window.csv": [
            account("pa_win", updated_at="2026-03-11 23:59:59"),
            account("pa_forever", updated_at="9999-12-31 23:59:59"),
            account("pa_unborn", registered_at="2026-03-12T00:00:00+08:00"),
        ],
    }
    for name, rows in account_files.items():
        write_csv(landing, "accounts", DAY, ACCOUNT_HEADER, rows, name=name)
    write_jsonl(landing, "accounts", DAY, ['{"account_id": "pa_ph2", "phone": "13912345678", broken'], name="b.jsonl")
    write_csv(
        landing,
        "engagement",
        DAY,
        ENGAGEMENT_HEADER,
        [
            ["big1", "pa_big", "u_1", "read", "2026-03-10 09:00:00", "9223372036854775807"],
            ["big2", "pa_big", "u_1", "read", "2026-03-10 09:00:00", "9223372036854775807"],
            ["max", "pa_big", "u_1", "read", "2026-03-10 09:00:00", "1000000000"],
            ["over", "pa_big", "u_1", "read", "2026-03-10 09:00:00", "1000000001"],
        ],
        name="big.csv",
    )
    lake = Lake(spark, root / "lake", lenient)
    ingest_range(lake, landing, DAY, DAY, lenient, KEY)
    return lake, landing


def test_each_bad_input_reason_is_quarantined_with_its_file_row_and_column(one_day_of_cases):
    lake, landing = one_day_of_cases
    assert quarantined(lake, "accounts", "bad.csv") == {
        2: "missing_required:account_id",
        3: "invalid_value:account_type",
        4: "invalid_value:status",
        5: "missing_required:subject_id",
        6: "unparseable_timestamp:registered_at",
        7: "invalid_value:phone",
    }
    assert quarantined(lake, "subscriptions", "bad.jsonl") == {
        2: "invalid_value:action",
        3: "malformed_record",
        4: "duplicate_event_id:event_id",
        5: "event_ts_out_of_window:event_ts",
        6: "event_ts_out_of_window:event_ts",
    }
    assert quarantined(lake, "engagement", "bad.csv") == {
        2: "invalid_count:count",
        3: "invalid_count:count",
        4: "invalid_value:event_type",
        5: "missing_required:event_ts",
        6: "invalid_count:count",
    }
    assert sorted(r[0] for r in lake.read("subscriptions").select("event_id").collect()) == ["s1", "s5", "s6"]
    loaded = {row["event_id"]: row["count"] for row in lake.read("engagement").where("account_id = 'pa_ok'").collect()}
    assert loaded == {"e1": 1}
    files = {row[0] for row in lake.read("quarantine").select("source_file").collect()}
    assert all(path.startswith(str(landing)) for path in files)


def test_quarantine_never_holds_a_phone_number_in_clear(one_day_of_cases):
    lake, _ = one_day_of_cases
    raw = " ".join(row[0] for row in lake.read("quarantine").select("raw").collect())
    assert "pa_ph1" in raw and "pa_ph2" in raw
    assert "13912345678" not in raw and "13812345678" not in raw


def test_phone_is_stored_as_keyed_pseudonym_and_number_block(one_day_of_cases):
    lake, _ = one_day_of_cases
    rows = {row["account_id"]: row for row in lake.read("accounts").collect()}
    assert rows["pa_ps1"]["phone_pseudonym"] == rows["pa_ps2"]["phone_pseudonym"]
    assert len(rows["pa_ps1"]["phone_pseudonym"]) == 64 and rows["pa_ps1"]["phone_block"] == "1381234"
    assert rows["pa_ps3"]["phone_pseudonym"] is None
    import hashlib
    import hmac

    assert rows["pa_ps1"]["phone_pseudonym"] == hmac.new(KEY, b"13812345678", hashlib.sha256).hexdigest()
    assert "phone" not in lake.read("accounts").columns


def test_account_timestamps_after_the_next_day_are_quarantined(one_day_of_cases):
    lake, _ = one_day_of_cases
    assert quarantined(lake, "accounts", "window.csv") == {
        2: "timestamp_out_of_window:updated_at",
        3: "timestamp_out_of_window:registered_at",
    }
    window = ("pa_win", "pa_forever", "pa_unborn")
    assert [row["account_id"] for row in lake.read("accounts").where(F.col("account_id").isin(*window)).collect()] == [
        "pa_win"
    ]


def test_counts_above_the_maximum_are_invalid_so_a_day_cannot_overflow(one_day_of_cases):
    lake, _ = one_day_of_cases
    assert quarantined(lake, "engagement", "big.csv") == {
        1: "invalid_count:count",
        2: "invalid_count:count",
        4: "invalid_count:count",
    }
    [daily] = lake.read("account_daily").where("account_id = 'pa_big'").collect()
    assert daily["reads"] == 1_000_000_000


@pytest.mark.parametrize("one_range", [False, True], ids=["day_by_day", "one_range"])
def test_event_id_of_another_day_is_redelivered_when_identical_and_a_duplicate_when_not(
    lake, tmp_path, lenient, one_range
):
    landing = tmp_path / "landing"
    quiet_day(landing, DAY)
    next_day = date(2026, 3, 11)
    quiet_day(landing, next_day)
    first = {
        "event_id": f"s-{DAY}",
        "account_id": "pa_1",
        "user_id": "u_1",
        "action": "follow",
        "event_ts": f"{DAY}T09:00:00+08:00",
    }
    write_csv(
        landing,
        "subscriptions",
        next_day,
        SUBSCRIPTION_HEADER,
        [
            [f"s-{DAY}", "pa_1", "u_1", "follow", f"{DAY} 09:00:00", ""],
            [f"s-{DAY}", "pa_1", "u_2", "follow", f"{DAY} 09:00:00", ""],
        ],
        name="redelivered.csv",
    )
    if one_range:
        report = ingest_range(lake, landing, DAY, next_day, lenient, KEY)
    else:
        ingest_range(lake, landing, DAY, DAY, lenient, KEY)
        report = ingest_range(lake, landing, next_day, next_day, lenient, KEY)
    loaded = lake.read("subscriptions").where(F.col("event_id") == first["event_id"]).collect()
    assert [(row["user_id"], row["ingest_date"]) for row in loaded] == [("u_1", DAY)]
    assert lake.read("subscriptions").count() == 2
    assert quarantined(lake, "subscriptions") == {2: "duplicate_event_id:event_id"}
    assert report.tables["subscriptions"].redelivered == 1


def test_redelivered_event_files_are_counted_and_neither_loaded_twice_nor_quarantined(lake, tmp_path, settings):
    landing = tmp_path / "landing"
    quiet_day(landing, DAY)
    day_folder = landing / "subscriptions" / f"date={DAY}"
    (day_folder / "copy.jsonl").write_bytes((day_folder / "part.jsonl").read_bytes())
    engagement_folder = landing / "engagement" / f"date={DAY}"
    (engagement_folder / "copy.csv").write_bytes((engagement_folder / "part.csv").read_bytes())
    report = ingest_range(lake, landing, DAY, DAY, settings, KEY)
    assert lake.read("subscriptions").count() == 1 and lake.read("engagement").count() == 2
    assert lake.read("quarantine").count() == 0
    assert (report.tables["subscriptions"].redelivered, report.tables["engagement"].redelivered) == (1, 2)
    assert (report.tables["engagement"].rows_landed, report.tables["engagement"].rows_loaded) == (4, 2)
    daily = lake.read("account_daily").collect()
    assert [(row["follows"], row["reads"], row["logins"]) for row in daily] == [(1, 1, 1)]
    days = {row["table_name"]: row for row in lake.read("loaded_days").collect()}
    assert (days["engagement"]["rows_landed"], days["engagement"]["rows_loaded"]) == (4, 2)


def test_redelivered_accounts_file_adds_no_account_change(lake, tmp_path, settings):
    landing = tmp_path / "landing"
    rows = [account("pa_1"), account("pa_2", phone="", updated_at="2026-03-10 08:00:00")]
    write_csv(landing, "accounts", DAY, ACCOUNT_HEADER, rows)
    write_csv(landing, "accounts", DAY, ACCOUNT_HEADER, rows, name="again.csv")
    quiet_day(landing, DAY)
    next_day = date(2026, 3, 11)
    quiet_day(landing, next_day)
    same_in_other_forms = [
        dict(zip(ACCOUNT_HEADER, account("pa_1", updated_at="2025-01-01T02:00:00Z"), strict=True)),
        dict(zip(ACCOUNT_HEADER, account("pa_2", phone=None, updated_at="2026-03-10T08:00:00+08:00"), strict=True)),
        dict(zip(ACCOUNT_HEADER, account("pa_2", status="suspended", updated_at="2026-03-11 08:00:00"), strict=True)),
    ]
    write_jsonl(landing, "accounts", next_day, same_in_other_forms)
    first = ingest_range(lake, landing, DAY, DAY, settings, KEY)
    assert lake.read("account_changes").count() == 2
    second = ingest_range(lake, landing, next_day, next_day, settings, KEY)
    changes = lake.read("account_changes").collect()
    assert sorted((row["account_id"], row["status"], row["ingest_date"]) for row in changes) == [
        ("pa_1", "active", DAY),
        ("pa_2", "active", DAY),
        ("pa_2", "suspended", next_day),
    ]
    assert (first.tables["accounts"].redelivered, second.tables["accounts"].redelivered) == (2, 2)
    assert lake.read("quarantine").count() == 0


def test_unreadable_file_fails_the_day_naming_the_file_and_writes_nothing(lake, tmp_path, lenient):
    landing = tmp_path / "landing"
    quiet_day(landing, DAY)
    broken = landing / "engagement" / f"date={DAY}" / "broken.parquet"
    broken.write_bytes(b"this is not parquet")
    with pytest.raises(LandingError, match="broken.parquet"):
        ingest_range(lake, landing, DAY, DAY, lenient, KEY)
    assert not lake.exists("subscriptions") and not lake.exists("loaded_days")


def test_table_folder_holding_a_folder_that_is_not_a_day_fails_naming_it(lake, tmp_path, lenient):
    landing = tmp_path / "landing"
    quiet_day(landing, DAY)
    (landing / "subscriptions" / "date=2026-13-01").mkdir()
    with pytest.raises(LandingError, match=r"subscriptions/date=2026-13-01"):
        ingest_range(lake, landing, DAY, DAY, lenient, KEY)
    assert not lake.exists("subscriptions")


def test_deleted_lake_data_file_fails_with_one_line_naming_the_table(lake, tmp_path, lenient):
    landing = tmp_path / "landing"
    quiet_day(landing, DAY)
    next_day = date(2026, 3, 11)
    quiet_day(landing, next_day)
    ingest_range(lake, landing, DAY, DAY, lenient, KEY)
    for data_file in (Path(lake.path("engagement")) / f"event_date={DAY}").glob("*.parquet"):
        data_file.unlink()
    with pytest.raises(LakeError, match=r"^lake table engagement: data file \S+\.parquet is missing") as failure:
        ingest_range(lake, landing, next_day, next_day, lenient, KEY)
    assert "\n" not in str(failure.value)


def test_missing_event_folder_fails_with_the_folder_named(lake, tmp_path, lenient):
    landing = tmp_path / "landing"
    write_jsonl(landing, "subscriptions", DAY, [])
    with pytest.raises(LandingError, match="engagement"):
        ingest_range(lake, landing, DAY, DAY, lenient, KEY)


def test_day_over_the_quarantine_threshold_fails_naming_table_and_reasons(lake, tmp_path, settings):
    landing = tmp_path / "landing"
    quiet_day(landing, DAY)
    write_csv(
        landing,
        "engagement",
        DAY,
        ENGAGEMENT_HEADER,
        [["x1", "pa_1", "u", "view", "2026-03-10 09:00:00", "1"]],
        name="bad.csv",
    )
    with pytest.raises(QuarantineThresholdError, match=r"engagement 2026-03-10: 1 of 3 rows.*invalid_value 1"):
        ingest_range(lake, landing, DAY, DAY, settings, KEY)
    assert not lake.exists("engagement")


def test_rerunning_a_day_leaves_every_table_identical_its_quarantine_too(one_day_of_cases, spark, lenient, tmp_path):
    # On a copy of the day of cases: its rerun reads again every file, the bad and the re-delivered rows among them.
    cases, landing = one_day_of_cases
    shutil.copytree(cases.root, tmp_path / "lake")
    lake = Lake(spark, tmp_path / "lake", lenient)
    before = {name: lake.read(name).cache() for name in TABLES}
    rows = {name: frame.count() for name, frame in before.items()}
    assert all(rows[name] > 0 for name in ("accounts", "engagement", "quarantine", "account_daily")), rows
    ingest_range(lake, landing, DAY, DAY, lenient, KEY)
    for name in TABLES:
        assert_df_equality(lake.read(name), before[name], ignore_row_order=True, ignore_nullable=True)


def test_account_current_state_keeps_the_latest_updated_at(lake, tmp_path, lenient):
    landing = tmp_path / "landing"
    write_csv(
        landing,
        "accounts",
        DAY,
        ACCOUNT_HEADER,
        [
            account("pa_1", status="suspended", updated_at="2026-03-10 12:00:00"),
            account("pa_1", status="active", updated_at="2026-03-10 08:00:00"),
        ],
    )
    quiet_day(landing, DAY)
    later = date(2026, 3, 11)
    write_csv(
        landing, "accounts", later, ACCOUNT_HEADER, [account("pa_1", status="closed", updated_at="2026-03-11 09:00:00")]
    )
    quiet_day(landing, later)
    ingest_range(lake, landing, DAY, DAY, lenient, KEY)
    assert lake.read("accounts").collect()[0]["status"] == "suspended"
    ingest_range(lake, landing, later, later, lenient, KEY)
    assert lake.read("accounts").collect()[0]["status"] == "closed"
    assert lake.read("account_changes").count() == 3


def test_evidence_tables_keep_190_days_of_history(one_day_of_cases, spark):
    lake, _ = one_day_of_cases
    properties = spark.sql(f"DESCRIBE DETAIL delta.`{lake.path('engagement')}`").collect()[0]["properties"]
    assert properties["delta.logRetentionDuration"] == "interval 190 days"
    assert properties["delta.deletedFileRetentionDuration"] == "interval 190 days"


def test_data_quality_results_are_stored_per_expectation(one_day_of_cases):
    lake, _ = one_day_of_cases
    results = lake.read("dq_results").where("table_name = 'engagement'").collect()
    assert results and all(row["success"] for row in results)
    assert {"expect_column_values_to_be_unique", "expect_column_values_to_be_between"} <= {
        row["expectation"] for row in results
    }
    json.dumps([row.asDict() for row in results], default=str)


def test_relative_landing_and_lake_folders_work(spark, tmp_path, lenient, monkeypatch):
    monkeypatch.chdir(tmp_path)
    quiet_day(Path("landing"), DAY)
    lake = Lake(spark, Path("data/lake"), lenient)
    ingest_range(lake, Path("landing"), DAY, DAY, lenient, KEY)
    assert lake.read("engagement").count() == 2
    assert (tmp_path / "data" / "lake" / "engagement" / "_delta_log").is_dir()
