"""Planted closed_name_reregistration cases, their near misses and the common names no closed account reserves."""

from __future__ import annotations

import numpy as np

from accountwatch.synthetic.common import CLOSED
from accountwatch.synthetic.world import Plants, PublicPlan

CLOSED_NAME_BASE = "Riverside Civic Herald"
# A closed brand whose name two other subjects take again (spaced; one character in its traditional form), and
# a closed personal handle its own subject takes again with a counter: all to be flagged.
CLOSED_BRAND = ("澜沧江文旅集团", ("澜沧江 文旅集团", "澜沧江文旅集團"))
SAME_SUBJECT_RETURN = ("haoran", "haoran88")
# Closed accounts' common names, the names strangers register with later, and the names of live accounts of
# other subjects that bore them already. Never to be flagged: the handles taken with a counter, and the names
# two or more other subjects' live accounts bear.
COMMON_NAMES = (
    ("qiwei", ("qiwei405",), ("Qi Wei", "qiwei_88")),
    ("hongjie", ("hongjie735",), ()),
    ("yuwei", ("yumei622", "yufei931"), ()),
    ("张伟", ("张伟",), ("张伟", "张伟 1")),
    ("Chen Jing", ("Chen Jing",), ("chenjing", "Chen Jin")),
)


def plan_closed_names(rng: np.random.Generator, plan: PublicPlan, days: int) -> None:
    """A closed account whose name three new accounts of other subjects take: exactly (after folding case and
    width), one edit away (both to be flagged) and two edits away (never); then the names of _plan_taken_names."""
    source = plan.add(
        plan.add_subject("individual"),
        int(rng.integers(-1095, -30)),
        int(rng.integers(8 * 3600, 20 * 3600)),
        "closed_name_source",
        days=days,
        snapshot_status=CLOSED,
        use=(1, 0),
    )
    lookalikes = [
        plan.add(
            plan.add_subject("individual"),
            int(rng.integers(1, days - 1)),
            int(rng.integers(8 * 3600, 20 * 3600)),
            role,
            days=days,
        )
        for role in ("closed_name_exact", "closed_name_near", "closed_name_far")
    ]
    plan.scenario["closed_name"] = [source, *lookalikes]
    _plan_taken_names(rng, plan, days)


def _plan_taken_names(rng: np.random.Generator, plan: PublicPlan, days: int) -> None:
    """Closed accounts whose names new accounts take: a brand by strangers and a handle by its own subject (to
    be flagged), and common names by strangers (never), with the live namesakes that make some of them common.

    Each account but a returning subject's has a subject of its own; the closed accounts and the namesakes
    were registered before the period, the new accounts during it.
    """

    def closed(subject_type: str, name: str) -> int:
        subject = plan.add_subject(subject_type)
        index = plan.add(
            subject,
            int(rng.integers(-1095, -30)),
            int(rng.integers(8 * 3600, 20 * 3600)),
            "closed_name_source",
            days=days,
            snapshot_status=CLOSED,
            use=(1, 0),
        )
        plan.names[index] = name
        return index

    def new(role: str, name: str, subject: int | None = None) -> int:
        owner = plan.add_subject("individual") if subject is None else subject
        index = plan.add(owner, int(rng.integers(1, days - 1)), int(rng.integers(8 * 3600, 20 * 3600)), role, days=days)
        plan.names[index] = name
        return index

    brand, taken = CLOSED_BRAND
    closed("enterprise", brand)
    reregistered = [new("closed_name_taken", name, plan.add_subject("enterprise")) for name in taken]
    handle, again = SAME_SUBJECT_RETURN
    reregistered.append(new("closed_name_returned", again, plan.subject[closed("individual", handle)]))
    collisions = []
    for name, strangers, namesakes in COMMON_NAMES:
        closed("individual", name)
        for namesake in namesakes:
            index = plan.add(
                plan.add_subject("individual"),
                int(rng.integers(-1095, -1)),
                int(rng.integers(8 * 3600, 20 * 3600)),
                "namesake",
                days=days,
            )
            plan.names[index] = namesake
        collisions += [new("common_name", stranger) for stranger in strangers]
    plan.scenario["closed_name_taken"] = reregistered
    plan.scenario["common_name"] = collisions


def _edits_within_one(a: str, b: str) -> bool:
    """Whether two strings are at most one insertion, deletion or substitution apart."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i + (len(a) == len(b)) :] == b[i + 1 :] if i < len(b) else True


def settle_public_names(names: np.ndarray, plan: PublicPlan, plants: Plants) -> None:
    """Name the closed-name look-alikes, and keep the names of closed and follower-buying accounts two edits or
    more from every new account's name, so only the planted look-alikes match.

    Runs on the final names (burst members' included); the closed and buying accounts are the ones renamed.
    """
    from accountwatch.jobs.detectors.barred import normalise_name

    planted: set[int] = set(plan.names)
    for index, name in plan.names.items():
        names[index] = name
    if "closed_name" in plan.scenario:
        source, exact, near, far = plan.scenario["closed_name"]
        names[source] = CLOSED_NAME_BASE
        full_width = {code - 0xFEE0: code for code in range(0xFF01, 0xFF5F)}
        names[exact] = CLOSED_NAME_BASE.upper().translate(full_width) + " 2"
        names[near] = CLOSED_NAME_BASE[:-1] + "t"
        names[far] = CLOSED_NAME_BASE + "ry"
        planted |= {source, exact, near}
    barred = {
        index
        for index in range(len(plan.subject))
        if plan.snapshot_status[index] == CLOSED or any(status == CLOSED for _, status, _ in plan.changes[index])
    }
    barred |= {buyer for buyer, _, _, _ in plants.purchases}
    fresh = [(index, normalise_name(names[index])) for index in range(len(plan.subject)) if plan.reg_day[index] >= 0]
    for index in sorted(barred - planted):
        while any(
            other != index and name and _edits_within_one(normalise_name(names[index]), name) for other, name in fresh
        ):
            names[index] = f"{names[index]}·旧号"
