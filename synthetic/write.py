"""Landing files: rows as the contract's text columns, timestamps in mixed forms, CSV, JSON Lines, Parquet."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from accountwatch.schemas.landing import ENGAGEMENT, LandingTable
from accountwatch.synthetic.common import EPOCH, SECONDS_PER_DAY
from accountwatch.synthetic.world import Rows, World

STATUS_NAMES = np.array(["active", "suspended", "closed"])
TIMESTAMP_FORMS = np.array([0.5, 0.3, 0.2])  # with offset, UTC with Z, no offset


def local_and_utc(local_sec: np.ndarray, time_zone: str) -> tuple[np.ndarray, np.ndarray]:
    """Wall-clock seconds in the platform zone, made valid, and the same instants as UTC seconds."""
    if local_sec.size == 0:
        return local_sec.astype(np.int64), local_sec.astype(np.int64)
    naive = pd.DatetimeIndex(local_sec.astype("datetime64[s]"))
    aware = naive.tz_localize(time_zone, ambiguous=np.zeros(local_sec.size, dtype=bool), nonexistent="shift_forward")
    local = aware.tz_localize(None).values.astype("datetime64[s]").astype(np.int64)
    utc = aware.tz_convert("UTC").tz_localize(None).values.astype("datetime64[s]").astype(np.int64)
    return local, utc


def _offset_text(offset_sec: int) -> str:
    sign = "+" if offset_sec >= 0 else "-"
    hours, minutes = divmod(abs(offset_sec) // 60, 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


def _iso_text(local_sec: np.ndarray, utc_sec: np.ndarray, forms: np.ndarray) -> np.ndarray:
    """ISO 8601 text per row in one of three forms: local with offset, UTC with Z, local without offset."""
    if local_sec.size == 0:
        return np.array([], dtype=object)
    local_text = np.datetime_as_string(local_sec.astype("datetime64[s]"), unit="s")
    utc_text = np.datetime_as_string(utc_sec.astype("datetime64[s]"), unit="s")
    offsets, inverse = np.unique(local_sec - utc_sec, return_inverse=True)
    offset_text = np.array([_offset_text(int(offset)) for offset in offsets])[inverse]
    with_offset = np.char.add(local_text, offset_text)
    zulu = np.char.add(utc_text, "Z")
    no_offset = np.char.replace(local_text, "T", " ")
    return np.where(forms == 0, with_offset, np.where(forms == 1, zulu, no_offset)).astype(object)


def timestamp_columns(rng: np.random.Generator, local_sec: np.ndarray, time_zone: str) -> tuple[np.ndarray, np.ndarray]:
    """Timestamp text in one of three forms per row, and the UTC seconds, for platform-time seconds."""
    local, utc = local_and_utc(local_sec, time_zone)
    forms = rng.choice(3, size=local.size, p=TIMESTAMP_FORMS)
    return _iso_text(local, utc, forms), utc


def event_rows(rng: np.random.Generator, world: World, table: LandingTable, events: Rows, day: int) -> Rows:
    """Raw events as the landing table's text columns plus the helpers the writer and bad-row planting need."""
    columns = events.columns
    event_ts, utc = timestamp_columns(rng, columns["local_sec"], world.time_zone)
    rows: dict[str, np.ndarray] = {
        "event_id": columns["event_id"],
        "account_id": world.accounts.account_id[columns["account"]],
    }
    if table is ENGAGEMENT:
        count_text = columns["count"].astype(str).astype(object)
        # `count` is optional: a count of one is sometimes left empty.
        count_text[(columns["count"] == 1) & (rng.random(len(events)) < 0.3)] = None
        rows |= {"actor_id": columns["actor_id"], "event_type": columns["event_type"], "count": count_text}
        # Files of days before audience events named their article leave the optional column out.
        if any(content is not None for content in columns["content_id"]):
            rows["content_id"] = columns["content_id"]
    else:
        rows |= {"user_id": columns["user_id"], "action": columns["action"], "channel": columns["channel"]}
    day_start = (world.start - EPOCH).days * SECONDS_PER_DAY + day * SECONDS_PER_DAY
    on_time = (columns["local_sec"] >= day_start) & (columns["local_sec"] < day_start + SECONDS_PER_DAY)
    rows |= {
        "event_ts": event_ts,
        "_utc_event_ts": utc,
        "_native_ok": np.ones(len(events), dtype=bool),
        "_template": columns["audience"] & on_time,
    }
    return Rows(rows)


def account_rows(
    rng: np.random.Generator, world: World, index: np.ndarray, status: np.ndarray, updated: np.ndarray
) -> Rows:
    """Account rows (accounts `index` with `status` as of `updated`) in the order they were updated."""
    accounts = world.accounts
    in_update_order = np.argsort(updated, kind="stable")
    index, status, updated = index[in_update_order], status[in_update_order], updated[in_update_order]
    registered_at, registered_utc = timestamp_columns(rng, accounts.reg_local_sec[index], world.time_zone)
    updated_at, updated_utc = timestamp_columns(rng, updated, world.time_zone)
    return Rows(
        {
            "account_id": accounts.account_id[index],
            "account_type": accounts.account_type[index],
            "subject_id": accounts.subject_id[index],
            "subject_type": accounts.subject_type[index],
            "account_name": accounts.account_name[index],
            "registered_at": registered_at,
            "registration_ip": accounts.registration_ip[index],
            "device_id": accounts.device_id[index],
            "phone": accounts.phone[index],
            "content_category": accounts.content_category[index],
            "status": STATUS_NAMES[status].astype(object),
            "updated_at": updated_at,
            "_utc_registered_at": registered_utc,
            "_utc_updated_at": updated_utc,
            "_native_ok": np.ones(index.size, dtype=bool),
        }
    )


def _parquet_table(chunk: Rows, table: LandingTable, native_timestamps: bool) -> pa.Table:
    arrays = {}
    for name in _written(chunk, table):
        values = chunk.columns[name]
        missing = pd.isna(values)
        if name in table.timestamps and native_timestamps:
            micros = chunk.columns[f"_utc_{name}"].astype(np.int64) * 1_000_000
            arrays[name] = pa.array(micros, type=pa.timestamp("us", tz="UTC"), mask=missing)
        elif name == "count":
            numbers = np.where(missing, "0", values).astype(np.int64)
            arrays[name] = pa.array(numbers, type=pa.int64(), mask=missing)
        else:
            arrays[name] = pa.array(values, type=pa.string(), from_pandas=True)
    return pa.table(arrays)


def _written(chunk: Rows, table: LandingTable) -> list[str]:
    """The contract columns the rows carry: organic engagement names its article (from a day on), not its device."""
    return [name for name in table.columns if name in chunk.columns]


def _write_chunk(rng: np.random.Generator, chunk: Rows, table: LandingTable, stem: Path, file_format: str) -> None:
    names = _written(chunk, table)
    visible = [chunk.columns[name] for name in names]
    if file_format == "csv":
        with stem.with_suffix(".csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(names)
            writer.writerows(zip(*visible, strict=True))
    elif file_format == "jsonl":
        frame = pd.DataFrame(dict(zip(names, visible, strict=True)), dtype=object)
        if "count" in frame:
            count = chunk.columns["count"].copy()
            as_number = ~pd.isna(count) & (rng.random(count.size) < 0.5)
            count[as_number] = [int(value) for value in count[as_number]]
            frame["count"] = pd.Series(count, dtype=object)
        frame.to_json(stem.with_suffix(".jsonl"), orient="records", lines=True, force_ascii=False)
    else:
        native = bool(chunk.columns["_native_ok"].all()) and rng.random() < 0.5
        pq.write_table(_parquet_table(chunk, table, native), stem.with_suffix(".parquet"))


def write_day_files(rng: np.random.Generator, landing: Path, table: LandingTable, day: date, rows: Rows) -> None:
    """Split one table-day into 1-3 files of mixed formats."""
    folder = landing / table.name / f"date={day.isoformat()}"
    folder.mkdir(parents=True, exist_ok=True)
    file_count = int(rng.integers(1, 4)) if len(rows) >= 3 else 1
    cuts = (
        sorted(rng.choice(np.arange(1, len(rows)), size=file_count - 1, replace=False).tolist())
        if file_count > 1
        else []
    )
    bounds = [0, *cuts, len(rows)]
    formats = rng.choice(["csv", "jsonl", "parquet"], size=file_count, p=[0.4, 0.3, 0.3]).tolist()
    if len(rows) == 0:
        formats = ["csv"]
    for part, file_format in enumerate(formats):
        chunk = rows.take(np.arange(bounds[part], bounds[part + 1]))
        _write_chunk(rng, chunk, table, folder / f"{table.name}_{day:%Y%m%d}_{part + 1:02d}", file_format)
