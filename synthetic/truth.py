"""The truth of a generated platform, from the plan and plants it was built with, and its truth.json."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np

from accountwatch.jobs.planted_truth import TRUTH_FILE, PlantedTruth
from accountwatch.synthetic.common import EPOCH, SECONDS_PER_DAY
from accountwatch.synthetic.plants.quota_overrun import planted_quota
from accountwatch.synthetic.world import PublicPlan, World
from accountwatch.synthetic.write import local_and_utc


# Long: one field of truth.json per statement, for every detector's plants and look-alikes.
def planted_truth(world: World, plan: PublicPlan, seed: int, bad_counts: dict[str, int]) -> PlantedTruth:
    """The truth of a generated world, ids sorted."""
    ids, plants, start = world.accounts.account_id, world.plants, world.start

    def day_of(offset: int) -> date:
        return start + timedelta(days=int(offset))

    dormant = [i for i in range(len(plan.subject)) if plan.role[i] == "dormant"]
    purchases = sorted(
        (
            {"account_id": str(ids[buyer]), "date": day_of(day), "follows": int(follows), "farm": farm}
            for buyer, day, farm, follows in plants.purchases
        ),
        key=lambda purchase: (purchase["date"], purchase["account_id"], purchase["farm"]),
    )
    clusters = []
    for burst in plants.bursts:
        day_start = (start - EPOCH).days * SECONDS_PER_DAY + burst.reg_day * SECONDS_PER_DAY
        local, _ = local_and_utc(day_start + burst.reg_sec[[0, -1]], world.time_zone)
        first, last = np.datetime_as_string(local.astype("datetime64[s]"), unit="s").tolist()
        clusters.append(
            {
                "name": burst.name,
                "kind": burst.kind,
                "shared_keys": list(burst.keys),
                "registration_day": day_of(burst.reg_day),
                "first_registered_at": first,
                "last_registered_at": last,
                "members": sorted(str(ids[index]) for index in burst.members.tolist()),
            }
        )
    clusters.sort(key=lambda cluster: (cluster["registration_day"], cluster["name"]))
    drip = {}
    if plants.drip is not None:
        buyer, first_day, last_day = plants.drip
        drip[str(ids[buyer])] = (day_of(first_day), day_of(last_day))
    return PlantedTruth(
        start=start,
        end=day_of(world.size.days - 1),
        seed=seed,
        dormant_account=frozenset(str(ids[i]) for i in dormant),
        quota_overrun=planted_quota(plan, world.accounts),
        bad_rows={reason: count for reason, count in bad_counts.items() if count},
        dormant_last_use={str(ids[i]): day_of(plan.last_use[i] or 0) for i in dormant},
        fake_follower_spike=frozenset((str(ids[buyer]), day_of(day)) for buyer, day, _, _ in plants.purchases),
        purchases=purchases,
        fake_follower_drip=drip,
        viral_days=frozenset((str(ids[viral.account]), day_of(viral.day)) for viral in plants.viral),
        batch_registration=frozenset(member for cluster in clusters for member in cluster["members"]),
        batch_clusters=clusters,
        batch_negatives={
            name: sorted(str(ids[index]) for index in indexes.tolist())
            for name, indexes in sorted(plants.negatives.items())
        },
        blacklisted_subject_registration=frozenset(
            (str(ids[index]), day_of(plan.reg_day[index])) for index in plan.scenario.get("barred_return", [])
        ),
        closed_name_reregistration=frozenset(
            (str(ids[index]), day_of(plan.reg_day[index]))
            for index in [*plan.scenario.get("closed_name", [])[1:3], *plan.scenario.get("closed_name_taken", [])]
        ),
        closed_name_negatives=[str(ids[index]) for index in plan.scenario.get("closed_name", [])[3:]],
        common_name_collisions=frozenset(
            (str(ids[index]), day_of(plan.reg_day[index])) for index in plan.scenario.get("common_name", [])
        ),
    )


def write_truth(landing: Path, truth: PlantedTruth) -> None:
    """Save the truth as <landing>/truth.json, beside the landing tables."""
    (landing / TRUTH_FILE).write_text(truth.to_json() + "\n", encoding="utf-8")
