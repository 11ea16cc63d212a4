"""Planted fake_engagement cases and the organic surges that look like them.

Written like the transfer plant: accounts of their own, as extra landing files after the rest of the platform.
Four public accounts share a pool of established readers (registered long before the period, reading from its
first days), about a quarter of whom read each account every day. Then:

- `bought`: on one day, a farm of aged accounts that never acted before (registered a year before the period,
  working from five phones behind two addresses) reads and likes one article of the buyer: planted;
- `stealthy`: the same kind of farm spreads its reads and likes over five days (`engagement_drip`: flagging
  those days is neither required nor wrong; the README says whether they are caught);
- `viral`: one day every established reader reads the article and half of them share it: never flagged;
- `campus`: one day most established readers read from one campus /24: never flagged;
- `liked`: a fifth account read by the same pool; one day every established reader likes its article without
  reading it (a like farm of established accounts: nobody new or young, but 80 likes on about 20 reads where
  the account had none): planted;
- `warmed`: a sixth account read by the same pool; a farm of aged accounts warms up on it a month before, each
  reading one article (15 a day over 10 days, too few to make a candidate day), so none of them is new or young
  on the day it reads and likes one article, from five phones: only the shared phones show it: planted;
- `lockstep_a`, `lockstep_b`: two accounts of different subjects read by the same pool; a farm of aged accounts,
  warmed up a month before, each on its own phone and /24, reads one article of each within the same hour: only
  the lockstep shows it: both planted;
- `pumped`: an account read by the same pool; six aged bots, warmed up a month before, reload its article 40
  times each in one day (four rows counting ten reads): too few actors for a crowd, only the repeats show it:
  planted;
- `late` and `resurfaced`: two accounts read by a pool of their own, each publishing an article a day whose audience
  decays (60 or 20 readers on its first day, then 30%, 10%, 5% ... of them), so their days swing between 44 and
  75 events and their newest article between 20 and 60. On one day a farm of aged accounts that never acted
  before reads `late`'s article of three days before from five phones (60 reads where an article draws 1 to 3 on
  its fourth day: inside the day's swing and about the newest article's first day): only the article's baseline
  by age shows it: planted. Three days later 60 of the pool's established readers come back to `resurfaced`'s
  article of three days before (an old article shared again): never flagged;
- `news_a`, `news_b`, `news_c`: three accounts of different subjects, each read by 38 established readers of its
  own (a quarter a day; each reader also read the other two once at the period's start). On one news day every
  reader of each reads, half of them share, all in the same morning hour: three surges at once with different
  readers each: never flagged;
- `push`: an account with 60 subscribers who followed it at the period's start and read it (a quarter a day, and
  once another account at the start); one morning it pushes to them and every one reads within the hour, a third
  of them like: never flagged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from accountwatch.jobs.ingest.landing import days_between
from accountwatch.synthetic.plants.overlay import OverlayFiles

FILE_NAME = "engagement-cases.csv"
READERS = 80
FARM = 150
STEALTHY_DAYS = 5


@dataclass(frozen=True)
class EngagementCases:
    """What the engagement plant wrote: planted and look-alike (account, day) pairs and the stealthy drips."""

    planted: frozenset[tuple[str, date]]
    look_alikes: frozenset[tuple[str, date]]
    drips: tuple[tuple[str, date, date], ...]


def _user(files: OverlayFiles, start: date, user: str, serial: int) -> None:
    registered = f"{(start - timedelta(days=365 + serial % 200)).isoformat()} 08:{serial % 60:02d}:00"
    files.account(
        start,
        {
            "account_id": user,
            "account_type": "user",
            "subject_id": "",
            "subject_type": "",
            "account_name": f"reader {user}",
            "registered_at": registered,
            "registration_ip": f"10.{160 + serial // 250}.{serial % 250}.3",
            "device_id": f"reg-{user}",
            "phone": "",
            "content_category": "",
            "status": "active",
            "updated_at": registered,
        },
    )


def _case_account(files: OverlayFiles, start: date, copy: int, case: str, first: int) -> str:
    """The public account of `case` in copy `copy` (serial `first` + copy), registered long before the period."""
    account = f"pa_eng_{copy:03d}_{case}"
    _public(files, start, account, first + copy)
    return account


def _aged_users(files: OverlayFiles, start: date, copy: int, tag: str, count: int, first: int) -> list[str]:
    """`count` users of copy `copy` named by `tag`, registered a year or more before the period."""
    users = [f"u_eng_{copy:03d}_{tag}{index:04d}" for index in range(count)]
    for index, user in enumerate(users):
        _user(files, start, user, 1000 * copy + first + index)
    return users


def _public(files: OverlayFiles, start: date, account: str, serial: int) -> None:
    registered = f"{(start - timedelta(days=500)).isoformat()} 10:00:00"
    files.account(
        start,
        {
            "account_id": account,
            "account_type": "public",
            "subject_id": f"s_{account}",
            "subject_type": "enterprise",
            "account_name": f"morning post {serial:04d}",
            "registered_at": registered,
            "registration_ip": f"10.159.{serial % 250}.9",
            "device_id": f"reg-{account}",
            "phone": f"1366{serial:07d}",
            "content_category": "news",
            "status": "active",
            "updated_at": registered,
        },
    )


# Long: the plant's story in order (accounts, readers, farms, daily traffic, the surges), each step a few lines.
def plant_engagement(rng: np.random.Generator, landing: Path, start: date, days: int, copies: int) -> EngagementCases:
    """Write `copies` of every case into `landing`; return what a detector should and must not flag."""
    files = OverlayFiles("eng")
    end = start + timedelta(days=days - 1)
    planted: set[tuple[str, date]] = set()
    look_alikes: set[tuple[str, date]] = set()
    drips: list[tuple[str, date, date]] = []
    first_day = max(40, days // 3)
    for copy in range(copies):
        names = {case: f"pa_eng_{copy:03d}_{case}" for case in ("bought", "stealthy", "viral", "campus")}
        for serial, account in enumerate(names.values()):
            _public(files, start, account, 4 * copy + serial)
        readers = _aged_users(files, start, copy, "r", READERS, 0)
        farm = _aged_users(files, start, copy, "f", 2 * FARM, READERS)
        surge = {
            case: start + timedelta(days=int(rng.integers(first_day, max(first_day + 1, days - 8)))) for case in names
        }
        if surge["campus"] == surge["viral"]:
            # The same readers surging on two accounts within the hour would be a lockstep, not two organic days.
            surge["campus"] += timedelta(days=1)
        for day in days_between(start, end):
            for serial, account in enumerate(names.values()):
                _published_and_read(files, account, day, (day - start).days + serial, readers, f"10.159.{serial}.20")
        bought, stealthy = names["bought"], names["stealthy"]
        for index, actor in enumerate(farm[:FARM]):
            article = f"{bought}-art-{surge['bought'].isoformat()}"
            ip, device = f"10.240.{index % 2}.{index % 200}", f"farm-phone-{copy}-{index % 5}"
            files.audience(bought, actor, surge["bought"], "read", article, ip, device)
            files.audience(bought, actor, surge["bought"], "like", article, ip, device)
        planted.add((bought, surge["bought"]))
        drip_first = surge["stealthy"] - timedelta(days=STEALTHY_DAYS - 1)
        for index, actor in enumerate(farm[FARM:]):
            day = drip_first + timedelta(days=index % STEALTHY_DAYS)
            article = f"{stealthy}-art-{day.isoformat()}"
            ip, device = f"10.241.{index % 2}.{index % 200}", f"farm-phone-{copy}-s{index % 5}"
            files.audience(stealthy, actor, day, "read", article, ip, device)
            files.audience(stealthy, actor, day, "like", article, ip, device)
        drips.append((stealthy, drip_first, surge["stealthy"]))
        viral, campus = names["viral"], names["campus"]
        for index, reader in enumerate(readers):
            article = f"{viral}-art-{surge['viral'].isoformat()}"
            files.audience(viral, reader, surge["viral"], "read", article, f"10.170.{index}.8", f"dev-{reader}")
            if index % 2 == 0:
                files.audience(viral, reader, surge["viral"], "share", article, f"10.170.{index}.8", f"dev-{reader}")
            article = f"{campus}-art-{surge['campus'].isoformat()}"
            files.audience(campus, reader, surge["campus"], "read", article, f"10.200.1.{index % 250}", f"dev-{reader}")
        look_alikes.update({(viral, surge["viral"]), (campus, surge["campus"])})
        planted.add(_liked_without_reading(files, start, end, copy, readers, start + timedelta(days=first_day + 5)))
        planted.add(_warmed_farm(files, start, end, copy, readers, start + timedelta(days=first_day + 10)))
        planted.update(_lockstep_farm(files, start, end, copy, readers, start + timedelta(days=first_day + 15)))
        planted.add(_pumped(files, start, end, copy, readers, start + timedelta(days=first_day + 20)))
        pool = _aged_users(files, start, copy, "a", LIFE_READERS, 806)
        planted.add(_bought_late(files, start, end, copy, pool, start + timedelta(days=first_day + 25)))
        look_alikes.add(_resurfaced(files, start, end, copy, pool, start + timedelta(days=first_day + 28)))
        news = _news_day(files, start, end, copy, start + timedelta(days=first_day + 31))
        look_alikes.update(news)
        look_alikes.add(_pushed(files, start, end, copy, news[0][0], start + timedelta(days=first_day + 34)))
    files.write(landing, FILE_NAME)
    return EngagementCases(frozenset(planted), frozenset(look_alikes), tuple(drips))


def _published_and_read(
    files: OverlayFiles, account: str, day: date, turn: int, readers: list[str], operator_ip: str
) -> str:
    """The account's operator publishes the day's article; a quarter of `readers` (by `turn`) read it. Its id."""
    files.use(account, f"op_{account}", day, f"dev-op-{account}", operator_ip, publish=True)
    article = f"{account}-art-{day.isoformat()}"
    for index, reader in enumerate(readers):
        if (index + turn) % 4 == 0:
            files.audience(account, reader, day, "read", article, f"10.170.{index}.8", f"dev-{reader}")
    return article


def _liked_without_reading(
    files: OverlayFiles, start: date, end: date, copy: int, readers: list[str], liked_on: date
) -> tuple[str, date]:
    """An account read daily by a quarter of `readers`; on `liked_on` every reader likes it without reading."""
    # Serials of their own (the first four accounts of copy c use 4c..4c+3).
    account = _case_account(files, start, copy, "liked", 900)
    liked_on = min(liked_on, end)
    for day in days_between(start, end):
        offset = (day - start).days
        files.use(account, f"op_{account}", day, f"dev-op-{account}", "10.159.9.20", publish=True)
        article = f"{account}-art-{day.isoformat()}"
        for index, reader in enumerate(readers):
            if (index + offset) % 4 == 0:
                files.audience(account, reader, day, "read", article, f"10.170.{index}.8", f"dev-{reader}")
            if day == liked_on:
                files.audience(account, reader, day, "like", article, f"10.170.{index}.8", f"dev-{reader}")
    return account, liked_on


WARM_UP_DAYS = 10
WARM_UP_BEFORE = 30


def _warmed_farm(
    files: OverlayFiles, start: date, end: date, copy: int, readers: list[str], bought_on: date
) -> tuple[str, date]:
    """An account read daily by a quarter of `readers`; a farm warmed up on it a month before buys `bought_on`."""
    account = _case_account(files, start, copy, "warmed", 950)
    bought_on = min(bought_on, end)
    farm = _aged_users(files, start, copy, "w", FARM, 500)
    warm_up = {
        actor: bought_on - timedelta(days=WARM_UP_BEFORE - index % WARM_UP_DAYS) for index, actor in enumerate(farm)
    }
    for day in days_between(start, end):
        article = _published_and_read(files, account, day, (day - start).days, readers, "10.159.10.20")
        for index, actor in enumerate(farm):
            phone, ip = f"warm-phone-{copy}-{index % 5}", f"10.242.{index % 2}.{index % 200}"
            if warm_up[actor] == day:
                files.audience(account, actor, day, "read", article, ip, phone)
            if day == bought_on:
                files.audience(account, actor, day, "read", article, ip, phone)
                files.audience(account, actor, day, "like", article, ip, phone)
    return account, bought_on


def _established(files: OverlayFiles, account: str, article: str, actors: list[str], on: date) -> None:
    """`actors` (aged users) each read `article` of `account` once, over the `WARM_UP_DAYS` from `on`."""
    for index, actor in enumerate(actors):
        day = on + timedelta(days=index % WARM_UP_DAYS)
        files.audience(account, actor, day, "read", article, f"10.244.{index}.1", f"w-phone-{actor}")


def _lockstep_farm(
    files: OverlayFiles, start: date, end: date, copy: int, readers: list[str], bought_on: date
) -> list[tuple[str, date]]:
    """Two buyers of different subjects read daily by `readers`; on `bought_on` one farm reads both within the hour.

    The farm's aged accounts warmed up a month before, each on its own phone and /24: nobody is new, young or
    sharing a device; only acting together on unrelated accounts shows them.
    """
    buyers = [f"pa_eng_{copy:03d}_lockstep_{side}" for side in ("a", "b")]
    bought_on = min(bought_on, end)
    farm = _aged_users(files, start, copy, "k", FARM, 650)
    for serial, buyer in enumerate(buyers):
        _public(files, start, buyer, 910 + 10 * serial + copy)
    for day in days_between(start, end):
        for serial, buyer in enumerate(buyers):
            article = _published_and_read(files, buyer, day, (day - start).days + 1 + serial, readers, "10.159.11.20")
            if day == bought_on - timedelta(days=WARM_UP_BEFORE) and serial == 0:
                _established(files, buyer, article, farm, day)
            for index, actor in enumerate(farm if day == bought_on else []):
                files.audience(buyer, actor, day, "read", article, f"10.243.{index}.7", f"k-phone-{actor}", hour=15)
    return [(buyer, bought_on) for buyer in buyers]


PUMP_BOTS = 6
PUMP_READS = 10


def _pumped(
    files: OverlayFiles, start: date, end: date, copy: int, readers: list[str], pumped_on: date
) -> tuple[str, date]:
    """An account read daily by `readers`; on `pumped_on` six aged bots reload its article, 40 reads each."""
    account = _case_account(files, start, copy, "pumped", 930)
    pumped_on = min(pumped_on, end)
    bots = _aged_users(files, start, copy, "b", PUMP_BOTS, 800)
    for day in days_between(start, end):
        article = _published_and_read(files, account, day, (day - start).days + 3, readers, "10.159.12.20")
        if day == pumped_on - timedelta(days=WARM_UP_BEFORE):
            _established(files, account, article, bots, day)
        for index, bot in enumerate(bots if day == pumped_on else []):
            for hour in (9, 12, 15, 18):
                ip, phone = f"10.245.{index}.9", f"b-phone-{bot}"
                files.audience(account, bot, day, "read", article, ip, phone, hour=hour, count=PUMP_READS)
    return account, pumped_on


# An organic article's audience on each day of its life, as shares of its first day's.
LIFE = (1.0, 0.3, 0.1, 0.05, 0.02, 0.01, 0.01)
LIFE_READERS = 80
LATE_FARM = 60
LATE_AGE = 3


def _articles_with_lives(
    files: OverlayFiles, account: str, days: tuple[date, date], readers: list[str], turn: int, operator_ip: str
) -> None:
    """`account` publishes an article a day of `days`; the article of an even (odd) day draws 60 (20) of `readers`
    on its first day, then `LIFE`'s share of them on each day after."""
    first, last = days
    for day in days_between(first, last):
        files.use(account, f"op_{account}", day, f"dev-op-{account}", operator_ip, publish=True)
        for age, share in enumerate(LIFE):
            offset = (day - first).days - age
            if offset < 0:
                continue
            article = f"{account}-art-{(day - timedelta(days=age)).isoformat()}"
            for position in range(round((60 if offset % 2 == 0 else 20) * share)):
                index = (37 * offset + 61 * age + position + turn) % len(readers)
                reader = readers[index]
                files.audience(account, reader, day, "read", article, f"10.171.{index}.8", f"dev-{reader}")


def _account_with_lives(
    files: OverlayFiles, span: tuple[date, date], copy: int, case: tuple[str, int], readers: list[str], on: date
) -> tuple[str, date, str]:
    """The account of `case` (its name and serial), publishing articles with lives over `span` and read by
    `readers`: its id, `on` (within the span) and its article of `LATE_AGE` days before `on`."""
    (start, end), (name, serial) = span, case
    account = _case_account(files, start, copy, name, serial)
    on = min(on, end)
    _articles_with_lives(files, account, span, readers, serial % 100, f"10.159.{serial % 100}.20")
    return account, on, f"{account}-art-{(on - timedelta(days=LATE_AGE)).isoformat()}"


def _bought_late(
    files: OverlayFiles, start: date, end: date, copy: int, readers: list[str], bought_on: date
) -> tuple[str, date]:
    """An account of articles with lives; on `bought_on` a farm reads its article of `LATE_AGE` days before."""
    account, bought_on, article = _account_with_lives(files, (start, end), copy, ("late", 960), readers, bought_on)
    for index, actor in enumerate(_aged_users(files, start, copy, "l", LATE_FARM, 380)):
        ip, phone = f"10.246.{index % 2}.{index % 200}", f"late-phone-{copy}-{index % 5}"
        files.audience(account, actor, bought_on, "read", article, ip, phone)
    return account, bought_on


def _resurfaced(
    files: OverlayFiles, start: date, end: date, copy: int, readers: list[str], back_on: date
) -> tuple[str, date]:
    """An account of articles with lives; on `back_on` 60 of its readers come back to an article."""
    account, back_on, article = _account_with_lives(files, (start, end), copy, ("resurfaced", 975), readers, back_on)
    for index, reader in enumerate(readers[:LATE_FARM]):
        files.audience(account, reader, back_on, "read", article, f"10.171.{index}.8", f"dev-{reader}", hour=20)
    return account, back_on


NEWS_READERS = 38
PUSH_SUBSCRIBERS = 60


def _read_once_elsewhere(files: OverlayFiles, account: str, day: date, actors: list[str]) -> None:
    """`actors` each read `account`'s article of `day` once: from then on they are active elsewhere too."""
    for index, actor in enumerate(actors):
        files.audience(
            account, actor, day, "read", f"{account}-art-{day.isoformat()}", f"10.172.{index}.8", f"dev-{actor}"
        )


def _news_day(files: OverlayFiles, start: date, end: date, copy: int, news_on: date) -> list[tuple[str, date]]:
    """Three accounts of different subjects with readers of their own; on `news_on` every reader of each reads."""
    news_on = min(news_on, end)
    # Serials and user ranges of their own (see the other cases' `_case_account` and `_aged_users` calls).
    accounts = [_case_account(files, start, copy, f"news_{side}", 1040 + 10 * k) for k, side in enumerate("abc")]
    pools = [
        _aged_users(files, start, copy, f"n{side}", NEWS_READERS, 886 + NEWS_READERS * k)
        for k, side in enumerate("abc")
    ]
    for day in days_between(start, end):
        for serial, (account, readers) in enumerate(zip(accounts, pools, strict=True)):
            article = _published_and_read(files, account, day, (day - start).days, readers, f"10.159.{40 + serial}.20")
            for index, reader in enumerate(readers if day == news_on else []):
                files.audience(account, reader, day, "read", article, f"10.170.{index}.8", f"dev-{reader}", hour=7)
                if index % 2 == 0:
                    files.audience(account, reader, day, "share", article, f"10.170.{index}.8", f"dev-{reader}", hour=7)
    elsewhere = min(start + timedelta(days=1), end)
    for serial, readers in enumerate(pools):
        for other in accounts[:serial] + accounts[serial + 1 :]:
            _read_once_elsewhere(files, other, elsewhere, readers)
    return [(account, news_on) for account in accounts]


def _pushed(
    files: OverlayFiles, start: date, end: date, copy: int, elsewhere: str, pushed_on: date
) -> tuple[str, date]:
    """An account whose subscribers read it; on `pushed_on` it pushes and every subscriber reads within the hour."""
    account = _case_account(files, start, copy, "push", 1070)
    pushed_on = min(pushed_on, end)
    subscribers = _aged_users(files, start, copy, "p", PUSH_SUBSCRIBERS, 440)
    for index, subscriber in enumerate(subscribers):
        files.follow(account, subscriber, start, 9 * 3600 + 37 * index)
    _read_once_elsewhere(files, elsewhere, min(start + timedelta(days=1), end), subscribers)
    for day in days_between(start, end):
        article = _published_and_read(files, account, day, (day - start).days, subscribers, "10.159.45.20")
        for index, subscriber in enumerate(subscribers if day == pushed_on else []):
            ip, device = f"10.170.{index}.8", f"dev-{subscriber}"
            files.audience(account, subscriber, day, "read", article, ip, device, hour=8)
            if index % 3 == 0:
                files.audience(account, subscriber, day, "like", article, ip, device, hour=8)
    return account, pushed_on
