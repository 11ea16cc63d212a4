"""Write small landing files for tests, in the contract's formats."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pandas as pd

from accountwatch.schemas.landing import ACCOUNTS, ENGAGEMENT, SUBSCRIPTIONS, TRANSFERS

ACCOUNT_HEADER = list(ACCOUNTS.columns)
SUBSCRIPTION_HEADER = list(SUBSCRIPTIONS.columns)
# Engagement files written before content_id, ip and device_id existed: still valid.
ENGAGEMENT_HEADER = list(ENGAGEMENT.columns[:6])
ENGAGEMENT_FULL_HEADER = list(ENGAGEMENT.columns)
TRANSFER_HEADER = list(TRANSFERS.columns)


def folder(landing: Path, table: str, day: date) -> Path:
    path = landing / table / f"date={day.isoformat()}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_csv(
    landing: Path, table: str, day: date, header: list[str], rows: list[list], name: str = "part.csv"
) -> Path:
    path = folder(landing, table, day) / name
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_jsonl(landing: Path, table: str, day: date, records: list[dict | str], name: str = "part.jsonl") -> Path:
    path = folder(landing, table, day) / name
    lines = [record if isinstance(record, str) else json.dumps(record, ensure_ascii=False) for record in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_parquet(landing: Path, table: str, day: date, frame: pd.DataFrame, name: str = "part.parquet") -> Path:
    path = folder(landing, table, day) / name
    frame.to_parquet(path, index=False)
    return path


def account(account_id: str, **values) -> list:
    """An account row with sensible defaults, as a CSV row in ACCOUNT_HEADER order."""
    defaults = {
        "account_id": account_id,
        "account_type": "public",
        "subject_id": "s_1",
        "subject_type": "individual",
        "account_name": f"name {account_id}",
        "registered_at": "2025-01-01T10:00:00+08:00",
        "registration_ip": "10.1.2.3",
        "device_id": "dev-1",
        "phone": "+8613812345678",
        "content_category": "news",
        "status": "active",
        "updated_at": "2025-01-01 10:00:00",
    }
    defaults.update(values)
    return [defaults[column] for column in ACCOUNT_HEADER]


def quiet_day(landing: Path, day: date, account_id: str = "pa_1", login: bool = True) -> None:
    """A day with one follow and, optionally, one login on `account_id`."""
    stamp = f"{day.isoformat()}T09:00:00+08:00"
    write_jsonl(
        landing,
        "subscriptions",
        day,
        [{"event_id": f"s-{day}", "account_id": account_id, "user_id": "u_1", "action": "follow", "event_ts": stamp}],
    )
    events = [[f"e-{day}", account_id, "u_1", "read", stamp, "1"]]
    if login:
        events.append([f"l-{day}", account_id, "op_1", "login", stamp, ""])
    write_csv(landing, "engagement", day, ENGAGEMENT_HEADER, events)
