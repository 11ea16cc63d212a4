"""The DuckDB peer on tiny landing folders: quarantine, dormant and quota findings, the follower baseline."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pandas as pd
import pytest

from accountwatch.benchmarks.peer import Peer, PeerError
from accountwatch.benchmarks.peer_detect import DORMANT, QUOTA
from accountwatch.jobs.core.config import Settings
from tests.landing_files import (
    ACCOUNT_HEADER,
    ENGAGEMENT_HEADER,
    account,
    quiet_day,
    write_csv,
    write_jsonl,
    write_parquet,
)

DAY = date(2026, 3, 10)


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


def _findings(peer: Peer, detector: str) -> set[tuple[date, str]]:
    return {(day, account_id) for name, day, account_id in peer.finding_keys() if name == detector}


def test_peer_quarantines_each_bad_row_for_its_first_reason(tmp_path):
    stamp = "2026-03-10T09:00:00+08:00"
    write_csv(
        tmp_path,
        "engagement",
        DAY,
        ENGAGEMENT_HEADER,
        [
            ["e1", "pa_1", "u_1", "read", stamp, "1"],
            ["e2", "", "u_1", "read", stamp, "1"],
            ["e3", "pa_1", "u_1", "view", stamp, "1"],
            ["e4", "pa_1", "u_1", "read", "2026-13-45 99:00", "1"],
            ["e5", "pa_1", "u_1", "read", stamp, "0"],
            ["e6", "pa_1", "u_1", "read", "2026-02-28T09:00:00+08:00", "1"],
            ["e1", "pa_1", "u_1", "like", stamp, "1"],
            ["e1", "pa_1", "u_1", "read", stamp, "1"],
        ],
    )
    write_jsonl(
        tmp_path,
        "subscriptions",
        DAY,
        [
            {"event_id": "s1", "account_id": "pa_1", "user_id": "u_1", "action": "follow", "event_ts": stamp},
            "[1, 2]",
            {"event_id": "s2", "account_id": "pa_1", "user_id": "u_2", "action": "subscribe", "event_ts": stamp},
        ],
    )
    frame = pd.DataFrame([account("pa_1"), account("pa_2", account_name=None)], columns=ACCOUNT_HEADER)
    write_parquet(tmp_path, "accounts", DAY, frame)
    peer = Peer(tmp_path, Settings(max_quarantine_share=1.0))

    loaded = peer.ingest(DAY, DAY)

    assert peer.quarantine_reasons() == {
        ("engagement", "missing_required"): 1,
        ("engagement", "invalid_value"): 1,
        ("engagement", "unparseable_timestamp"): 1,
        ("engagement", "invalid_count"): 1,
        ("engagement", "event_ts_out_of_window"): 1,
        ("engagement", "duplicate_event_id"): 1,
        ("subscriptions", "malformed_record"): 1,
        ("subscriptions", "invalid_value"): 1,
        ("accounts", "missing_required"): 1,
    }
    assert (loaded["engagement"].loaded, loaded["engagement"].redelivered) == (1, 1)
    assert (loaded["subscriptions"].loaded, loaded["accounts"].loaded) == (1, 1)


def test_peer_quarantine_names_the_file_row_and_column(tmp_path):
    path = write_csv(
        tmp_path,
        "engagement",
        DAY,
        ENGAGEMENT_HEADER,
        [["e1", "pa_1", "u_1", "read", "2026-03-10 09:00", "1"], ["e2", "pa_1", "u_1", "read", "soon", "1"]],
    )
    quiet_subscriptions = {"event_id": "s1", "account_id": "pa_1", "user_id": "u_1", "action": "follow"}
    write_jsonl(tmp_path, "subscriptions", DAY, [quiet_subscriptions | {"event_ts": "2026-03-10 09:00"}])
    peer = Peer(tmp_path, Settings(max_quarantine_share=1.0))

    peer.ingest(DAY, DAY)

    rows = peer.db.execute("SELECT source_file, source_row, reason, column_name FROM quarantine").fetchall()
    assert rows == [(str(path.absolute()), 2, "unparseable_timestamp", "event_ts")]


def test_peer_quarantines_a_csv_row_with_too_many_fields_and_keeps_counting_rows(tmp_path):
    stamp = "2026-03-10T09:00:00+08:00"
    first = write_csv(
        tmp_path,
        "engagement",
        DAY,
        ENGAGEMENT_HEADER,
        [["e1", "pa_1", "u_1", "read", stamp, "1"], ["e2", "pa_1", "u_1", "read", stamp, "1", "extra"]]
        + [["e3", "pa_1", "u_1", "read", stamp, "1"]],
        name="a.csv",
    )
    second = write_csv(
        tmp_path, "engagement", DAY, ENGAGEMENT_HEADER, [["e4", "pa_1", "u_1", "read", stamp, "1"]], name="b.csv"
    )
    write_jsonl(
        tmp_path,
        "subscriptions",
        DAY,
        [{"event_id": "s1", "account_id": "pa_1", "user_id": "u_1", "action": "follow", "event_ts": stamp}],
    )
    peer = Peer(tmp_path, Settings(max_quarantine_share=1.0))

    peer.ingest(DAY, DAY)

    quarantined = peer.db.execute("SELECT source_file, source_row, reason FROM quarantine").fetchall()
    loaded = peer.db.execute("SELECT event_id, source_file, source_row FROM engagement ORDER BY event_id").fetchall()
    assert quarantined == [(str(first.absolute()), 2, "malformed_record")]
    assert loaded == [
        ("e1", str(first.absolute()), 1),
        ("e3", str(first.absolute()), 3),
        ("e4", str(second.absolute()), 1),
    ]


def test_peer_refuses_a_day_above_the_quarantine_share_and_writes_nothing(tmp_path):
    stamp = "2026-03-10T09:00:00+08:00"
    write_csv(
        tmp_path,
        "engagement",
        DAY,
        ENGAGEMENT_HEADER,
        [["e1", "pa_1", "u_1", "read", stamp, "1"], ["e2", "pa_1", "u_1", "read", stamp, "-2"]],
    )
    write_jsonl(
        tmp_path,
        "subscriptions",
        DAY,
        [{"event_id": "s1", "account_id": "pa_1", "user_id": "u_1", "action": "follow", "event_ts": stamp}],
    )
    peer = Peer(tmp_path, Settings(max_quarantine_share=0.05))

    with pytest.raises(PeerError, match=r"engagement 2026-03-10: 1 of 2 rows quarantined.*invalid_count 1"):
        peer.ingest(DAY, DAY)

    assert peer.db.execute("SELECT count(*) FROM engagement").fetchone() == (0,)
    assert peer.db.execute("SELECT count(*) FROM loaded_days").fetchone() == (0,)


def test_peer_fails_naming_a_day_without_event_files(tmp_path):
    quiet_day(tmp_path, DAY)
    peer = Peer(tmp_path)

    with pytest.raises(PeerError, match="no subscriptions files for 2026-03-11"):
        peer.ingest(DAY, DAY + timedelta(days=1))


def _dormancy_platform(landing) -> None:
    """pa_1 last logs in on 3 January at 10:00, pa_3 exactly at the start of 5 January; pa_2 never does."""
    start = date(2026, 1, 1)
    write_csv(
        landing,
        "accounts",
        start,
        ACCOUNT_HEADER,
        [
            account("pa_1", registered_at="2025-06-01 10:00:00"),
            account("pa_2", subject_id="s_2", registered_at="2025-06-01 10:00:00"),
            account("pa_3", subject_id="s_3", registered_at="2025-06-01 10:00:00"),
            account("pa_4", subject_id="s_4", registered_at="2025-06-01 10:00:00", status="suspended"),
        ],
    )
    for day in _days(start, date(2026, 2, 6)):
        quiet_day(landing, day, account_id="pa_9", login=False)
    write_csv(
        landing,
        "engagement",
        date(2026, 1, 3),
        ENGAGEMENT_HEADER,
        [["l1", "pa_1", "op_1", "login", "2026-01-03T10:00:00+08:00", ""]],
        name="logins.csv",
    )
    write_csv(
        landing,
        "engagement",
        date(2026, 1, 4),
        ENGAGEMENT_HEADER,
        [["l2", "pa_3", "op_3", "publish", "2026-01-04T16:00:00Z", ""]],
        name="logins.csv",
    )


def test_peer_flags_dormant_once_per_spell_after_the_calendar_month_cutoff(tmp_path):
    _dormancy_platform(tmp_path)
    peer = Peer(tmp_path, Settings(dormant_months=1))

    peer.backfill(date(2026, 1, 1), date(2026, 2, 6))

    # The first day with a month of history (31 January) flags pa_2; pa_1 and pa_3 once their last use is before
    # the end of the same day a month earlier (an event exactly at the cut-off counts as use).
    assert _findings(peer, DORMANT) == {
        (date(2026, 1, 31), "pa_2"),
        (date(2026, 2, 3), "pa_1"),
        (date(2026, 2, 5), "pa_3"),
    }


def test_peer_nightly_days_find_what_a_backfill_of_the_same_days_finds(tmp_path):
    _dormancy_platform(tmp_path)
    backfilled = Peer(tmp_path, Settings(dormant_months=1))
    backfilled.backfill(date(2026, 1, 1), date(2026, 2, 6))
    nightly = Peer(tmp_path, Settings(dormant_months=1))

    nightly.backfill(date(2026, 1, 1), date(2026, 2, 2))
    for day in _days(date(2026, 2, 3), date(2026, 2, 6)):
        nightly.nightly(day)

    assert nightly.finding_keys() == backfilled.finding_keys()
    assert len(nightly.finding_keys()) == 3


def test_peer_on_a_database_file_finds_what_one_in_memory_finds_and_keeps_it_on_disk(tmp_path):
    _dormancy_platform(tmp_path)
    in_memory = Peer(tmp_path, Settings(dormant_months=1))
    in_memory.backfill(date(2026, 1, 1), date(2026, 2, 6))
    database = tmp_path / "peer.duckdb"
    on_file = Peer(tmp_path, Settings(dormant_months=1), database=str(database))

    on_file.backfill(date(2026, 1, 1), date(2026, 2, 6))
    on_file.close()

    reopened = Peer(tmp_path, Settings(dormant_months=1), database=str(database))
    assert reopened.finding_keys() == in_memory.finding_keys()
    assert len(in_memory.finding_keys()) == 3


def test_peer_flags_accounts_beyond_the_subject_quota_on_their_first_day(tmp_path):
    first, second = date(2026, 3, 1), date(2026, 3, 2)
    write_csv(
        tmp_path,
        "accounts",
        first,
        ACCOUNT_HEADER,
        [
            account("pa_1", registered_at="2026-01-01 10:00:00"),
            account("pa_2", registered_at="2026-01-02 10:00:00"),
            account("pa_3", registered_at="2026-01-03 10:00:00"),
            account("pb_1", subject_id="s_2", registered_at="2026-01-01 10:00:00"),
            account("pb_2", subject_id="s_2", registered_at="2026-01-02 10:00:00"),
            account("pb_3", subject_id="s_2", registered_at="2026-01-03 10:00:00", status="closed"),
            account("pc_1", subject_id="s_3", subject_type="enterprise", registered_at="2026-01-01 10:00:00"),
            account("pc_2", subject_id="s_3", subject_type="enterprise", registered_at="2026-01-02 10:00:00"),
            account("pc_3", subject_id="s_3", subject_type="enterprise", registered_at="2026-01-03 10:00:00"),
        ],
    )
    write_csv(
        tmp_path,
        "accounts",
        second,
        ACCOUNT_HEADER,
        [account("pa_4", registered_at="2026-03-02 10:00:00", updated_at="2026-03-02 10:00:00")],
    )
    for day in (first, second):
        quiet_day(tmp_path, day)
    peer = Peer(tmp_path)

    peer.backfill(first, second)

    assert _findings(peer, QUOTA) == {(first, "pa_3"), (second, "pa_4")}


def test_peer_follower_baseline_is_the_trailing_median_and_mad(tmp_path):
    spike = replace(Settings().spike, baseline_days=3, min_loaded_baseline_days=3, min_follows=5)
    start = date(2026, 3, 1)
    write_csv(tmp_path, "accounts", start, ACCOUNT_HEADER, [account("pa_1", registered_at="2026-01-01 10:00:00")])
    follows_per_day = {
        start: 1,
        start + timedelta(days=1): 2,
        start + timedelta(days=2): 4,
        start + timedelta(days=3): 6,
    }
    for day, follows in follows_per_day.items():
        quiet_day(tmp_path, day, account_id="pa_9")
        stamp = f"{day.isoformat()}T12:00:00+08:00"
        write_jsonl(
            tmp_path,
            "subscriptions",
            day,
            [
                {
                    "event_id": f"f-{day}-{n}",
                    "account_id": "pa_1",
                    "user_id": f"u_{n}",
                    "action": "follow",
                    "event_ts": stamp,
                }
                for n in range(follows)
            ],
            name="follows.jsonl",
        )
    peer = Peer(tmp_path, Settings(spike=spike))

    peer.backfill(start, start + timedelta(days=3))

    rows = peer.db.execute(
        "SELECT account_id, run_date, follows, baseline_days, median_follows, mad_follows, expected_follows, "
        "round(z, 4), new_followers FROM follower_baselines"
    ).fetchall()
    assert rows == [("pa_1", start + timedelta(days=3), 6, 3, 2.0, 1.0, 2.0, round(4 / 1.4826, 4), 6)]
