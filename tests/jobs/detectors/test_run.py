from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from accountwatch.jobs.core.config import Settings
from accountwatch.jobs.core.lake import TABLES as LAKE_TABLES
from accountwatch.jobs.core.lake import Lake
from accountwatch.jobs.detectors.run import detect_range
from accountwatch.jobs.ingest.landing import days_between
from accountwatch.jobs.ingest.load import ingest_range
from tests.landing_files import (
    ACCOUNT_HEADER,
    ENGAGEMENT_FULL_HEADER,
    TRANSFER_HEADER,
    account,
    write_csv,
    write_jsonl,
)

KEY = b"unit-test-key-0123456789"
# dq_results logs each ingest range: a rerun of one day after a backfill adds that day's own results.
ALL_TABLES = tuple(sorted(name for name in LAKE_TABLES if name != "dq_results"))
START = date(2026, 1, 1)
END = date(2026, 2, 10)
# The crafted platform judges dormancy over one calendar month instead of six: the same calendar arithmetic on a
# 41-day platform instead of a 191-day one.
DORMANT_MONTHS = 1
# The first day whose calendar month is all loaded: one month before 2026-01-31 is 2025-12-31, so the month
# judged is 2026-01-01 to 2026-01-31.
FIRST_COVERED = date(2026, 1, 31)


ACTIVE = ("pa_busy", "pa_q1", "pa_q2", "pa_q3", "pa_q4", "pa_t1", "pa_t2", "pa_t3")
LATE = {"pa_t3": date(2026, 2, 8), "pa_q4": date(2026, 2, 10)}
# pa_busy changes hands: its operator acts last on 2026-02-06, an application to transfer it is rejected on
# 2026-02-09, and on 2026-02-10 a new operator takes over from a new device and network, past the two days in which
# the old one would overlap it: an unapproved transfer, on a nightly day, with the newer detectors' tables in play.
OLD_OPERATOR_LAST = date(2026, 2, 6)
REJECTED_ON = date(2026, 2, 9)
HANDOVER = date(2026, 2, 10)


# Long: the crafted platform's days in order, each case's accounts and events a few rows.
def build_platform(landing: Path) -> None:
    """A crafted platform: every case of the rule detectors, with transitions in the last days."""
    snapshot = [
        account("pa_busy", registered_at="2024-01-01 10:00:00", updated_at="2025-12-31 10:00:00"),
        account("pa_silent", subject_id="s_2", registered_at="2024-01-01 10:00:00", updated_at="2025-12-31 10:00:00"),
        account(
            "pa_suspended", subject_id="s_3", status="suspended", registered_at="2024-01-01", updated_at="2025-12-31"
        ),
        account("pa_fades", subject_id="s_4", registered_at="2024-01-01 10:00:00", updated_at="2025-12-31 10:00:00"),
        account("pa_returns", subject_id="s_5", registered_at="2024-01-01 10:00:00", updated_at="2025-12-31 10:00:00"),
        account("pa_q1", subject_id="s_q", registered_at="2024-02-01 10:00:00", updated_at="2025-12-31 10:00:00"),
        account("pa_q2", subject_id="s_q", registered_at="2024-03-01 10:00:00", updated_at="2025-12-31 10:00:00"),
        account("pa_q3", subject_id="s_q", registered_at="2024-04-01 10:00:00", updated_at="2025-12-31 10:00:00"),
        account("pa_t1", subject_id="s_t", registered_at="2024-05-01 10:00:00", updated_at="2025-12-31 10:00:00"),
        account("pa_t2", subject_id="s_t", registered_at="2024-05-01 10:00:00", updated_at="2025-12-31 10:00:00"),
        account(
            "u_1",
            account_type="user",
            subject_id="",
            subject_type="",
            registered_at="2024-01-01",
            updated_at="2025-12-31",
        ),
    ]
    changes = {
        START: snapshot,
        # s_t goes over its limit on 2026-02-08; s_q closes two accounts on 2026-02-09, so its next one fits.
        date(2026, 2, 8): [
            account("pa_t3", subject_id="s_t", registered_at="2026-02-08 11:00:00", updated_at="2026-02-08 11:00:00")
        ],
        date(2026, 2, 9): [
            account(
                "pa_q1",
                subject_id="s_q",
                status="closed",
                registered_at="2024-02-01 10:00:00",
                updated_at="2026-02-09 09:00:00",
            ),
            account(
                "pa_q2",
                subject_id="s_q",
                status="closed",
                registered_at="2024-03-01 10:00:00",
                updated_at="2026-02-09 09:00:00",
            ),
        ],
        date(2026, 2, 10): [
            account("pa_q4", subject_id="s_q", registered_at="2026-02-10 08:00:00", updated_at="2026-02-10 08:00:00")
        ],
    }
    for day in days_between(START, END):
        if day in changes:
            write_csv(landing, "accounts", day, ACCOUNT_HEADER, changes[day])
        stamp = f"{day.isoformat()}T09:00:00+08:00"
        write_jsonl(
            landing,
            "subscriptions",
            day,
            [
                {
                    "event_id": f"s-{day}",
                    "account_id": "pa_busy",
                    "user_id": "u_1",
                    "action": "follow",
                    "event_ts": stamp,
                }
            ],
        )
        operator = ["", "10.1.1.5", "dev-op"]
        events = [[f"read-{day}", "pa_silent", "u_1", "read", stamp, "2", f"pa_silent-{day.isoformat()}", "", ""]]
        events += [
            [f"{name}-{day}", name, "op", "login", stamp, "", *operator]
            for name in ACTIVE
            if (name not in LATE or day >= LATE[name]) and (name != "pa_busy" or day <= OLD_OPERATOR_LAST)
        ]
        if day >= HANDOVER:
            events.append([f"new-{day}", "pa_busy", "op_new", "login", stamp, "", "", "172.16.9.9", "dev-new"])
        # pa_fades publishes last on 2026-01-08 09:00: its cutoff passes that on 2026-02-08.
        if day <= date(2026, 1, 8):
            events.append([f"fades-{day}", "pa_fades", "op", "publish", stamp, "", f"fades-{day.isoformat()}", "", ""])
        # pa_returns is silent (dormant on the first covered day), logs in on 2026-02-05, then is silent again.
        if day == date(2026, 2, 5):
            events.append([f"returns-{day}", "pa_returns", "op", "login", stamp, "", *operator])
        write_csv(landing, "engagement", day, ENGAGEMENT_FULL_HEADER, events)
    rejected = ["app-1", "pa_busy", "s_1", "s_9", "transfer", "rejected", f"{REJECTED_ON.isoformat()} 08:00:00"]
    write_csv(landing, "transfers", REJECTED_ON, TRANSFER_HEADER, [rejected])


@pytest.fixture(scope="module")
def platform(tmp_path_factory) -> Path:
    landing = tmp_path_factory.mktemp("crafted") / "landing"
    build_platform(landing)
    return landing


def flagged(lake: Lake, detector: str) -> dict[str, list[str]]:
    rows = lake.read("findings").where(F.col("detector") == detector).collect()
    found: dict[str, list[str]] = {}
    for row in sorted(rows, key=lambda r: r["run_date"]):
        found.setdefault(row["account_id"], []).append(row["run_date"].isoformat())
    return found


@pytest.fixture(scope="module")
def crafted_settings(settings) -> Settings:
    return replace(settings, dormant_months=DORMANT_MONTHS)


@pytest.fixture(scope="module")
def backfilled(spark, crafted_settings, platform, tmp_path_factory) -> Lake:
    settings = crafted_settings
    lake = Lake(spark, tmp_path_factory.mktemp("bulk") / "lake", settings)
    ingest_range(lake, platform, START, END, settings, KEY)
    detect_range(lake, START, END, settings, from_current_state=False)
    return lake


def test_dormant_flags_nothing_while_history_is_short_then_every_dormant_account(backfilled):
    runs = {
        row["run_date"]: row for row in backfilled.read("detector_runs").where("detector = 'dormant_account'").collect()
    }
    assert runs[FIRST_COVERED - timedelta(days=1)]["status"] == "history_too_short"
    assert "history too short" in runs[FIRST_COVERED - timedelta(days=1)]["message"]
    assert runs[FIRST_COVERED]["status"] == "ok"
    assert flagged(backfilled, "dormant_account") == {
        "pa_silent": ["2026-01-31"],
        "pa_returns": ["2026-01-31"],
        "pa_fades": ["2026-02-08"],
    }


def test_quota_flags_on_first_day_and_again_only_for_new_overruns(backfilled):
    assert flagged(backfilled, "quota_overrun") == {"pa_q3": ["2026-01-01"], "pa_t3": ["2026-02-08"]}
    evidence = json.loads(backfilled.read("findings").where("account_id = 'pa_t3'").collect()[0]["evidence"])
    assert [entry["account_id"] for entry in evidence["live_accounts"]] == ["pa_t1", "pa_t2", "pa_t3"]
    assert evidence["limit"] == 2 and evidence["subject_id"] == "s_t"


def test_backfill_gives_the_same_tables_as_nightly_runs(spark, crafted_settings, platform, backfilled, tmp_path):
    settings = crafted_settings
    lake = Lake(spark, tmp_path / "lake", settings)
    before_nightly = date(2026, 2, 7)
    ingest_range(lake, platform, START, before_nightly, settings, KEY)
    detect_range(lake, START, before_nightly, settings, from_current_state=False)
    for day in days_between(before_nightly + timedelta(days=1), END):
        ingest_range(lake, platform, day, day, settings, KEY)
        detect_range(lake, day, day, settings, from_current_state=True)
    for name in ALL_TABLES:
        assert_df_equality(lake.read(name), backfilled.read(name), ignore_row_order=True, ignore_nullable=True)
    # The newer detectors' tables hold the handover of the nightly days, so theirs are not comparisons of empty tables.
    decisions = [(row["account_id"], row["decision"]) for row in lake.read("transfers").collect()]
    assert decisions == [("pa_busy", "rejected")]
    operators = {(row["actor_id"], row["first_seen_on"]) for row in lake.read("account_operators").collect()}
    assert {("op", START), ("op_new", HANDOVER)} <= operators
    new_operator = lake.read("operator_daily").where(F.col("actor_id") == "op_new").collect()
    assert {(row["ingest_date"], tuple(row["devices"])) for row in new_operator} == {
        (day, ("dev-new",)) for day in days_between(HANDOVER, END)
    }
    assert lake.read("article_daily").where(F.col("account_id") == "pa_silent").count() == len(days_between(START, END))
    handover = lake.read("findings").where(F.col("detector") == "unapproved_transfer").collect()
    assert [(row["account_id"], row["run_date"], row["severity"]) for row in handover] == [("pa_busy", END, "high")]


def test_rerunning_the_nightly_day_leaves_every_table_identical(spark, crafted_settings, platform, backfilled):
    settings = crafted_settings
    before = {name: backfilled.read(name).cache() for name in ALL_TABLES}
    for frame in before.values():
        frame.count()
    ingest_range(backfilled, platform, END, END, settings, KEY)
    detect_range(backfilled, END, END, settings, from_current_state=True)
    for name in ALL_TABLES:
        assert_df_equality(backfilled.read(name), before[name], ignore_row_order=True, ignore_nullable=True)
