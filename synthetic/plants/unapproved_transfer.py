"""Planted unapproved_transfer cases and the legitimate hand-overs that look like them.

Each case is a public account of its own, registered a year before the period, run by its own operators, written
as extra landing files after the rest of the platform (its own random stream, so the other plants' files stay
as they were): account rows, the operators' logins and publishes with their devices and addresses, and the
platform's transfer decisions.

Planted, each on its hand-over day t:
- `sold`: the subject changes with no application;
- `sold_after_rejection`: an application is rejected, the subject changes anyway;
- `taken_over`: the operators stop, a new operator from a new device and network takes over.

Look-alikes that must never be flagged:
- `approved_sale`: an approved application, then the subject changes and new operators take over;
- `rotation_overlap`: a new operator joins while the old one still works;
- `office_rotation`: the old operator leaves, a new one starts from another device in the same office network;
- `new_phone`: the same operator comes back on a new phone and from another network;
- `agency`: an agency's operator runs the account every day; the client's own staff join;
- `rebrand`: the account is renamed, same subject and operators.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from accountwatch.schemas.landing import ACCOUNTS, TRANSFERS
from accountwatch.synthetic.plants.overlay import OverlayFiles

PLANTED = ("sold", "sold_after_rejection", "taken_over")
LOOK_ALIKES = ("approved_sale", "rotation_overlap", "office_rotation", "new_phone", "agency", "rebrand")
FILE_NAME = "transfer-cases.csv"


@dataclass(frozen=True)
class TransferCases:
    """What the transfer plant wrote: the planted (account, day) pairs and the look-alike accounts."""

    planted: frozenset[tuple[str, date]]
    look_alikes: frozenset[str]
    # Rows the ingest must quarantine as `duplicate_application_id`.
    duplicate_applications: int


@dataclass(frozen=True)
class _Case:
    """One scenario's account: its ids, its office network, its hand-over day, and the rows that tell its story."""

    files: OverlayFiles
    serial: int
    copy: int
    start: date
    end: date
    handover: date

    @property
    def account(self) -> str:
        return f"pa_xfer_{self.serial:04d}"

    @property
    def office(self) -> str:
        return f"10.{80 + self.copy % 100}.{self.serial % 250}"

    def subject(self, new: bool = False) -> str:
        return f"s_xfer_{self.serial:04d}{'b' if new else ''}"

    def operator(self, new: bool = False) -> str:
        return f"op_xfer_{self.serial:04d}{'n' if new else ''}"

    def account_row(self, day: date, subject: str, renamed: bool = False) -> None:
        registered = f"{(self.start - timedelta(days=400)).isoformat()} 09:30:00"
        values = {
            "account_id": self.account,
            "account_type": "public",
            "subject_id": subject,
            "subject_type": "enterprise",
            "account_name": f"harbor notes {self.serial:04d}{' weekly' if renamed else ''}",
            "registered_at": registered,
            "registration_ip": f"{self.office}.9",
            "device_id": f"reg-{self.account}",
            "phone": f"1390{self.serial:07d}",
            "content_category": "lifestyle",
            "status": "active",
            "updated_at": registered if day == self.start else f"{day.isoformat()} 09:00:00",
        }
        self.files.add("accounts", day, [values[column] for column in ACCOUNTS.columns])

    def operate(self, actor: str, first: date, last: date, device: str, ip: str) -> None:
        day = first
        while day <= min(last, self.end):
            self.files.use(self.account, actor, day, device, ip, publish=(day - self.start).days % 3 == 0)
            day += timedelta(days=1)

    def decide(self, decision: str, days_before: int, delivered_days_before: int | None = None) -> None:
        decided = self.handover - timedelta(days=days_before)
        delivered = self.handover - timedelta(days=delivered_days_before or days_before)
        values = {
            "application_id": f"app-xfer-{self.serial:04d}",
            "account_id": self.account,
            "from_subject_id": self.subject(),
            "to_subject_id": self.subject(new=True),
            "kind": "transfer",
            "decision": decision,
            "decided_at": f"{decided.isoformat()} 16:00:00",
        }
        self.files.add("transfers", delivered, [values[column] for column in TRANSFERS.columns])


def _write_case(case: _Case, scenario: str) -> None:
    """The landing rows of one scenario's account."""
    case.account_row(case.start, case.subject())
    old_op, new_op = case.operator(), case.operator(new=True)
    stop = case.handover - timedelta(days=5)
    old_device, old_ip = f"dev-{old_op}", f"{case.office}.21"
    new_device, new_ip = f"dev-{new_op}", f"172.{16 + case.copy % 16}.{case.serial % 250}.40"
    if scenario in ("sold", "sold_after_rejection", "approved_sale"):
        case.account_row(case.handover, case.subject(new=True))
    if scenario == "rebrand":
        case.account_row(case.handover, case.subject(), renamed=True)
    if scenario == "sold_after_rejection":
        case.decide("rejected", 12)
        # The same application again two days later, now approved: a conflicting duplicate, quarantined.
        case.decide("approved", 12, delivered_days_before=10)
    if scenario == "approved_sale":
        case.decide("approved", 7)
    if scenario in ("taken_over", "approved_sale", "office_rotation", "new_phone"):
        case.operate(old_op, case.start, stop, old_device, old_ip)
    if scenario in ("taken_over", "approved_sale"):
        case.operate(new_op, case.handover, case.end, new_device, new_ip)
    elif scenario == "rotation_overlap":
        case.operate(old_op, case.start, case.handover + timedelta(days=10), old_device, old_ip)
        case.operate(new_op, case.handover, case.end, new_device, new_ip)
    elif scenario == "office_rotation":
        case.operate(new_op, case.handover, case.end, new_device, f"{case.office}.77")
    elif scenario == "new_phone":
        case.operate(old_op, case.handover, case.end, f"{old_device}-new", new_ip)
    elif scenario == "agency":
        agency = f"op_agency_{case.serial:04d}"
        case.operate(agency, case.start, case.end, f"dev-{agency}", f"{case.office}.50")
        case.operate(new_op, case.handover, case.end, new_device, new_ip)
    else:
        case.operate(old_op, case.start, case.end, old_device, old_ip)


def plant_transfers(rng: np.random.Generator, landing: Path, start: date, days: int, copies: int) -> TransferCases:
    """Write `copies` accounts of every scenario into `landing`; return what a detector should and must not flag."""
    files = OverlayFiles("xfer")
    planted: set[tuple[str, date]] = set()
    look_alikes: set[str] = set()
    end = start + timedelta(days=days - 1)
    serial = 0
    for copy in range(copies):
        for scenario in PLANTED + LOOK_ALIKES:
            serial += 1
            handover = start + timedelta(days=int(rng.integers(max(10, days // 3), max(11, days - 3))))
            case = _Case(files, serial, copy, start, end, handover)
            _write_case(case, scenario)
            if scenario in PLANTED:
                planted.add((case.account, handover))
            else:
                look_alikes.add(case.account)
    files.write(landing, FILE_NAME)
    return TransferCases(frozenset(planted), frozenset(look_alikes), duplicate_applications=copies)
