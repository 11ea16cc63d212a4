"""Planted account_hoarding cases and the large holders that are not hoarding.

Written like the transfer plant: accounts of their own, as extra landing files after the rest of the platform.

Planted: a media subject holding six public accounts registered long before the period that never publish (an
operator logs in weekly, so they are not dormant); one operator logging in weekly to five such accounts of five
individual subjects (a holding across subjects); one operator taking over, within three days, five aged accounts
of five subjects that nobody had ever used, and publishing from them from then on (bought aged stock).

Look-alikes that must never be flagged: a media subject holding four such accounts (below the threshold of
five), a government subject whose eight accounts all publish, an agency operator publishing for six client
accounts of six subjects, and an operator logging in to four unused accounts of four subjects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from accountwatch.synthetic.plants.overlay import OverlayFiles

FILE_NAME = "hoarding-cases.csv"
# The day (from the start) the aged accounts are taken over: after 90 days of engagement, before the dormancy check
# of six months could see them as dormant.
TAKEOVER_DAY = 120


@dataclass(frozen=True)
class HoardingCases:
    """What the hoarding plant wrote: the hoarded accounts and the look-alike accounts."""

    planted: frozenset[str]
    look_alikes: frozenset[str]


class _Holder:
    """Writes one holder's accounts and their use."""

    def __init__(self, files: OverlayFiles, start: date, end: date) -> None:
        self.files, self.start, self.end = files, start, end
        self.serial = 0

    def accounts(
        self,
        subject: str,
        subject_type: str,
        count: int,
        operator: str,
        publishing: bool,
        from_day: date | None = None,
    ) -> list[str]:
        """`count` accounts of `subject` that `operator` uses from the first days of the period (or `from_day`)."""
        made = []
        for _ in range(count):
            self.serial += 1
            account = f"pa_hoard_{self.serial:04d}"
            registered = f"{(self.start - timedelta(days=300 + 7 * self.serial)).isoformat()} 11:00:00"
            self.files.account(
                self.start,
                {
                    "account_id": account,
                    "account_type": "public",
                    "subject_id": subject,
                    "subject_type": subject_type,
                    "account_name": f"quiet corner {self.serial:04d}",
                    "registered_at": registered,
                    "registration_ip": f"10.{120 + self.serial // 250}.{self.serial % 250}.9",
                    "device_id": f"reg-{account}",
                    "phone": f"1378{self.serial:07d}",
                    "content_category": "lifestyle",
                    "status": "active",
                    "updated_at": registered,
                },
            )
            day = (from_day or self.start) + timedelta(days=self.serial % (3 if from_day else 7))
            while day <= self.end:
                # Weekly logins keep a hoarded account from going dormant; publishing accounts publish every visit.
                self.files.use(account, operator, day, f"dev-{operator}", "10.120.250.7", publish=publishing)
                day += timedelta(days=7 if not publishing else 3)
            made.append(account)
        return made


def plant_hoarding(landing: Path, start: date, days: int, copies: int) -> HoardingCases:
    """Write `copies` hoarders and look-alikes into `landing`; return what a detector should and must not flag."""
    files = OverlayFiles("hoard")
    holder = _Holder(files, start, start + timedelta(days=days - 1))
    planted: set[str] = set()
    look_alikes: set[str] = set()
    for copy in range(copies):
        planted.update(holder.accounts(f"s_hoard_{copy:03d}", "media", 6, f"op_hoard_{copy:03d}", False))
        look_alikes.update(holder.accounts(f"s_hoard_{copy:03d}_few", "media", 4, f"op_few_{copy:03d}", False))
        look_alikes.update(holder.accounts(f"s_hoard_{copy:03d}_gov", "government", 8, f"op_gov_{copy:03d}", True))
        agency = f"op_agency_hoard_{copy:03d}"
        for client in range(6):
            look_alikes.update(holder.accounts(f"s_hoard_{copy:03d}_client{client}", "enterprise", 1, agency, True))
    # Added after the first cases, so those keep their ids and dates.
    taken_over_on = start + timedelta(days=max(0, min(TAKEOVER_DAY, days - 10)))
    for copy in range(copies):
        for index in range(5):
            subject = f"s_spread_{copy:03d}_{index}"
            planted.update(holder.accounts(subject, "individual", 1, f"op_spread_{copy:03d}", False))
        for index in range(4):
            subject = f"s_spread_few_{copy:03d}_{index}"
            look_alikes.update(holder.accounts(subject, "individual", 1, f"op_spread_few_{copy:03d}", False))
        for index in range(5):
            subject = f"s_aged_{copy:03d}_{index}"
            buyer = f"op_aged_buyer_{copy:03d}"
            planted.update(holder.accounts(subject, "individual", 1, buyer, True, from_day=taken_over_on))
    files.write(landing, FILE_NAME)
    return HoardingCases(frozenset(planted), frozenset(look_alikes))
