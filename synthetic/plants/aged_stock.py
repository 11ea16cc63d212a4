"""A follower purchase of aged stock, and an organic viral day of old followers: for fake_follower_spike.

Written like the transfer plant: accounts of their own, as extra landing files after the rest of the platform.
Two public accounts gain about two follows a day from a pool of users registered over the three years before
the period. Then:

- `buyer`: on one day, 200 accounts registered within six days about 300 days before follow it within three
  hours. They share no address, device or phone, follow nobody else and are not young; a third of them read a
  little in the period's first weeks, so they are not inactive either (aged stock from a follower market):
  planted;
- `viral`: three days later, 200 users registered over the three years before the period follow the other
  account within three hours: never flagged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from accountwatch.synthetic.plants.overlay import OverlayFiles, stamp_at

FILE_NAME = "aged-stock-cases.csv"
STOCK = 200
FOLLOWS_PER_DAY = 2
YEARS_DAYS = 3 * 365


@dataclass(frozen=True)
class AgedStockCases:
    """What the plant wrote: the purchase's (account, day) and the viral look-alike's."""

    planted: frozenset[tuple[str, date]]
    look_alikes: frozenset[tuple[str, date]]


def _account(files: OverlayFiles, start: date, account: str, kind: str, registered: str, serial: int) -> None:
    public = kind == "public"
    files.account(
        start,
        {
            "account_id": account,
            "account_type": kind,
            "subject_id": f"s_{account}" if public else "",
            "subject_type": "enterprise" if public else "",
            "account_name": f"{'daily digest' if public else 'member'} {serial:05d}",
            "registered_at": registered,
            "registration_ip": f"10.{180 + serial // 62500}.{serial // 250 % 250}.{serial % 250 + 1}",
            "device_id": f"reg-{account}",
            "phone": f"1355{serial:07d}" if public else "",
            "content_category": "news" if public else "",
            "status": "active",
            "updated_at": registered,
        },
    )


# Long: the plant's story in order (accounts, follower pools, daily growth, the purchase, the viral day).
def plant_aged_stock(landing: Path, start: date, days: int, copies: int) -> AgedStockCases:
    """Write `copies` of both cases into `landing`; return what a detector should and must not flag."""
    files = OverlayFiles("aged")
    end = start + timedelta(days=days - 1)
    bought_on = start + timedelta(days=max(30, min(days // 2, days - 5)))
    viral_on = min(bought_on + timedelta(days=3), end)
    planted: set[tuple[str, date]] = set()
    look_alikes: set[tuple[str, date]] = set()
    serial = 0

    def user(name: str, registered: str) -> str:
        nonlocal serial
        serial += 1
        _account(files, start, name, "user", registered, serial)
        return name

    def spread_over_years(index: int, count: int) -> str:
        back = YEARS_DAYS - index * YEARS_DAYS // count
        return stamp_at(start - timedelta(days=back), 3600 * (8 + index % 12) + index % 3600)

    for copy in range(copies):
        buyer, viral = f"pa_aged_{copy:03d}_buyer", f"pa_aged_{copy:03d}_viral"
        for account in (buyer, viral):
            serial += 1
            _account(files, start, account, "public", stamp_at(start - timedelta(days=700), 36000), serial)
        fans = [
            user(f"u_aged_{copy:03d}_fan{i:04d}", spread_over_years(i, 2 * FOLLOWS_PER_DAY * days))
            for i in range(2 * FOLLOWS_PER_DAY * days)
        ]
        stock_registered = bought_on - timedelta(days=300)
        stock = [
            user(f"u_aged_{copy:03d}_stock{i:04d}", stamp_at(stock_registered + timedelta(days=i % 6), 30000 + 97 * i))
            for i in range(STOCK)
        ]
        crowd = [user(f"u_aged_{copy:03d}_crowd{i:04d}", spread_over_years(i, STOCK)) for i in range(STOCK)]
        day, fan = start, 0
        while day <= end:
            for account in (buyer, viral):
                if (day - start).days % 3 == 0:
                    files.use(account, f"op_{account}", day, f"dev-op-{account}", "10.179.0.20", publish=True)
                for _ in range(FOLLOWS_PER_DAY):
                    files.follow(account, fans[fan % len(fans)], day, 9 * 3600 + 1800 * (fan % 20))
                    fan += 1
            day += timedelta(days=1)
        for index, member in enumerate(stock):
            if index % 3 == 0:
                # A little activity of their own, in the period's first weeks: not inactive.
                read_on = start + timedelta(days=index % 20)
                files.audience(buyer, member, read_on, "read", f"{buyer}-art", f"10.178.{index % 250}.5", f"d-{member}")
            files.follow(buyer, member, bought_on, 14 * 3600 + 50 * index)
        for index, member in enumerate(crowd):
            files.follow(viral, member, viral_on, 14 * 3600 + 50 * index)
        planted.add((buyer, bought_on))
        look_alikes.add((viral, viral_on))
    files.write(landing, FILE_NAME)
    return AgedStockCases(frozenset(planted), frozenset(look_alikes))
