"""Generated landing files read back as text rows, and the helpers the synthetic platform tests share."""

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

from accountwatch.schemas.landing import LANDING_TABLES, USE_EVENT_TYPES
from accountwatch.synthetic import PlantedTruth, PlatformSize

START = date(2026, 1, 5)
SEED = 20260105
PLATFORM_ZONE = ZoneInfo("Asia/Shanghai")
TINY = PlatformSize.named("tiny")
AUDIENCE_TYPES = ("read", "like", "share", "comment")


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


def load_landed(
    landing: Path, truth: PlantedTruth, progress: list[tuple[int, int]], tables: tuple[str, ...] = tuple(LANDING_TABLES)
) -> Landed:
    rows: dict[str, list[dict]] = defaultdict(list)
    formats: Counter = Counter()
    native_files = 0
    for table in (LANDING_TABLES[name] for name in tables):
        for path in sorted((landing / table.name).glob("date=*/*")):
            columns, records, native = _read_file(path)
            # Organic engagement is written as files were before ip and device_id existed, and before content_id too
            # on its first days.
            allowed = [list(table.columns)]
            if table.name == "engagement":
                allowed += [list(table.columns[:6]), list(table.columns[:7])]
            assert not records or columns in allowed, f"{path}: columns {columns}"
            formats[path.suffix] += 1
            native_files += native
            folder_date = date.fromisoformat(path.parent.name.removeprefix("date="))
            for record in records:
                text = {name: _as_text(record.get(name)) for name in table.columns}
                rows[table.name].append({**text, "_folder": folder_date, "_file": path, "_raw": record})
    return Landed(landing, truth, rows, formats, native_files, progress)


def instant(text: str | None) -> datetime | None:
    """An ISO 8601 timestamp as an aware datetime; no offset means platform time; None when unparseable."""
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=PLATFORM_ZONE)


def platform_day(text: str | None) -> date | None:
    moment = instant(text)
    return moment.astimezone(PLATFORM_ZONE).date() if moment else None


def latest_accounts(landed: Landed) -> dict[str, dict]:
    latest: dict[str, dict] = {}
    for row in landed.rows["accounts"]:
        updated = instant(row["updated_at"])
        if row["status"] not in ("active", "suspended", "closed") or row["account_type"] not in ("public", "user"):
            continue
        if updated is None or instant(row["registered_at"]) is None or not row["account_name"]:
            continue
        if row["account_type"] == "public" and not row["subject_id"]:
            continue
        if row["account_id"] not in latest or updated >= instant(latest[row["account_id"]]["updated_at"]):
            latest[row["account_id"]] = row
    return latest


def use_days(landed: Landed) -> dict[str, list[date]]:
    uses: dict[str, list[date]] = defaultdict(list)
    for row in landed.rows["engagement"]:
        day = platform_day(row["event_ts"])
        if row["event_type"] in USE_EVENT_TYPES and row["account_id"] and day:
            uses[row["account_id"]].append(day)
    return uses


def file_hashes(landing: Path) -> dict[str, str]:
    return {
        str(path.relative_to(landing)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(landing.rglob("*"))
        if path.is_file()
    }


def first_rows(landed: Landed) -> dict[str, dict]:
    """Each account's earliest delivered row (its registration columns never change)."""
    first: dict[str, dict] = {}
    for row in landed.rows["accounts"]:
        if instant(row["updated_at"]) is None or instant(row["registered_at"]) is None:
            continue
        known = first.get(row["account_id"])
        if known is None or instant(row["updated_at"]) < instant(known["updated_at"]):
            first[row["account_id"]] = row
    return first


def farm_user_ids(truth: PlantedTruth) -> set[str]:
    return {
        member
        for cluster in truth.batch_clusters
        if cluster["kind"] not in ("public_batch", "subject_batch")
        for member in cluster["members"]
    }


def follow_rows(landed: Landed) -> list[dict]:
    return [
        {**row, "_day": platform_day(row["event_ts"]), "_at": instant(row["event_ts"])}
        for row in landed.rows["subscriptions"]
        if row["action"] == "follow" and row["account_id"] and row["user_id"] and instant(row["event_ts"])
    ]


def daily_follows(follows: list[dict], leave_out: set[str]) -> Counter:
    return Counter((row["account_id"], row["_day"]) for row in follows if row["user_id"] not in leave_out)


def mean_before(daily: Counter, account_id: str, day: date, days: int = 28) -> float:
    return sum(daily[(account_id, day - timedelta(days=back))] for back in range(1, days + 1)) / days


def clusters_by_name(truth: PlantedTruth) -> dict[str, dict]:
    return {cluster["name"]: cluster for cluster in truth.batch_clusters}
