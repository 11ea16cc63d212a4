"""Planted bad rows: one per reason, as the truth counts them, few on any table-day."""

from __future__ import annotations

from collections import Counter

from accountwatch.schemas.landing import LANDING_TABLES, QUARANTINE_REASONS
from tests.synthetic.landed import instant, platform_day


def test_event_ids_repeat_only_for_the_planted_duplicates(tiny):
    for table in ("subscriptions", "engagement"):
        ids = Counter(row["event_id"] for row in tiny.rows[table] if row["event_id"])
        assert all(times <= 2 for times in ids.values())
    repeats = sum(
        times - 1
        for table in ("subscriptions", "engagement")
        for times in Counter(row["event_id"] for row in tiny.rows[table]).values()
    )
    assert repeats == tiny.truth.bad_rows["duplicate_event_id"]


def test_planted_bad_rows_cover_every_row_level_reason_and_match_the_files(tiny):
    # Account times in the future are left out: a new bad-row variant would change every synthetic platform.
    assert set(tiny.truth.bad_rows) == set(QUARANTINE_REASONS) - {"malformed_record", "timestamp_out_of_window"}
    found: Counter = Counter()
    bad_per_table_day: Counter = Counter()
    for table_name, table in LANDING_TABLES.items():
        for row in tiny.rows[table_name]:
            before = sum(found.values())
            if any(row[name] is None for name in table.required) or (
                table_name == "accounts" and row["account_type"] == "public" and not row["subject_id"]
            ):
                found["missing_required"] += 1
            elif any(row[name] not in allowed for name, allowed in table.allowed.items() if row[name] is not None):
                found["invalid_value"] += 1
            elif any(instant(row[name]) is None for name in table.timestamps):
                found["unparseable_timestamp"] += 1
            elif table_name == "engagement" and row["count"] is not None and int(row["count"]) < 1:
                found["invalid_count"] += 1
            elif table.is_event_table and not -1 <= (row["_folder"] - platform_day(row["event_ts"])).days <= 7:
                found["event_ts_out_of_window"] += 1
            bad_per_table_day[(table_name, row["_folder"])] += sum(found.values()) - before
    found["duplicate_event_id"] = tiny.truth.bad_rows["duplicate_event_id"]
    first_copies: dict[str, dict] = {}
    for row in tiny.rows["transfers"]:
        first = first_copies.setdefault(row["application_id"], row)
        if first is not row and any(first[name] != row[name] for name in LANDING_TABLES["transfers"].columns):
            found["duplicate_application_id"] += 1
    assert found == Counter(tiny.truth.bad_rows)
    rows_per_table_day = Counter((name, row["_folder"]) for name in LANDING_TABLES for row in tiny.rows[name])
    # Far below the 5% of a table-day that fails an ingest, even on the tiny platform's thin days (the few
    # transfer decisions of a day are exempt from that share).
    shares = [bad / rows_per_table_day[key] for key, bad in bad_per_table_day.items() if key[0] != "transfers"]
    assert max(shares) < 0.02
