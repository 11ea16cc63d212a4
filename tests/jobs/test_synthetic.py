"""The synthetic platform: landing files in the contract's format and truth that matches them (no Spark needed)."""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jobs.synthetic import (
    QUOTA_LIMITS,
    PlantedTruth,
    PlatformSize,
    SyntheticPlatformError,
    generate_platform,
    months_before,
)
from schemas.landing import ENGAGEMENT, LANDING_TABLES, QUARANTINE_REASONS, SUBSCRIPTIONS, USE_EVENT_TYPES

START = date(2026, 1, 5)
SEED = 20260105
PLATFORM_ZONE = ZoneInfo("Asia/Shanghai")
TINY = PlatformSize.named("tiny")


@dataclass
class Landed:
    """Every landed row of a generated platform, as text, with its file and folder day."""

    landing: Path
    truth: PlantedTruth
    rows: dict[str, list[dict]]
    formats: Counter
    native_timestamp_files: int
    progress: list[tuple[int, int]]


def _as_text(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return str(value)


def _read_file(path: Path) -> tuple[list[str], list[dict], bool]:
    """Column names, rows as text, and whether a timestamp column is stored natively (Parquet)."""
    if path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            return list(reader.fieldnames or []), [dict(row) for row in reader], False
    if path.suffix == ".jsonl":
        records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
        return (list(records[0]) if records else []), records, False
    table = pq.read_table(path)
    native = any(pa.types.is_timestamp(column_type) for column_type in table.schema.types)
    return table.column_names, table.to_pylist(), native


def _load(landing: Path, truth: PlantedTruth, progress: list[tuple[int, int]]) -> Landed:
    rows: dict[str, list[dict]] = defaultdict(list)
    formats: Counter = Counter()
    native_files = 0
    for table in LANDING_TABLES.values():
        for path in sorted((landing / table.name).glob("date=*/*")):
            columns, records, native = _read_file(path)
            assert not records or columns == list(table.columns), f"{path}: columns {columns}"
            formats[path.suffix] += 1
            native_files += native
            folder_date = date.fromisoformat(path.parent.name.removeprefix("date="))
            for record in records:
                text = {name: _as_text(record.get(name)) for name in table.columns}
                rows[table.name].append({**text, "_folder": folder_date, "_file": path, "_raw": record})
    return Landed(landing, truth, rows, formats, native_files, progress)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Landed:
    landing = tmp_path_factory.mktemp("tiny") / "landing"
    progress: list[tuple[int, int]] = []
    truth = generate_platform(
        landing, seed=SEED, start=START, size=TINY, progress=lambda done, total: progress.append((done, total))
    )
    return _load(landing, truth, progress)


def _instant(text: str | None) -> datetime | None:
    """An ISO 8601 timestamp as an aware datetime; no offset means platform time; None when unparseable."""
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=PLATFORM_ZONE)


def _platform_day(text: str | None) -> date | None:
    instant = _instant(text)
    return instant.astimezone(PLATFORM_ZONE).date() if instant else None


def _latest_accounts(landed: Landed) -> dict[str, dict]:
    latest: dict[str, dict] = {}
    for row in landed.rows["accounts"]:
        updated = _instant(row["updated_at"])
        if row["status"] not in ("active", "suspended", "closed") or row["account_type"] not in ("public", "user"):
            continue
        if updated is None or _instant(row["registered_at"]) is None or not row["account_name"]:
            continue
        if row["account_type"] == "public" and not row["subject_id"]:
            continue
        if row["account_id"] not in latest or updated >= _instant(latest[row["account_id"]]["updated_at"]):
            latest[row["account_id"]] = row
    return latest


def _use_days(landed: Landed) -> dict[str, list[date]]:
    uses: dict[str, list[date]] = defaultdict(list)
    for row in landed.rows["engagement"]:
        day = _platform_day(row["event_ts"])
        if row["event_type"] in USE_EVENT_TYPES and row["account_id"] and day:
            uses[row["account_id"]].append(day)
    return uses


def _file_hashes(landing: Path) -> dict[str, str]:
    return {
        str(path.relative_to(landing)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(landing.rglob("*"))
        if path.is_file()
    }


def test_named_sizes_are_the_documented_presets():
    assert PlatformSize.named("demo") == PlatformSize()
    assert PlatformSize.named("bench") == PlatformSize(1000, 15_000, 4_000_000, 245)
    assert (TINY.public_accounts, TINY.users, TINY.days) == (40, 300, 200)


def test_unknown_size_name_is_refused_with_the_known_names():
    with pytest.raises(SyntheticPlatformError, match="bench"):
        PlatformSize.named("huge")


def test_tiny_platform_has_event_folders_for_every_day_and_accounts_on_day_one(tiny):
    days = [START + timedelta(days=offset) for offset in range(TINY.days)]
    for table in (SUBSCRIPTIONS, ENGAGEMENT):
        folders = sorted(path.name for path in (tiny.landing / table.name).iterdir())
        assert folders == [f"date={day.isoformat()}" for day in days]
        assert all(any((tiny.landing / table.name / folder).iterdir()) for folder in folders)
    account_folders = {path.name for path in (tiny.landing / "accounts").iterdir()}
    assert f"date={START.isoformat()}" in account_folders
    assert account_folders <= {f"date={day.isoformat()}" for day in days}
    assert tiny.truth.end == days[-1]


def test_progress_is_reported_for_every_day_written(tiny):
    assert tiny.progress == [(done, TINY.days) for done in range(1, TINY.days + 1)]


def test_same_seed_writes_byte_identical_files_and_another_seed_does_not(tiny, tmp_path):
    generate_platform(tmp_path / "again", seed=SEED, start=START, size=TINY)
    generate_platform(tmp_path / "other", seed=SEED + 1, start=START, size=TINY)
    assert _file_hashes(tmp_path / "again") == _file_hashes(tiny.landing)
    assert _file_hashes(tmp_path / "other") != _file_hashes(tiny.landing)


def test_files_mix_csv_jsonl_and_parquet_with_some_native_timestamps(tiny):
    assert set(tiny.formats) == {".csv", ".jsonl", ".parquet"}
    assert tiny.native_timestamp_files > 0


def test_timestamps_mix_offset_utc_and_platform_time_forms(tiny):
    stamps = [row["event_ts"] for row in tiny.rows["engagement"] if row["event_ts"] and "T" in row["event_ts"]]
    assert any(stamp.endswith("+08:00") for stamp in stamps)
    assert any(stamp.endswith("Z") for stamp in stamps)
    naive = [row["event_ts"] for row in tiny.rows["subscriptions"] if row["event_ts"] and " " in row["event_ts"]]
    assert naive and all(_instant(stamp) is not None for stamp in naive[:100])


def test_jsonl_count_is_sometimes_a_number_and_sometimes_text(tiny):
    counts = [row["_raw"].get("count") for row in tiny.rows["engagement"] if row["_file"].suffix == ".jsonl"]
    assert any(isinstance(count, int) for count in counts)
    assert any(isinstance(count, str) for count in counts)
    assert any(count is None for count in counts)


def test_csv_account_names_keep_commas_quotes_and_chinese(tiny):
    names = [row["account_name"] or "" for row in tiny.rows["accounts"] if row["_file"].suffix == ".csv"]
    assert any("," in name for name in names)
    assert any('"' in name for name in names)
    assert any("\u4e00" <= character <= "\u9fff" for name in names for character in name)


def test_phones_come_with_and_without_the_plus_86_prefix(tiny):
    phones = [row["phone"] for row in tiny.rows["accounts"] if row["phone"]]
    assert any(phone.startswith("+86") and len(phone) == 14 for phone in phones)
    assert any(len(phone) == 11 and phone.isdigit() for phone in phones)


def test_events_land_on_their_platform_day_or_up_to_three_days_late(tiny):
    lateness: Counter = Counter()
    for table in ("subscriptions", "engagement"):
        for row in tiny.rows[table]:
            day = _platform_day(row["event_ts"])
            # Planted out-of-window rows (ten days early, two days ahead) are left out.
            if day is not None and -1 <= (row["_folder"] - day).days <= 7:
                lateness[(row["_folder"] - day).days] += 1
    assert set(lateness) <= {0, 1, 2, 3}
    assert 0.001 < 1 - lateness[0] / sum(lateness.values()) < 0.02


def test_event_volume_is_close_to_the_requested_size(tiny):
    landed = len(tiny.rows["subscriptions"]) + len(tiny.rows["engagement"])
    assert 0.9 * TINY.events < landed < 1.1 * TINY.events


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
    assert set(tiny.truth.bad_rows) == set(QUARANTINE_REASONS) - {"malformed_record"}
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
            elif any(_instant(row[name]) is None for name in table.timestamps):
                found["unparseable_timestamp"] += 1
            elif table_name == "engagement" and row["count"] is not None and int(row["count"]) < 1:
                found["invalid_count"] += 1
            elif table.is_event_table and not -1 <= (row["_folder"] - _platform_day(row["event_ts"])).days <= 7:
                found["event_ts_out_of_window"] += 1
            bad_per_table_day[(table_name, row["_folder"])] += sum(found.values()) - before
    found["duplicate_event_id"] = tiny.truth.bad_rows["duplicate_event_id"]
    assert found == Counter(tiny.truth.bad_rows)
    rows_per_table_day = Counter((name, row["_folder"]) for name in LANDING_TABLES for row in tiny.rows[name])
    # Far below the 5% of a table-day that fails an ingest, even on the tiny platform's thin days.
    assert max(bad / rows_per_table_day[key] for key, bad in bad_per_table_day.items()) < 0.02


def test_planted_dormant_accounts_stop_operating_after_last_use_and_stay_active(tiny):
    truth = tiny.truth
    latest = _latest_accounts(tiny)
    uses = _use_days(tiny)
    assert len(truth.dormant_account) >= 2
    assert set(truth.dormant_last_use) == set(truth.dormant_account)
    assert any(last < truth.start for last in truth.dormant_last_use.values())
    assert any(last >= truth.start for last in truth.dormant_last_use.values())
    for account_id in truth.dormant_account:
        last_use = truth.dormant_last_use[account_id]
        assert truth.start - timedelta(days=400) <= last_use <= months_before(truth.end, 6) - timedelta(days=5)
        assert all(day <= last_use for day in uses.get(account_id, []))
        if last_use >= truth.start:
            assert max(uses[account_id]) == last_use
        assert latest[account_id]["status"] == "active"
        assert _instant(latest[account_id]["registered_at"]).date() < last_use
        statuses = {row["status"] for row in tiny.rows["accounts"] if row["account_id"] == account_id}
        assert statuses == {"active"}


def test_unplanted_active_accounts_are_used_at_least_every_45_days(tiny):
    latest = _latest_accounts(tiny)
    uses = _use_days(tiny)
    rows_per_account = Counter(row["account_id"] for row in tiny.rows["accounts"])
    checked = 0
    for account_id, row in latest.items():
        if row["account_type"] != "public" or account_id in tiny.truth.dormant_account or account_id not in uses:
            continue
        if rows_per_account[account_id] != 1:
            continue  # status changed during the period: silent spells while suspended are expected
        first_possible = max(tiny.truth.start, _instant(row["registered_at"]).astimezone(PLATFORM_ZONE).date())
        days = sorted({first_possible, *uses[account_id], tiny.truth.end})
        assert max((later - earlier).days for earlier, later in zip(days, days[1:], strict=False)) <= 45, account_id
        checked += 1
    assert checked > 10


def test_silent_negatives_exist_but_are_not_planted_as_dormant(tiny):
    latest = _latest_accounts(tiny)
    uses = _use_days(tiny)
    six_months_before_end = months_before(tiny.truth.end, 6)
    silent = [
        row
        for account_id, row in latest.items()
        if row["account_type"] == "public" and max(uses.get(account_id, [date.min])) < six_months_before_end
    ]
    unplanted = [row for row in silent if row["account_id"] not in tiny.truth.dormant_account]
    assert {row["status"] for row in unplanted} >= {"suspended", "closed", "active"}
    for row in unplanted:
        if row["status"] == "active":
            assert _instant(row["registered_at"]).astimezone(PLATFORM_ZONE).date() > six_months_before_end


def _live_public_accounts_by_subject(latest: dict[str, dict]) -> dict[str, list[dict]]:
    by_subject: dict[str, list[dict]] = defaultdict(list)
    for row in latest.values():
        if row["account_type"] == "public" and row["status"] != "closed":
            by_subject[row["subject_id"]].append(row)
    for rows in by_subject.values():
        rows.sort(key=lambda row: (_instant(row["registered_at"]), row["account_id"]))
    return by_subject


def test_planted_quota_accounts_take_their_subject_past_its_limit(tiny):
    latest = _latest_accounts(tiny)
    by_subject = _live_public_accounts_by_subject(latest)
    assert tiny.truth.quota_overrun
    for account_id in tiny.truth.quota_overrun:
        subject = latest[account_id]["subject_id"]
        limit = QUOTA_LIMITS[latest[account_id]["subject_type"]]
        ranked = [row["account_id"] for row in by_subject[subject]]
        assert len(ranked) > limit
        assert ranked.index(account_id) >= limit


def test_no_unplanted_account_is_beyond_its_subjects_limit_at_the_end(tiny):
    by_subject = _live_public_accounts_by_subject(_latest_accounts(tiny))
    beyond = {
        row["account_id"] for rows in by_subject.values() for row in rows[QUOTA_LIMITS[rows[0]["subject_type"]] :]
    }
    assert beyond == set(tiny.truth.quota_overrun)


def test_quota_cases_include_a_registration_tie_and_accounts_from_before_and_during_the_period(tiny):
    latest = _latest_accounts(tiny)
    registered = {account_id: _instant(latest[account_id]["registered_at"]) for account_id in tiny.truth.quota_overrun}
    start_instant = datetime.combine(tiny.truth.start, datetime.min.time(), PLATFORM_ZONE)
    assert any(moment < start_instant for moment in registered.values())
    assert any(moment >= start_instant for moment in registered.values())
    tie_partners = [
        (row["account_id"], planted)
        for row in latest.values()
        for planted, moment in registered.items()
        if row["account_id"] != planted
        and row["subject_id"] == latest[planted]["subject_id"]
        and _instant(row["registered_at"]) == moment
    ]
    # Within a tie the smaller account id registered first, so only the larger one is beyond the limit.
    assert tie_partners
    assert all(partner < planted and partner not in tiny.truth.quota_overrun for partner, planted in tie_partners)


def test_every_subject_has_one_subject_type(tiny):
    types: dict[str, set[str]] = defaultdict(set)
    for row in tiny.rows["accounts"]:
        if row["account_type"] == "public" and row["subject_id"]:
            types[row["subject_id"]].add(row["subject_type"])
    assert all(len(subject_types) == 1 for subject_types in types.values())


def test_users_have_no_subject(tiny):
    users = [row for row in tiny.rows["accounts"] if row["account_type"] == "user"]
    assert users and all(row["subject_id"] is None and row["subject_type"] is None for row in users)


def test_truth_is_written_beside_the_tables_and_round_trips_through_json(tiny):
    written = PlantedTruth.from_json((tiny.landing / "truth.json").read_text(encoding="utf-8"))
    assert written == tiny.truth
    assert PlantedTruth.from_json(tiny.truth.to_json()) == tiny.truth


def test_generating_into_a_landing_folder_with_tables_is_refused(tiny):
    with pytest.raises(SyntheticPlatformError, match="not empty"):
        generate_platform(tiny.landing, seed=SEED, start=START, size=TINY)


def test_months_before_clamps_to_the_end_of_a_shorter_month():
    assert months_before(date(2026, 8, 31), 6) == date(2026, 2, 28)
    assert months_before(date(2026, 3, 15), 6) == date(2025, 9, 15)
