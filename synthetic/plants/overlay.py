"""Extra landing rows a plant writes after the rest of the platform: its own accounts, their operators' use."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from accountwatch.schemas.landing import ACCOUNTS, ENGAGEMENT, SUBSCRIPTIONS, TRANSFERS


def stamp_at(day: date, seconds: int) -> str:
    """A landing timestamp `seconds` after midnight of `day` (platform time)."""
    return f"{day.isoformat()} {seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


@dataclass
class OverlayFiles:
    """The extra landing rows, by table and folder day."""

    prefix: str
    rows: dict[tuple[str, date], list[list[str]]] = field(default_factory=dict)
    events: int = 0

    def add(self, table: str, day: date, row: list[str]) -> None:
        self.rows.setdefault((table, day), []).append(row)

    def use(self, account: str, actor: str, day: date, device: str, ip: str, publish: bool = False) -> None:
        """A login by `actor` (and a publish when `publish`) on `account` that day."""
        for event_type in ("login", "publish") if publish else ("login",):
            self.events += 1
            stamp = f"{day.isoformat()} 10:{self.events % 60:02d}:00"
            row = [f"{self.prefix}-{self.events:07d}", account, actor, event_type, stamp, "1", "", ip, device]
            if event_type == "publish":
                row[6] = f"{account}-art-{day.isoformat()}"
            self.add("engagement", day, row)

    def write(self, landing: Path, file_name: str) -> None:
        """One CSV file per table and day holding the rows added to it."""
        headers = {
            "accounts": ACCOUNTS.columns,
            "engagement": ENGAGEMENT.columns,
            "subscriptions": SUBSCRIPTIONS.columns,
            "transfers": TRANSFERS.columns,
        }
        for (table, day), rows in sorted(self.rows.items()):
            folder = landing / table / f"date={day.isoformat()}"
            folder.mkdir(parents=True, exist_ok=True)
            with (folder / file_name).open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(headers[table])
                writer.writerows(rows)

    def follow(self, account: str, user: str, day: date, seconds: int) -> None:
        """`user` follows `account` on `day`, `seconds` after midnight (platform time)."""
        self.events += 1
        row = [f"{self.prefix}-{self.events:07d}", account, user, "follow", stamp_at(day, seconds), "search"]
        self.add("subscriptions", day, row)

    def account(self, day: date, values: dict[str, str]) -> None:
        """An account row delivered on `day` (every contract column from `values`)."""
        self.add("accounts", day, [values[column] for column in ACCOUNTS.columns])

    def audience(
        self,
        account: str,
        actor: str,
        day: date,
        event_type: str,
        content_id: str,
        ip: str,
        device: str,
        hour: int | None = None,
        count: int = 1,
    ) -> None:
        """`count` reads, likes, shares or comments by `actor` on an article of `account` that day (within `hour`)."""
        self.events += 1
        hour = 12 + self.events % 10 if hour is None else hour
        stamp = f"{day.isoformat()} {hour:02d}:{self.events % 60:02d}:{self.events % 47:02d}"
        row = [
            f"{self.prefix}-{self.events:07d}",
            account,
            actor,
            event_type,
            stamp,
            str(count),
            content_id,
            ip,
            device,
        ]
        self.add("engagement", day, row)
