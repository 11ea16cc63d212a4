"""Planted blacklisted_subject_registration case: a subject batch-registers past its quota, then registers again."""

from __future__ import annotations

import numpy as np

from accountwatch.synthetic.plants.batch_registration import StemPool, burst_columns, burst_seconds, pick_shared_keys
from accountwatch.synthetic.sizes import PlatformSize
from accountwatch.synthetic.world import Burst, Plants, PublicPlan


def plan_blacklisted_subject(
    rng: np.random.Generator, plan: PublicPlan, size: PlatformSize, stems: StemPool, plants: Plants
) -> None:
    """A subject that batch-registers public accounts past its quota (and so is blacklisted), then registers again."""
    days = size.days
    subject = plan.add_subject("individual")
    count = int(rng.integers(10, 13))
    reg_day = int(rng.integers(5, days - 25))
    seconds = burst_seconds(rng, count)
    keys = pick_shared_keys(rng)
    members = [plan.add(subject, reg_day, second, "subject_batch", days=days) for second in seconds.tolist()]
    columns = burst_columns(rng, count, keys, stems, public=True)
    burst = Burst("subject_batch", "subject_batch", keys, reg_day, seconds, columns, np.array(members))
    plants.bursts.append(burst)
    plants.overrides.append((burst.members, columns))
    back_day = reg_day + int(rng.integers(3, 20))
    returned = plan.add(subject, back_day, int(rng.integers(8 * 3600, 20 * 3600)), "barred_return", days=days)
    plan.scenario["over_subject_batch"] = [*members, returned]
    plan.scenario["barred_return"] = [returned]
