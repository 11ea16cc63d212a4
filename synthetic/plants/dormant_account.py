"""Planted dormant_account cases and the silent accounts that must not be flagged."""

from __future__ import annotations

from datetime import date

import numpy as np

from accountwatch.synthetic.common import ACTIVE, CLOSED, SUSPENDED, months_before
from accountwatch.synthetic.world import PublicPlan

DORMANT_MONTHS = 6
# Dormant accounts, and silent ones that are not dormant: suspended or closed, reactivated, or registered too
# recently for six calendar months of silence.
SILENT_ROLES = ("dormant", "silent_suspended", "silent_closed", "reactivated", "young_silent")


class SilentAccounts:
    """Plans the silent accounts of a period: their roles, then each account's registration, status and use."""

    def __init__(self, start: date, end: date, days: int) -> None:
        self.days = days
        six_months_before_end = (months_before(end, DORMANT_MONTHS) - start).days
        self.last_dormant_use = six_months_before_end - 5
        # Silence that starts this early spans more than six calendar months before the end.
        self.latest_silencing = days - 1 - 190
        self.young_from = six_months_before_end + 3
        self.dormant_seen = 0

    def roles(self, public_accounts: int) -> list[str]:
        """One role per silent account, in the order of SILENT_ROLES."""
        return (
            ["dormant"] * max(2, round(0.08 * public_accounts))
            + ["silent_suspended"] * max(1, round(0.02 * public_accounts))
            + ["silent_closed"] * max(1, round(0.02 * public_accounts))
            + ["reactivated"] * max(1, round(0.015 * public_accounts))
            + (["young_silent"] * max(1, round(0.02 * public_accounts)) if self.young_from <= self.days - 1 else [])
        )

    def add(
        self, rng: np.random.Generator, plan: PublicPlan, subject: int, role: str, reg_sec: int, change_sec: int
    ) -> None:
        """Add one account of a silent `role` to the plan."""
        days = self.days
        if role == "dormant":
            # Alternate: silent since before start, and (when the period allows) last used inside it.
            before_start = self.dormant_seen % 2 == 0 or self.last_dormant_use < 0
            self.dormant_seen += 1
            if before_start:
                last_use = int(rng.integers(-400, min(-1, self.last_dormant_use) + 1))
                use: tuple[int, int] = (1, 0)
                forced: list[int] = []
            else:
                last_use = int(rng.integers(0, self.last_dormant_use + 1))
                use, forced = (0, last_use), [last_use]
            reg_day = int(rng.integers(-1095, last_use - 30))
            plan.add(subject, reg_day, reg_sec, role, days=days, use=use, forced_use=forced, last_use=last_use)
        elif role in ("silent_suspended", "silent_closed"):
            status = SUSPENDED if role == "silent_suspended" else CLOSED
            reg_day = int(rng.integers(-1095, -30))
            if self.latest_silencing >= 1 and rng.random() < 0.5:
                change_day = int(rng.integers(1, self.latest_silencing + 1))
                plan.add(
                    subject,
                    reg_day,
                    reg_sec,
                    role,
                    days=days,
                    changes=[(change_day, status, change_sec)],
                    use=(0, change_day - 1),
                )
            else:
                plan.add(subject, reg_day, reg_sec, role, days=days, snapshot_status=status, use=(1, 0))
        elif role == "reactivated":
            reg_day = int(rng.integers(-1095, -30))
            if rng.random() < 0.5 and days > 80:
                suspend_day = int(rng.integers(1, days - 60))
                react_day = suspend_day + int(rng.integers(14, 46))
                changes = [(suspend_day, SUSPENDED, change_sec), (react_day, ACTIVE, change_sec)]
                plan.add(subject, reg_day, reg_sec, role, days=days, changes=changes, forced_use=[react_day])
            else:
                react_day = int(rng.integers(1, min(days - 1, 120) + 1))
                plan.add(
                    subject,
                    reg_day,
                    reg_sec,
                    role,
                    days=days,
                    snapshot_status=SUSPENDED,
                    changes=[(react_day, ACTIVE, change_sec)],
                    forced_use=[react_day],
                )
        elif role == "young_silent":
            reg_day = int(rng.integers(self.young_from, days))
            plan.add(subject, reg_day, reg_sec, role, days=days, use=(1, 0), forced_use=[])
