"""Planted quota_overrun cases: subjects over, at and back under their limit of accounts."""

from __future__ import annotations

import numpy as np

from accountwatch.jobs.core.config import Settings
from accountwatch.synthetic.common import CLOSED
from accountwatch.synthetic.world import Accounts, PublicPlan

QUOTA_LIMITS = Settings().quota_limits


def plan_quota_scenarios(rng: np.random.Generator, plan: PublicPlan, days: int, full: bool) -> None:
    """Subjects over and at their quota; accounts beyond the limit are derived later from registration order."""

    def pre_day() -> int:
        return int(rng.integers(-1095, -30))

    def during_day() -> int:
        return int(rng.integers(5, days - 10))

    def second() -> int:
        return int(rng.integers(8 * 3600, 20 * 3600))

    def subject_with(name: str, subject_type: str, reg_days: list[int], *, tie_last_two: bool = False) -> int:
        subject = plan.add_subject(subject_type)
        seconds = [second() for _ in reg_days]
        if tie_last_two:
            reg_days[-1] = reg_days[-2]
            seconds[-1] = seconds[-2]
        plan.scenario[name] = [
            plan.add(subject, reg_day, reg_sec, "quota", days=days)
            for reg_day, reg_sec in zip(reg_days, seconds, strict=True)
        ]
        return subject

    subject_with("over_individual_before_start", "individual", [pre_day() for _ in range(3)])
    subject_with("over_individual_tie", "individual", [pre_day(), during_day(), during_day()], tie_last_two=True)
    if full:
        subject_with(
            "over_individual_during",
            "individual",
            [pre_day(), pre_day(), *sorted(rng.choice(np.arange(5, days - 10), size=2, replace=False).tolist())],
        )
        subject_with("over_individual_four_before_start", "individual", [pre_day() for _ in range(4)])
        subject_with("over_enterprise", "enterprise", [pre_day() for _ in range(6)] + [during_day()])
        subject_with("over_other", "other", [pre_day(), during_day(), during_day()])
        subject_with("at_limit_enterprise", "enterprise", [pre_day() for _ in range(3)] + [during_day(), during_day()])
    else:
        subject_with("at_limit_individual", "individual", [pre_day(), pre_day()])

    # At its limit, closes one account and registers a replacement a day or more later: never over quota.
    subject = plan.add_subject("individual")
    close_day = int(rng.integers(10, max(11, days - 40)))
    close_sec = int(rng.integers(9 * 3600, 12 * 3600))
    closing = plan.add(subject, pre_day(), second(), "quota", days=days, changes=[(close_day, CLOSED, close_sec)])
    kept = plan.add(subject, pre_day(), second(), "quota", days=days)
    replacement_day = close_day + int(rng.integers(1, 15))
    replacement = plan.add(subject, replacement_day, second(), "quota", days=days)
    plan.scenario["closes_then_replaces_individual"] = [closing, kept, replacement]

    # Four accounts, two closed before start: the live ones fit the limit.
    subject = plan.add_subject("individual")
    closed = [
        plan.add(subject, pre_day(), second(), "quota", days=days, snapshot_status=CLOSED, use=(1, 0)) for _ in range(2)
    ]
    live = [plan.add(subject, pre_day(), second(), "quota", days=days) for _ in range(2)]
    plan.scenario["fits_after_closures_individual"] = closed + live


def planted_quota(plan: PublicPlan, accounts: Accounts) -> frozenset[str]:
    """Accounts past their subject's limit in registration order, for the subjects built to go over."""
    planted: set[str] = set()
    for name, members in plan.scenario.items():
        if not name.startswith("over_"):
            continue
        limit = QUOTA_LIMITS[plan.subject_type[plan.subject[members[0]]]]
        ordered = sorted(
            members, key=lambda index: (int(accounts.reg_local_sec[index]), str(accounts.account_id[index]))
        )
        planted.update(str(accounts.account_id[index]) for index in ordered[limit:])
    return frozenset(planted)
