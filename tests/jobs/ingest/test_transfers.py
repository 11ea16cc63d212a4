"""Ingest of the `transfers` landing table and of engagement's optional content, address and device columns."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from accountwatch.jobs.core.lake import Lake
from accountwatch.jobs.ingest.load import ingest_range
from accountwatch.schemas import events
from accountwatch.schemas.landing import ENGAGEMENT
from tests.landing_files import (
    ENGAGEMENT_FULL_HEADER,
    TRANSFER_HEADER,
    quiet_day,
    write_csv,
    write_jsonl,
)

DAY = date(2026, 3, 10)
NEXT = date(2026, 3, 11)
KEY = b"unit-test-key-0123456789"


@pytest.fixture
def lenient(settings):
    return replace(settings, max_quarantine_share=1.0)


def transfer(application_id: str, **values) -> list:
    defaults = {
        "application_id": application_id,
        "account_id": "pa_1",
        "from_subject_id": "s_1",
        "to_subject_id": "s_2",
        "kind": "transfer",
        "decision": "approved",
        "decided_at": f"{DAY} 15:00:00",
    }
    defaults.update(values)
    return [defaults[column] for column in TRANSFER_HEADER]


def quarantined(lake) -> dict[tuple[date, int], str]:
    rows = lake.read("quarantine").where(F.col("table_name") == "transfers").collect()
    return {(row["ingest_date"], row["source_row"]): f"{row['reason']}:{row['column_name']}" for row in rows}


def test_transfer_decisions_load_and_break_the_contract_into_quarantine(lake, tmp_path, settings):
    # Four of the day's six decisions are bad: far above the 5 % quarantine share, which a day's handful of
    # transfer decisions is exempt from (the other tables keep it).
    landing = tmp_path / "landing"
    quiet_day(landing, DAY)
    quiet_day(landing, NEXT)
    write_csv(
        landing,
        "transfers",
        DAY,
        TRANSFER_HEADER,
        [
            transfer("app-1"),
            transfer("app-2", kind="sale"),
            transfer("app-3", decision=""),
            transfer("app-4", decided_at=f"{NEXT} 00:00:00"),
            transfer("app-5", decided_at="yesterday"),
            transfer("app-6", decision="rejected", decided_at=f"{DAY}T23:59:59+08:00"),
        ],
    )
    # The next day: app-1 again, identical (a re-delivery), and app-6 with another decision (a duplicate).
    write_jsonl(
        landing,
        "transfers",
        NEXT,
        [
            dict(zip(TRANSFER_HEADER, transfer("app-1"), strict=True)),
            dict(zip(TRANSFER_HEADER, transfer("app-6", decided_at=f"{NEXT} 09:00:00"), strict=True)),
        ],
    )
    report = ingest_range(lake, landing, DAY, NEXT, settings, KEY)

    stored = {row["application_id"]: row for row in lake.read("transfers").collect()}
    assert sorted(stored) == ["app-1", "app-6"]
    assert stored["app-1"]["decided_at"] == datetime(2026, 3, 10, 15, 0)
    assert (stored["app-6"]["decision"], stored["app-6"]["ingest_date"]) == ("rejected", DAY)
    assert quarantined(lake) == {
        (DAY, 2): "invalid_value:kind",
        (DAY, 3): "missing_required:decision",
        (DAY, 4): "timestamp_out_of_window:decided_at",
        (DAY, 5): "unparseable_timestamp:decided_at",
        (NEXT, 2): "duplicate_application_id:application_id",
    }
    load = report.tables["transfers"]
    assert (load.rows_landed, load.rows_loaded, load.redelivered) == (8, 2, 1)
    per_day = {
        row["ingest_date"]: (row["rows_landed"], row["rows_loaded"])
        for row in lake.read("loaded_days").where(F.col("table_name") == "transfers").collect()
    }
    assert per_day == {DAY: (6, 2), NEXT: (2, 0)}


def test_days_without_transfers_or_bad_rows_commit_neither_and_a_withdrawn_file_empties_its_day_on_rerun(
    lake, tmp_path, lenient
):
    landing = tmp_path / "landing"
    quiet_day(landing, DAY)
    quiet_day(landing, NEXT)
    path = write_csv(landing, "transfers", DAY, TRANSFER_HEADER, [transfer("app-1"), transfer("app-2", kind="sale")])
    ingest_range(lake, landing, NEXT, NEXT, lenient, KEY)
    # A clean day with no transfers folder writes neither table.
    assert not lake.exists("transfers") and not lake.exists("quarantine")
    ingest_range(lake, landing, DAY, DAY, lenient, KEY)
    before = lake.read("transfers").cache()
    assert before.count() == 1
    assert quarantined(lake) == {(DAY, 2): "invalid_value:kind"}
    ingest_range(lake, landing, DAY, DAY, lenient, KEY)
    assert_df_equality(lake.read("transfers"), before, ignore_nullable=True)
    assert quarantined(lake) == {(DAY, 2): "invalid_value:kind"}
    path.unlink()
    ingest_range(lake, landing, DAY, DAY, lenient, KEY)
    assert lake.read("transfers").count() == 0
    assert quarantined(lake) == {}


def test_engagement_content_address_and_device_are_stored_and_an_older_lake_gains_the_columns(spark, tmp_path, lenient):
    lake = Lake(spark, tmp_path / "lake", lenient)
    # A lake written before the optional columns existed: its engagement table lacks them.
    old_schema = StructType([field for field in events.ENGAGEMENT if field.name not in ENGAGEMENT.columns[-3:]])
    spark.createDataFrame([], old_schema).write.format("delta").partitionBy("event_date").save(lake.path("engagement"))
    landing = tmp_path / "landing"
    quiet_day(landing, DAY)
    stamp = f"{DAY}T10:00:00+08:00"
    write_csv(
        landing,
        "engagement",
        DAY,
        ENGAGEMENT_FULL_HEADER,
        [
            ["r-1", "pa_1", "u_9", "read", stamp, "", " art-7 ", "10.0.3.4", "dev-9"],
            ["p-1", "pa_1", "op_1", "publish", stamp, "", "art-7", "", ""],
        ],
        name="with-content.csv",
    )
    ingest_range(lake, landing, DAY, DAY, lenient, KEY)
    rows = {row["event_id"]: row for row in lake.read("engagement").collect()}
    assert (rows["r-1"]["content_id"], rows["r-1"]["ip"], rows["r-1"]["device_id"]) == ("art-7", "10.0.3.4", "dev-9")
    assert (rows["p-1"]["content_id"], rows["p-1"]["ip"], rows["p-1"]["device_id"]) == ("art-7", None, None)
    # quiet_day's file has the older header: its rows load with the optional columns null.
    assert (rows[f"e-{DAY}"]["content_id"], rows[f"e-{DAY}"]["ip"]) == (None, None)
    assert [field.name for field in lake.read("engagement").schema][-3:] == list(ENGAGEMENT.columns[-3:])
