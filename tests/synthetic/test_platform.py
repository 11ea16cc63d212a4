"""The synthetic platform: landing files in the contract's format and truth that matches them (no Spark needed)."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from accountwatch.schemas.landing import ENGAGEMENT, LANDING_TABLES, QUARANTINE_REASONS, SUBSCRIPTIONS, USE_EVENT_TYPES
from accountwatch.synthetic.platform import (
    QUOTA_LIMITS,
    PlantedTruth,
    PlatformSize,
    SyntheticPlatformError,
    generate_platform,
    months_before,
)

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


def _load(
    landing: Path, truth: PlantedTruth, progress: list[tuple[int, int]], tables: tuple[str, ...] = tuple(LANDING_TABLES)
) -> Landed:
    rows: dict[str, list[dict]] = defaultdict(list)
    formats: Counter = Counter()
    native_files = 0
    for table in (LANDING_TABLES[name] for name in tables):
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


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Landed:
    """The demo-size platform, for the cases the tiny one leaves out (the drip); engagement is not loaded."""
    landing = tmp_path_factory.mktemp("demo") / "landing"
    truth = generate_platform(landing, seed=SEED, start=START, size=PlatformSize.named("demo"))
    return _load(landing, truth, [], tables=("accounts", "subscriptions"))


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


# Bought followers, viral growth and registration bursts.

NAME_WITH_COUNTER = re.compile(r"^(.*?[^0-9])[\s_\-#.]*([0-9]{1,8})$")
AUDIENCE_TYPES = ("read", "like", "share", "comment")


def _first_rows(landed: Landed) -> dict[str, dict]:
    """Each account's earliest delivered row (its registration columns never change)."""
    first: dict[str, dict] = {}
    for row in landed.rows["accounts"]:
        if _instant(row["updated_at"]) is None or _instant(row["registered_at"]) is None:
            continue
        known = first.get(row["account_id"])
        if known is None or _instant(row["updated_at"]) < _instant(known["updated_at"]):
            first[row["account_id"]] = row
    return first


def _farm_users(truth: PlantedTruth) -> set[str]:
    return {
        member
        for cluster in truth.batch_clusters
        if cluster["kind"] not in ("public_batch", "subject_batch")
        for member in cluster["members"]
    }


def _follows(landed: Landed) -> list[dict]:
    return [
        {**row, "_day": _platform_day(row["event_ts"]), "_at": _instant(row["event_ts"])}
        for row in landed.rows["subscriptions"]
        if row["action"] == "follow" and row["account_id"] and row["user_id"] and _instant(row["event_ts"])
    ]


def _daily_follows(follows: list[dict], leave_out: set[str]) -> Counter:
    return Counter((row["account_id"], row["_day"]) for row in follows if row["user_id"] not in leave_out)


def _mean_before(daily: Counter, account_id: str, day: date, days: int = 28) -> float:
    return sum(daily[(account_id, day - timedelta(days=back))] for back in range(1, days + 1)) / days


def _clusters(truth: PlantedTruth) -> dict[str, dict]:
    return {cluster["name"]: cluster for cluster in truth.batch_clusters}


def test_every_planted_purchase_is_delivered_by_its_farm_within_six_hours_of_its_day(tiny):
    truth, clusters = tiny.truth, _clusters(tiny.truth)
    follows = _follows(tiny)
    assert 2 <= len(truth.purchases) <= 3
    assert truth.fake_follower_spike == {(purchase["account_id"], purchase["date"]) for purchase in truth.purchases}
    for purchase in truth.purchases:
        farm = clusters[purchase["farm"]]
        members = set(farm["members"])
        bought = [row for row in follows if row["account_id"] == purchase["account_id"] and row["user_id"] in members]
        assert len(bought) == len({row["user_id"] for row in bought}) == purchase["follows"] >= 40
        assert {row["_day"] for row in bought} == {row["_folder"] for row in bought} == {purchase["date"]}
        times = sorted(row["_at"] for row in bought)
        assert times[-1] - times[0] <= timedelta(hours=6)
        assert times[0].astimezone(PLATFORM_ZONE).hour >= 8
        assert (purchase["date"] - truth.start).days >= 35
        assert 1 <= (purchase["date"] - farm["registration_day"]).days <= 20
        assert farm["kind"] == "farm"


def test_every_planted_purchase_outnumbers_the_buyers_usual_daily_follows_four_times(tiny):
    daily = _daily_follows(_follows(tiny), leave_out=_farm_users(tiny.truth))
    for purchase in tiny.truth.purchases:
        usual = _mean_before(daily, purchase["account_id"], purchase["date"])
        assert purchase["follows"] >= max(40, 4 * usual), purchase


def test_one_farm_serves_several_buyers_on_one_day_in_lockstep(tiny):
    follows = _follows(tiny)
    by_farm_day: dict[tuple[str, date], list[dict]] = defaultdict(list)
    for purchase in tiny.truth.purchases:
        by_farm_day[(purchase["farm"], purchase["date"])].append(purchase)
    shared = [purchases for purchases in by_farm_day.values() if len(purchases) >= 2]
    assert shared
    for purchases in shared:
        members = set(_clusters(tiny.truth)[purchases[0]["farm"]]["members"])
        windows, followers = [], []
        for purchase in purchases:
            bought = [r for r in follows if r["account_id"] == purchase["account_id"] and r["user_id"] in members]
            windows.append((min(row["_at"] for row in bought), max(row["_at"] for row in bought)))
            followers.append({row["user_id"] for row in bought})
        assert max(start for start, _ in windows) < min(end for _, end in windows)
        assert len(set.intersection(*followers)) >= 0.8 * min(len(group) for group in followers)


def test_a_buyer_buys_again_at_least_fourteen_days_later_from_another_farm(tiny):
    by_buyer: dict[str, list[dict]] = defaultdict(list)
    for purchase in tiny.truth.purchases:
        by_buyer[purchase["account_id"]].append(purchase)
    repeat = [sorted(purchases, key=lambda p: p["date"]) for purchases in by_buyer.values() if len(purchases) > 1]
    assert repeat
    for first, second in (purchases[:2] for purchases in repeat):
        assert (second["date"] - first["date"]).days >= 14
        assert first["farm"] != second["farm"]


def test_buyers_are_established_ordinary_accounts_active_all_period(tiny):
    truth = tiny.truth
    rows_per_account = Counter(row["account_id"] for row in tiny.rows["accounts"])
    latest = _latest_accounts(tiny)
    negatives = {account for ids in truth.batch_negatives.values() for account in ids}
    for buyer in {purchase["account_id"] for purchase in truth.purchases}:
        assert latest[buyer]["account_type"] == "public" and latest[buyer]["status"] == "active"
        assert rows_per_account[buyer] == 1 and latest[buyer]["_folder"] == truth.start
        assert _instant(latest[buyer]["registered_at"]) < datetime.combine(
            truth.start, datetime.min.time(), PLATFORM_ZONE
        )
        assert buyer not in truth.dormant_account | truth.quota_overrun | negatives | truth.batch_registration
        assert buyer not in {account for account, _ in truth.viral_days}


def test_farm_members_never_engage_and_only_make_the_bought_follows(tiny):
    truth = tiny.truth
    farm_users = _farm_users(truth)
    assert not [row for row in tiny.rows["engagement"] if row["actor_id"] in farm_users]
    farm_rows = [row for row in tiny.rows["subscriptions"] if row["user_id"] in farm_users]
    assert {row["action"] for row in farm_rows} == {"follow"}
    assert {(row["account_id"], _platform_day(row["event_ts"])) for row in farm_rows} == truth.fake_follower_spike
    assert len(farm_rows) == sum(purchase["follows"] for purchase in truth.purchases)
    idle = {
        member for cluster in truth.batch_clusters if cluster["kind"] == "idle_farm" for member in cluster["members"]
    }
    assert idle and not idle & {row["user_id"] for row in farm_rows}


def _shares_key(rows: list[dict], key: str) -> bool:
    if key == "ip":
        return len({row["registration_ip"] for row in rows}) == 1 and rows[0]["registration_ip"] is not None
    if key == "ip_prefix":
        ips = [row["registration_ip"] or "" for row in rows]
        return all(ip.count(".") == 3 for ip in ips) and len({ip.rsplit(".", 1)[0] for ip in ips}) == 1
    if key == "device":
        devices = [row["device_id"] for row in rows]
        return None not in devices and len(set(devices)) <= 6
    if key == "phone_block":
        phones = [row["phone"] for row in rows]
        return None not in phones and len({phone.removeprefix("+86")[:7] for phone in phones}) == 1
    matches = [NAME_WITH_COUNTER.match(row["account_name"]) for row in rows]
    return all(matches) and len({match.group(1).rstrip("_- ") for match in matches if match}) == 1


def test_every_planted_burst_shares_its_listed_keys_within_sixty_minutes(tiny):
    first = _first_rows(tiny)
    kinds = {cluster["kind"] for cluster in tiny.truth.batch_clusters}
    assert kinds == {"farm", "idle_farm", "public_batch", "subject_batch"}
    for cluster in tiny.truth.batch_clusters:
        rows = [first[member] for member in cluster["members"]]
        registered = sorted(_instant(row["registered_at"]) for row in rows)
        assert len(rows) >= 10
        assert registered[-1] - registered[0] <= timedelta(minutes=60)
        assert (
            registered[0].astimezone(PLATFORM_ZONE).replace(tzinfo=None).isoformat() == cluster["first_registered_at"]
        )
        assert (
            registered[-1].astimezone(PLATFORM_ZONE).replace(tzinfo=None).isoformat() == cluster["last_registered_at"]
        )
        assert {row["_folder"] for row in rows} == {cluster["registration_day"]} and cluster["registration_day"] > START
        assert set(cluster["shared_keys"]) - {"device"}, cluster["name"]
        for key in cluster["shared_keys"]:
            assert _shares_key(rows, key), (cluster["name"], key)


def test_batch_registration_truth_lists_every_burst_member(tiny):
    truth = tiny.truth
    assert truth.batch_registration == {member for cluster in truth.batch_clusters for member in cluster["members"]}
    assert truth.batch_registration_days() == {
        member: cluster["registration_day"] for cluster in truth.batch_clusters for member in cluster["members"]
    }


def test_batch_registered_public_accounts_have_subjects_of_their_own_and_are_used(tiny):
    latest = _latest_accounts(tiny)
    uses = _use_days(tiny)
    subjects = Counter(row["subject_id"] for row in latest.values() if row["account_type"] == "public")
    batches = [cluster for cluster in tiny.truth.batch_clusters if cluster["kind"] == "public_batch"]
    assert batches and all(10 <= len(cluster["members"]) <= 30 for cluster in batches)
    for account_id in (member for cluster in batches for member in cluster["members"]):
        row = latest[account_id]
        assert row["account_type"] == "public" and row["subject_type"] == "individual"
        assert subjects[row["subject_id"]] == 1
        assert uses[account_id]


def test_a_subject_batch_goes_past_its_quota_and_its_subject_registers_again_later(tiny):
    latest = _latest_accounts(tiny)
    [cluster] = [cluster for cluster in tiny.truth.batch_clusters if cluster["kind"] == "subject_batch"]
    subjects = {latest[member]["subject_id"] for member in cluster["members"]}
    assert len(subjects) == 1 and len(cluster["members"]) > 2
    [(returned, day)] = tiny.truth.blacklisted_subject_registration
    assert latest[returned]["subject_id"] in subjects and returned not in cluster["members"]
    assert day > cluster["registration_day"]
    # An individual may keep two public accounts: every other member, and the return, is over quota.
    assert len(set(cluster["members"]) & tiny.truth.quota_overrun) == len(cluster["members"]) - 2
    assert returned in tiny.truth.quota_overrun


def test_only_the_planted_look_alikes_take_a_closed_or_buying_accounts_name(tiny):
    from accountwatch.jobs.detectors.barred import normalise_name

    latest = _latest_accounts(tiny)
    first = _first_rows(tiny)
    buyers = {purchase["account_id"] for purchase in tiny.truth.purchases}
    barred = {
        account_id: normalise_name(row["account_name"])
        for account_id, row in latest.items()
        if row["account_type"] == "public" and (row["status"] == "closed" or account_id in buyers)
    }
    fresh = {
        account_id
        for account_id, row in first.items()
        if row["account_type"] == "public" and _instant(row["registered_at"]).date() >= START
    }

    def near(a: str, b: str) -> bool:
        return bool(a) and bool(b) and (a == b or _one_edit(a, b))

    matched = {
        account_id
        for account_id in fresh
        for other, name in barred.items()
        if other != account_id and near(normalise_name(latest[account_id]["account_name"]), name)
    }
    planted = {account_id for account_id, _ in tiny.truth.closed_name_reregistration}
    collisions = {account_id for account_id, _ in tiny.truth.common_name_collisions}
    assert len(planted) == 5 and len(collisions) == 6 and not planted & collisions
    assert matched == planted | collisions
    [negative] = tiny.truth.closed_name_negatives
    assert negative in fresh and negative not in matched


def test_common_name_collisions_are_handles_with_a_counter_or_names_other_live_accounts_bear(tiny):
    from accountwatch.jobs.detectors.barred import normalise_name

    latest = _latest_accounts(tiny)
    public = {account_id: row for account_id, row in latest.items() if row["account_type"] == "public"}
    closed = {account_id: row for account_id, row in public.items() if row["status"] == "closed"}

    def near(a: str, b: str) -> bool:
        return bool(a) and bool(b) and (a == b or _one_edit(a, b))

    def namesake_subjects(name: str, *subjects: str) -> set[str]:
        """Subjects of live accounts registered before the period that bear `name` or one an edit away."""
        return {
            row["subject_id"]
            for row in public.values()
            if row["status"] != "closed"
            and _instant(row["registered_at"]).date() < START
            and row["subject_id"] not in subjects
            and near(normalise_name(row["account_name"]), normalise_name(name))
        }

    def closed_match(account_id: str) -> dict:
        name = normalise_name(public[account_id]["account_name"])
        [row] = [row for other, row in closed.items() if near(name, normalise_name(row["account_name"]))]
        return row

    handle = re.compile(r"^[a-z]{1,8}[0-9]+$")
    kinds = Counter()
    for account_id, day in tiny.truth.common_name_collisions:
        row, source = public[account_id], closed_match(account_id)
        assert _instant(row["registered_at"]).astimezone(PLATFORM_ZONE).date() == day
        assert row["subject_id"] != source["subject_id"]
        is_handle = bool(handle.match(row["account_name"])) and len(normalise_name(source["account_name"])) <= 8
        crowded = len(namesake_subjects(source["account_name"], row["subject_id"], source["subject_id"])) >= 2
        assert is_handle or crowded, row["account_name"]
        kinds[(is_handle, crowded)] += 1
    # Handles alone, crowded names alone, and a handle that is crowded too.
    assert set(kinds) == {(True, False), (False, True), (True, True)}
    kinds.clear()
    for account_id, _ in tiny.truth.closed_name_reregistration:
        row, source = public[account_id], closed_match(account_id)
        same_subject = row["subject_id"] == source["subject_id"]
        rare = len(namesake_subjects(source["account_name"], row["subject_id"], source["subject_id"])) < 2
        assert same_subject or (rare and not handle.match(row["account_name"])), row["account_name"]
        kinds[same_subject] += 1
    assert kinds == {True: 1, False: 4}


def _one_edit(a: str, b: str) -> bool:
    from accountwatch.synthetic.platform import _edits_within_one

    return _edits_within_one(a, b)


def test_viral_followers_are_established_users_with_earlier_activity_and_reads_rise(tiny):
    truth = tiny.truth
    first = _first_rows(tiny)
    follows = _follows(tiny)
    daily = _daily_follows(follows, leave_out=_farm_users(truth))
    first_activity: dict[str, date] = {}
    reads: Counter = Counter()
    for row in tiny.rows["engagement"]:
        day = _platform_day(row["event_ts"])
        if row["event_type"] not in AUDIENCE_TYPES or day is None:
            continue
        if row["actor_id"]:
            first_activity[row["actor_id"]] = min(day, first_activity.get(row["actor_id"], day))
        if row["event_type"] in ("read", "share"):
            reads[(row["account_id"], day)] += int(row["count"] or 1)
    assert truth.viral_days
    for account_id, day in truth.viral_days:
        followers = {row["user_id"] for row in follows if row["account_id"] == account_id and row["_day"] == day}
        assert daily[(account_id, day)] >= max(60, 10 * _mean_before(daily, account_id, day))
        established = {
            user
            for user in followers
            if _instant(first[user]["registered_at"]).date() <= day - timedelta(days=60)
            and first_activity.get(user, day) < day
        }
        assert len(established) >= max(60, 0.85 * len(followers))
        assert reads[(account_id, day)] >= 3 * _mean_before(reads, account_id, day)
        assert (day - truth.start).days >= 35


def test_lurkers_follow_but_never_read_like_share_or_comment(tiny):
    farm_users = _farm_users(tiny.truth)
    followers = {row["user_id"] for row in tiny.rows["subscriptions"] if row["user_id"] not in farm_users}
    actors = {row["actor_id"] for row in tiny.rows["engagement"] if row["event_type"] in AUDIENCE_TYPES}
    assert 0.05 * len(followers) <= len(followers - actors) <= 0.3 * len(followers)


def test_campus_gateway_sign_ups_share_one_ip_and_spread_over_eight_hours(tiny):
    first = _first_rows(tiny)
    campus = [first[account_id] for account_id in tiny.truth.batch_negatives["campus"]]
    assert {row["account_type"] for row in campus} == {"user"}
    assert len({row["registration_ip"] for row in campus}) == 1
    assert len({row["device_id"] for row in campus}) == len(campus)
    by_day: dict[date, list[datetime]] = defaultdict(list)
    for row in campus:
        by_day[_instant(row["registered_at"]).astimezone(PLATFORM_ZONE).date()].append(_instant(row["registered_at"]))
    busy = {day: sorted(times) for day, times in by_day.items() if len(times) >= 40}
    assert 2 <= len(busy) <= 3
    assert all(times[-1] - times[0] >= timedelta(hours=8) for times in busy.values())
    assert all(len(times) <= 3 for day, times in by_day.items() if day not in busy)
    assert not set(tiny.truth.batch_negatives["campus"]) & tiny.truth.batch_registration


def test_family_device_users_register_at_least_seven_days_apart(tiny):
    first = _first_rows(tiny)
    family = [first[account_id] for account_id in tiny.truth.batch_negatives["family_device"]]
    assert 3 <= len(family) <= 4 and len({row["device_id"] for row in family}) == 1
    registered = sorted(_instant(row["registered_at"]) for row in family)
    assert all(later - earlier >= timedelta(days=7) for earlier, later in zip(registered, registered[1:], strict=False))


def test_enterprise_office_opens_three_used_accounts_within_an_hour_from_one_ip(tiny):
    first, uses = _first_rows(tiny), _use_days(tiny)
    office = [first[account_id] for account_id in tiny.truth.batch_negatives["enterprise_office"]]
    assert len(office) == 3 and {row["subject_type"] for row in office} == {"enterprise"}
    assert len({row["subject_id"] for row in office}) == len({row["registration_ip"] for row in office}) == 1
    registered = sorted(_instant(row["registered_at"]) for row in office)
    assert registered[-1] - registered[0] <= timedelta(hours=1) and registered[0].date() >= START
    assert all(uses[row["account_id"]] for row in office)


def test_media_group_accounts_are_numbered_and_registered_at_least_five_days_apart(tiny):
    first = _first_rows(tiny)
    media = sorted(
        (first[account_id] for account_id in tiny.truth.batch_negatives["media_group"]),
        key=lambda row: _instant(row["registered_at"]),
    )
    assert 5 <= len(media) <= 8 and {row["subject_type"] for row in media} == {"media"}
    assert len({row["subject_id"] for row in media}) == len({row["registration_ip"] for row in media}) == 1
    stem = media[0]["account_name"].removesuffix(" 1")
    assert [row["account_name"] for row in media] == [f"{stem} {number}" for number in range(1, len(media) + 1)]
    registered = [_instant(row["registered_at"]) for row in media]
    assert all(later - earlier >= timedelta(days=5) for earlier, later in zip(registered, registered[1:], strict=False))


def test_batch_negatives_are_neither_dormant_nor_over_quota_nor_bursts(tiny):
    truth = tiny.truth
    negatives = {account for ids in truth.batch_negatives.values() for account in ids}
    assert set(truth.batch_negatives) == {"campus", "family_device", "enterprise_office", "media_group"}
    assert not negatives & (truth.dormant_account | truth.quota_overrun | truth.batch_registration)


def test_new_truth_fields_round_trip_and_default_to_empty_for_older_truth(tiny):
    truth = PlantedTruth.from_json(tiny.truth.to_json())
    assert truth.purchases == tiny.truth.purchases and truth.batch_clusters == tiny.truth.batch_clusters
    assert truth.fake_follower_spike and truth.viral_days and truth.batch_registration
    older = json.loads(tiny.truth.to_json())
    new_fields = ("fake_follower_spike", "purchases", "fake_follower_drip", "viral_days", "batch_registration")
    for name in (*new_fields, "batch_clusters", "batch_negatives", "common_name_collisions"):
        del older[name]
    loaded = PlantedTruth.from_json(json.dumps(older))
    assert (loaded.batch_registration, loaded.purchases, loaded.fake_follower_drip) == (frozenset(), [], {})
    assert loaded.common_name_collisions == frozenset() and truth.common_name_collisions
    assert loaded.dormant_account == tiny.truth.dormant_account


def test_demo_size_plants_a_drip_of_distinct_farm_followers_for_fourteen_days(demo):
    truth = demo.truth
    assert len(truth.fake_follower_drip) == 1
    ((buyer, (first_day, last_day)),) = truth.fake_follower_drip.items()
    assert (last_day - first_day).days == 13 and len(truth.drip_days()) == 14
    assert buyer not in {purchase["account_id"] for purchase in truth.purchases}
    farm_users = _farm_users(truth)
    dripped = [row for row in _follows(demo) if row["account_id"] == buyer and row["user_id"] in farm_users]
    per_day = Counter(row["_day"] for row in dripped)
    assert set(per_day) == {first_day + timedelta(days=offset) for offset in range(14)}
    assert all(20 <= count <= 40 for count in per_day.values())
    assert len({row["user_id"] for row in dripped}) == len(dripped)
    registered = {
        member: cluster["registration_day"] for cluster in truth.batch_clusters for member in cluster["members"]
    }
    assert all(registered[row["user_id"]] < first_day for row in dripped)


def test_demo_size_scales_the_planted_cases(demo):
    truth = demo.truth
    kinds = Counter(cluster["kind"] for cluster in truth.batch_clusters)
    assert 6 <= len(truth.purchases) <= 10 and 3 <= len(truth.viral_days) <= 5
    assert kinds["idle_farm"] >= 1 and 1 <= kinds["public_batch"] <= 2
    idle = [cluster for cluster in truth.batch_clusters if cluster["kind"] == "idle_farm"]
    assert max(len(cluster["members"]) for cluster in idle) >= 300
    purchases_per_farm_day = Counter((purchase["farm"], purchase["date"]) for purchase in truth.purchases)
    assert max(purchases_per_farm_day.values()) >= 2


def test_demo_size_young_accounts_ramp_up_their_follows_over_their_first_weeks(demo):
    latest = _latest_accounts(demo)
    daily = _daily_follows(_follows(demo), leave_out=_farm_users(demo.truth))

    def week(account_id: str, number: int) -> int:
        registered = _instant(latest[account_id]["registered_at"]).astimezone(PLATFORM_ZONE).date()
        return sum(daily[(account_id, registered + timedelta(days=7 * number + day))] for day in range(1, 8))

    young = [
        account_id
        for account_id, row in latest.items()
        if row["account_type"] == "public" and _instant(row["registered_at"]).date() > demo.truth.start
    ]
    assert any(week(account_id, 5) >= max(20, 5 * week(account_id, 0)) for account_id in young)


def test_demo_size_most_followed_accounts_swing_towards_or_away_from_weekends(demo):
    truth = demo.truth
    daily = _daily_follows(_follows(demo), leave_out=_farm_users(truth))
    totals: Counter = Counter()
    for (account_id, _), count in daily.items():
        totals[account_id] += count
    days = [truth.start + timedelta(days=offset) for offset in range((truth.end - truth.start).days + 1)]
    weekend_over_weekday = []
    for account_id, _ in totals.most_common(30):
        weekend = [daily[(account_id, day)] for day in days if day.weekday() >= 5]
        weekday = [daily[(account_id, day)] for day in days if day.weekday() < 5]
        weekend_over_weekday.append((sum(weekend) / len(weekend)) / max(sum(weekday) / len(weekday), 1e-9))
    assert max(weekend_over_weekday) >= 1.4 and min(weekend_over_weekday) <= 0.7
