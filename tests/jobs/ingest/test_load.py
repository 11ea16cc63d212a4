from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from accountwatch.jobs.core.lake import Lake, LakeError
from accountwatch.jobs.ingest.landing import LandingError
from accountwatch.jobs.ingest.load import IngestReport, QuarantineThresholdError, ingest_range
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


def quarantined_files(lake) -> set[str]:
    """The landing files that have a row in quarantine."""
    return {row[0] for row in lake.read("quarantine").select("source_file").collect()}


# The mixed-format case of the day of cases: one account's events in JSON Lines, CSV and Parquet (one file with a
# time-zone-aware timestamp column, one with a naive one and without the optional columns) and a marker file.
MIXED_FILES = ("mixed.csv", "mixed.jsonl", "mixed.parquet", "naive.parquet")


def _write_mixed_formats(landing: Path) -> None:
    write_csv(landing, "accounts", DAY, ACCOUNT_HEADER, [account("pa_mix")], name="mixed.csv")
    follow = {"account_id": "pa_mix", "action": "follow"}
    write_jsonl(
        landing,
        "subscriptions",
        DAY,
        [
            {**follow, "event_id": "mix_a", "user_id": "u_1", "event_ts": "2026-03-10T10:00:00+08:00"},
            {**follow, "event_id": "mix_b", "user_id": "u_2", "event_ts": "2026-03-10T02:00:00Z"},
        ],
        name="mixed.jsonl",
    )
    write_csv(
        landing,
        "subscriptions",
        DAY,
        SUBSCRIPTION_HEADER,
        [["mix_c", "pa_mix", "u_3", "follow", "2026-03-10 10:00:00", ""]],
        name="mixed.csv",
    )
    stamp = pd.Timestamp("2026-03-10 10:00:00", tz="Asia/Shanghai")
    write_parquet(
        landing,
        "engagement",
        DAY,
        pd.DataFrame(
            {
                "event_id": ["mix_e1"],
                "account_id": ["pa_mix"],
                "actor_id": ["op"],
                "event_type": ["login"],
                "event_ts": [stamp],
                "count": [1],
            }
        ),
        name="mixed.parquet",
    )
    naive = pd.DataFrame({"event_id": ["mix_e2"], "account_id": ["pa_mix"], "event_type": ["publish"]})
    naive["event_ts"] = pd.Timestamp("2026-03-10 10:00:00")
    write_parquet(landing, "engagement", DAY, naive, name="naive.parquet")
    (landing / "engagement" / f"date={DAY}" / "_SUCCESS").write_text("")


# Long: one file per ingest case, written for one shared ingest of the day (one lake instead of one per case).
@pytest.fixture(scope="module")
def one_day_of_cases(spark, settings, tmp_path_factory) -> tuple[Lake, Path]:
    """One lenient ingest of a day whose files each hold one case (bad input, phones, time window, big counts,
    one account's events in mixed formats).

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
    _write_mixed_formats(landing)
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
    subscriptions = lake.read("subscriptions").where("account_id = 'pa_ok'").select("event_id").collect()
    assert sorted(row[0] for row in subscriptions) == ["s1", "s5", "s6"]
    loaded = {row["event_id"]: row["count"] for row in lake.read("engagement").where("account_id = 'pa_ok'").collect()}
    assert loaded == {"e1": 1}
    assert all(path.startswith(str(landing)) for path in quarantined_files(lake))


def test_mixed_formats_and_timestamp_forms_load_to_the_same_instant(one_day_of_cases):
    lake, _ = one_day_of_cases
    mixed = F.col("account_id") == "pa_mix"
    follows = [row[0] for row in lake.read("subscriptions").where(mixed).select("event_ts").collect()]
    events = [row[0] for row in lake.read("engagement").where(mixed).select("event_ts").collect()]
    assert (len(follows), len(events)) == (3, 2)
    assert len(set(follows)) == 1 and set(events) == set(follows)
    assert not [source for source in quarantined_files(lake) if Path(source).name in MIXED_FILES]


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


NEXT_DAY = date(2026, 3, 11)


@dataclass(frozen=True)
class TwoDays:
    """A lake loaded day by day with DAY and NEXT_DAY, what the first load left and both loads' reports."""

    lake: Lake
    landing: Path
    first: IngestReport
    second: IngestReport
    accounts_after_first: dict[str, str]


def _quiet_days_with_an_event_id_sent_again(landing: Path) -> None:
    """Quiet DAY and NEXT_DAY; the next day sends DAY's follow again, once identical and once with another user."""
    for day in (DAY, NEXT_DAY):
        quiet_day(landing, day)
    write_csv(
        landing,
        "subscriptions",
        NEXT_DAY,
        SUBSCRIPTION_HEADER,
        [
            [f"s-{DAY}", "pa_1", "u_1", "follow", f"{DAY} 09:00:00", ""],
            [f"s-{DAY}", "pa_1", "u_2", "follow", f"{DAY} 09:00:00", ""],
        ],
        name="redelivered.csv",
    )


def _check_the_event_id_sent_again(lake: Lake, report: IngestReport) -> None:
    """The identical copy is re-delivered (counted, not loaded), the other one quarantined as a duplicate."""
    loaded = lake.read("subscriptions").where(F.col("event_id") == f"s-{DAY}").collect()
    assert [(row["user_id"], row["ingest_date"]) for row in loaded] == [("u_1", DAY)]
    assert lake.read("subscriptions").count() == 2
    assert quarantined(lake, "subscriptions") == {2: "duplicate_event_id:event_id"}
    assert report.tables["subscriptions"].redelivered == 1


@pytest.fixture(scope="module")
def two_days(spark, settings, tmp_path_factory) -> TwoDays:
    """Two quiet days of `pa_1`, loaded one after the other, with the cases that need a second day.

    - re-delivery on the first day: copies of the day's subscription and engagement files;
    - an event id of the first day sent again on the second, once identical and once with another user;
    - an accounts file sent twice on the first day, and again on the second in other forms beside a real change
      (`pa_1`, `pa_2`);
    - an account changed twice on the first day, out of order, and closed on the second (`pa_cs`).
    """
    landing = tmp_path_factory.mktemp("two-days") / "landing"
    lenient = replace(settings, max_quarantine_share=1.0)
    _quiet_days_with_an_event_id_sent_again(landing)
    subscriptions, engagement = (landing / table / f"date={DAY}" for table in ("subscriptions", "engagement"))
    (subscriptions / "copy.jsonl").write_bytes((subscriptions / "part.jsonl").read_bytes())
    (engagement / "copy.csv").write_bytes((engagement / "part.csv").read_bytes())
    rows = [account("pa_1"), account("pa_2", phone="", updated_at="2026-03-10 08:00:00")]
    write_csv(landing, "accounts", DAY, ACCOUNT_HEADER, rows)
    write_csv(landing, "accounts", DAY, ACCOUNT_HEADER, rows, name="again.csv")
    same_in_other_forms = [
        dict(zip(ACCOUNT_HEADER, account("pa_1", updated_at="2025-01-01T02:00:00Z"), strict=True)),
        dict(zip(ACCOUNT_HEADER, account("pa_2", phone=None, updated_at="2026-03-10T08:00:00+08:00"), strict=True)),
        dict(zip(ACCOUNT_HEADER, account("pa_2", status="suspended", updated_at="2026-03-11 08:00:00"), strict=True)),
    ]
    write_jsonl(landing, "accounts", NEXT_DAY, same_in_other_forms)
    out_of_order = [
        account("pa_cs", status="suspended", updated_at="2026-03-10 12:00:00"),
        account("pa_cs", status="active", updated_at="2026-03-10 08:00:00"),
    ]
    write_csv(landing, "accounts", DAY, ACCOUNT_HEADER, out_of_order, name="current.csv")
    closed = [account("pa_cs", status="closed", updated_at="2026-03-11 09:00:00")]
    write_csv(landing, "accounts", NEXT_DAY, ACCOUNT_HEADER, closed, name="current.csv")
    lake = Lake(spark, tmp_path_factory.mktemp("two-days-lake") / "lake", lenient)
    first = ingest_range(lake, landing, DAY, DAY, lenient, KEY)
    after_first = {row["account_id"]: row["status"] for row in lake.read("accounts").collect()}
    second = ingest_range(lake, landing, NEXT_DAY, NEXT_DAY, lenient, KEY)
    return TwoDays(lake, landing, first, second, after_first)


def test_redelivered_event_files_are_counted_and_neither_loaded_twice_nor_quarantined(two_days):
    lake, first = two_days.lake, two_days.first
    on_day = F.col("ingest_date") == DAY
    assert lake.read("subscriptions").where(on_day).count() == 1 and lake.read("engagement").where(on_day).count() == 2
    assert not [source for source in quarantined_files(lake) if f"date={DAY}" in source]
    assert (first.tables["subscriptions"].redelivered, first.tables["engagement"].redelivered) == (1, 2)
    assert (first.tables["engagement"].rows_landed, first.tables["engagement"].rows_loaded) == (4, 2)
    daily = lake.read("account_daily").where(on_day).collect()
    assert [(row["follows"], row["reads"], row["logins"]) for row in daily] == [(1, 1, 1)]
    days = {row["table_name"]: row for row in lake.read("loaded_days").where(on_day).collect()}
    assert (days["engagement"]["rows_landed"], days["engagement"]["rows_loaded"]) == (4, 2)


def test_event_id_of_another_day_is_redelivered_when_identical_and_a_duplicate_when_not(two_days):
    _check_the_event_id_sent_again(two_days.lake, two_days.second)


def test_event_id_of_another_day_in_one_range_is_redelivered_when_identical_and_a_duplicate_when_not(
    lake, tmp_path, lenient
):
    landing = tmp_path / "landing"
    _quiet_days_with_an_event_id_sent_again(landing)
    _check_the_event_id_sent_again(lake, ingest_range(lake, landing, DAY, NEXT_DAY, lenient, KEY))


def test_redelivered_accounts_file_adds_no_account_change(two_days):
    lake = two_days.lake
    changes = lake.read("account_changes").where(F.col("account_id").isin("pa_1", "pa_2")).collect()
    assert sorted((row["account_id"], row["status"], row["ingest_date"]) for row in changes) == [
        ("pa_1", "active", DAY),
        ("pa_2", "active", DAY),
        ("pa_2", "suspended", NEXT_DAY),
    ]
    redelivered = (two_days.first.tables["accounts"].redelivered, two_days.second.tables["accounts"].redelivered)
    assert redelivered == (2, 2)
    assert quarantined(lake, "accounts") == {}


def test_account_current_state_keeps_the_latest_updated_at(two_days):
    lake = two_days.lake
    assert two_days.accounts_after_first["pa_cs"] == "suspended"
    assert lake.read("accounts").where("account_id = 'pa_cs'").collect()[0]["status"] == "closed"
    assert lake.read("account_changes").where("account_id = 'pa_cs'").count() == 3


def test_deleted_lake_data_file_fails_with_one_line_naming_the_table(two_days, spark, lenient, tmp_path):
    # On a copy of the two days' lake: the second day's rerun reads the first day's engagement files.
    shutil.copytree(two_days.lake.root, tmp_path / "lake")
    lake = Lake(spark, tmp_path / "lake", lenient)
    for data_file in (Path(lake.path("engagement")) / f"event_date={DAY}").glob("*.parquet"):
        data_file.unlink()
    with pytest.raises(LakeError, match=r"^lake table engagement: data file \S+\.parquet is missing") as failure:
        ingest_range(lake, two_days.landing, NEXT_DAY, NEXT_DAY, lenient, KEY)
    assert "\n" not in str(failure.value)


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
