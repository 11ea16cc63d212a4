"""Seeded synthetic platform: writes landing files with planted anomalies and the truth about them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from accountwatch.jobs.planted_truth import PlantedTruth
from accountwatch.schemas.landing import ACCOUNTS, ENGAGEMENT, SUBSCRIPTIONS
from accountwatch.synthetic.bad_rows import (
    ACCOUNT_BAD_VARIANTS,
    EVENT_BAD_VARIANTS,
    REUSE_DAYS_BACK,
    bad_account_rows,
    bad_event_row,
    insert_rows,
    plan_event_bad_rows,
)
from accountwatch.synthetic.common import ACTIVE, NEVER, unique_ids
from accountwatch.synthetic.plants.account_hoarding import plant_hoarding
from accountwatch.synthetic.plants.aged_stock import plant_aged_stock
from accountwatch.synthetic.plants.batch_registration import StemPool, plan_public_registrations
from accountwatch.synthetic.plants.blacklisted_subject_registration import plan_blacklisted_subject
from accountwatch.synthetic.plants.closed_name_reregistration import plan_closed_names
from accountwatch.synthetic.plants.fake_engagement import plant_engagement
from accountwatch.synthetic.plants.fake_follower_spike import plan_bought_followers
from accountwatch.synthetic.plants.lookalikes import plan_viral_days, weekly_swing, young_growth
from accountwatch.synthetic.plants.quota_overrun import plan_quota_scenarios
from accountwatch.synthetic.plants.unapproved_transfer import plant_transfers
from accountwatch.synthetic.population import build_accounts, plan_regular_public, plan_users, status_matrix, use_matrix
from accountwatch.synthetic.sizes import PlatformSize, SyntheticPlatformError, validate
from accountwatch.synthetic.traffic import FOLLOW_SHARE, SUBSCRIPTION_SHARE, EventFactory, day_weights
from accountwatch.synthetic.truth import planted_truth, write_truth
from accountwatch.synthetic.world import Plants, PublicPlan, Rows, World
from accountwatch.synthetic.write import account_rows, event_rows, write_day_files

LATE_SHARE = 0.005
MAX_LATE_DAYS = 3


# Long: the generator's draws in the one order that keeps a seed's files identical; split, the order would hide.
def _build_world(
    rng: np.random.Generator, size: PlatformSize, start: date, time_zone: str, extra_accounts: int
) -> tuple[World, PublicPlan]:
    end = start + timedelta(days=size.days - 1)
    days = size.days
    plan = PublicPlan()
    plants = Plants()
    stems = StemPool(rng)
    plan_quota_scenarios(rng, plan, days, full=size.public_accounts >= 120)
    plan_regular_public(rng, plan, size, start, end)
    plan_public_registrations(rng, plan, size, stems, plants)
    plan_blacklisted_subject(rng, plan, size, stems, plants)
    plan_closed_names(rng, plan, days)
    n_public = len(plan.subject)
    users, user_snapshot, user_changes = plan_users(rng, size, n_public, plants)

    # Operators belong to a subject and may run several of its accounts.
    operators_per_subject = rng.integers(1, 4, size=len(plan.subject_type))
    subject_operator_start = np.concatenate([[0], np.cumsum(operators_per_subject)[:-1]])
    operator_ids = unique_ids(rng, "op_", 7, int(operators_per_subject.sum()))
    subject_index = np.array(plan.subject)

    status = status_matrix(plan, days)
    use = use_matrix(rng, plan, status)
    logins = (use * (1 + rng.poisson(0.4, size=use.shape))).astype(np.int64)
    publishes = (use * rng.poisson(0.6, size=use.shape)).astype(np.int64)
    react_day = np.full(n_public, -1)
    react_sec = np.zeros(n_public, dtype=np.int64)
    for index, changes in enumerate(plan.changes):
        for day, new_status, second in changes:
            if new_status == ACTIVE:
                react_day[index], react_sec[index] = day, second
    dormant_after = np.array(
        [plan.last_use[i] if plan.role[i] == "dormant" else NEVER for i in range(n_public)], dtype=np.int64
    )
    audience_total = max(size.events - int(logins.sum() + publishes.sum()), 0)
    subscription_total = int(audience_total * SUBSCRIPTION_SHARE)
    audience_total -= subscription_total

    popularity = rng.lognormal(0.0, 1.6, size=n_public)
    young, ramp = young_growth(rng, plan, popularity, days)
    swing, weekday_factor = weekly_swing(rng, popularity, young, start, days)
    day_index = np.arange(days)
    reg_day = np.array(plan.reg_day)
    alive = status == ACTIVE
    alive[:, 1:] &= status[:, :-1] == ACTIVE
    alive &= reg_day[:, None] < day_index[None, :]
    # Audiences keep reading a dormant account, just less.
    fading = np.where(dormant_after[:, None] < day_index[None, :], 0.3, 1.0)
    base_weight = popularity[:, None] * fading * alive * ramp
    account_weight = base_weight * weekday_factor
    base_total, weight_total = base_weight.sum(axis=0), account_weight.sum(axis=0)
    volume = np.divide(weight_total, base_total, out=np.ones(days), where=base_total > 0)
    audience_per_day = np.round(rng.multinomial(audience_total, day_weights(rng, start, days)) * volume)
    follows_per_day = np.round(rng.multinomial(subscription_total, day_weights(rng, start, days)) * volume)
    share = np.divide(account_weight, weight_total, out=np.zeros_like(account_weight), where=weight_total > 0).T
    expected_follows = share * (FOLLOW_SHARE * follows_per_day)[:, None]

    swinging = set(swing.tolist())
    normal = np.array([i for i in range(n_public) if plan.role[i] == "normal" and i not in swinging], dtype=int)
    # Viral accounts come from the better-read ordinary accounts, so a five-fold rise in reads is plain to see.
    by_popularity = normal[np.argsort(-popularity[normal], kind="stable")]
    viral_pool = by_popularity[: max(1, int(0.4 * by_popularity.size))]
    plants.viral = plan_viral_days(rng, viral_pool, expected_follows, share * audience_per_day[:, None], size)
    viral_accounts = {viral.account for viral in plants.viral}
    buyer_pool = np.array([i for i in normal.tolist() if i not in viral_accounts], dtype=int)
    plan_bought_followers(rng, size, buyer_pool, expected_follows, stems, plants)

    accounts = build_accounts(rng, plan, users, user_snapshot, user_changes, plants, start, extra_accounts)
    in_order = np.lexsort((plants.bought["second"], plants.bought["day"]))
    plants.bought = {name: values[in_order] for name, values in plants.bought.items()}
    farm_first_user = np.array([burst.members[0] if burst.members.size else -1 for burst in plants.bursts], dtype=int)
    bought_user = farm_first_user[plants.bought["farm"]] + plants.bought["member"]
    world = World(
        size=size,
        start=start,
        time_zone=time_zone,
        accounts=accounts,
        users=users,
        n_public=n_public,
        first_extra=accounts.account_id.size - extra_accounts,
        operator_start=subject_operator_start[subject_index],
        operator_count=operators_per_subject[subject_index],
        operator_ids=operator_ids,
        status=status,
        logins=logins,
        publishes=publishes,
        reg_day=reg_day,
        reg_sec=np.array(plan.reg_sec, dtype=np.int64),
        react_day=react_day,
        react_sec=react_sec,
        account_weight=np.ascontiguousarray(account_weight.T),
        audience_per_day=audience_per_day.astype(np.int64),
        follows_per_day=follows_per_day.astype(np.int64),
        plants=plants,
        bought_user=bought_user,
    )
    return world, plan


def _check_landing_is_empty(landing: Path) -> None:
    for table in (ACCOUNTS, SUBSCRIPTIONS, ENGAGEMENT):
        folder = landing / table.name
        if folder.exists() and any(folder.iterdir()):
            raise SyntheticPlatformError(f"{folder} is not empty: generate the synthetic platform into an empty folder")


# Long: mostly its documented keyword arguments and the steps of one generation, each a call.
def generate_platform(
    landing: Path,
    *,
    seed: int,
    start: date,
    size: PlatformSize,
    time_zone: str = "Asia/Shanghai",
    progress: Callable[[int, int], None] | None = None,
) -> PlantedTruth:
    """Write <landing>/<table>/date=YYYY-MM-DD/ files for every day of the period; return (and save) the truth."""
    validate(size)
    landing = Path(landing)
    _check_landing_is_empty(landing)
    world_rng = np.random.default_rng(np.random.SeedSequence([seed, 0]))
    copies = max(1, min(5, size.events // 400_000))
    snapshot_estimate = int(0.8 * size.users + 0.7 * size.public_accounts)
    account_bad_count = min(len(ACCOUNT_BAD_VARIANTS) * copies, snapshot_estimate // 120)
    world, plan = _build_world(world_rng, size, start, time_zone, account_bad_count)

    use_per_day = world.logins.sum(axis=0) + world.publishes.sum(axis=0)
    expected_rows = {
        "engagement": world.audience_per_day + use_per_day,
        "subscriptions": world.follows_per_day,
    }
    planned_bad = plan_event_bad_rows(world_rng, expected_rows, copies)
    bad_counts = {reason: 0 for reason in sorted({variant[1] for variant in EVENT_BAD_VARIANTS})}
    bad_counts |= {reason: 0 for reason, _ in ACCOUNT_BAD_VARIANTS}

    factory = EventFactory(world)
    pending: dict[int, list[tuple[str, Rows]]] = {}
    earlier_ids: dict[tuple[str, int], list[str]] = {}
    for day in range(size.days):
        rng = np.random.default_rng(np.random.SeedSequence([seed, 1, day]))
        folder_date = start + timedelta(days=day)
        delivered = np.flatnonzero(world.accounts.row_day == day)
        if delivered.size:
            accounts = world.accounts
            rows = account_rows(
                rng,
                world,
                accounts.row_account[delivered],
                accounts.row_status[delivered],
                accounts.row_updated[delivered],
            )
            if day == 0:
                bad_accounts = bad_account_rows(rng, world, account_bad_count)
                for reason, _ in bad_accounts:
                    bad_counts[reason] += 1
                rows = insert_rows(rng, rows, [row for _, row in bad_accounts])
            write_day_files(rng, landing, ACCOUNTS, folder_date, rows)

        engagement, subscriptions = factory.day(rng, day)
        for table, events in ((ENGAGEMENT, engagement), (SUBSCRIPTIONS, subscriptions)):
            lag = np.where(rng.random(len(events)) < LATE_SHARE, rng.integers(1, MAX_LATE_DAYS + 1, len(events)), 0)
            lag[~events.columns["may_be_late"] | (day + lag > size.days - 1)] = 0
            for late_by in np.unique(lag[lag > 0]).tolist():
                pending.setdefault(day + late_by, []).append((table.name, events.take(lag == late_by)))
            arrived_late = [part for name, part in pending.get(day, []) if name == table.name]
            rows = event_rows(rng, world, table, Rows.concat([events.take(lag == 0), *arrived_late]), day)
            extra = []
            planned = planned_bad.get((table.name, day))
            if planned is not None:
                bad = bad_event_row(rng, world, factory, rows, table.name, day, *planned, earlier_ids)
                if bad is not None:
                    extra.append(bad)
                    bad_counts[planned[0]] += 1
            # Keep a few clean on-time ids for later days' reused-id rows.
            reusable = np.flatnonzero(rows.columns["_template"])
            if reusable.size:
                picks = rng.choice(reusable, size=min(3, reusable.size), replace=False)
                earlier_ids[(table.name, day)] = [str(event_id) for event_id in rows.columns["event_id"][picks]]
                rows.columns["_template"][picks] = False
            write_day_files(rng, landing, table, folder_date, insert_rows(rng, rows, extra))
        pending.pop(day, None)
        earlier_ids = {key: ids for key, ids in earlier_ids.items() if day - key[1] < REUSE_DAYS_BACK}
        if progress is not None:
            progress(day + 1, size.days)

    # Its own random stream, drawn last: the other plants' files stay what they were for the seed.
    transfer_rng = np.random.default_rng(np.random.SeedSequence([seed, 7]))
    plant_copies = max(1, size.public_accounts // 300)
    transfers = plant_transfers(transfer_rng, landing, start, size.days, plant_copies)
    hoarding = plant_hoarding(landing, start, size.days, plant_copies)
    engagement_cases = plant_engagement(transfer_rng, landing, start, size.days, plant_copies)
    aged_stock = plant_aged_stock(landing, start, size.days, plant_copies)
    bad_counts["duplicate_application_id"] = transfers.duplicate_applications
    truth = replace(
        planted_truth(world, plan, seed, bad_counts),
        aged_stock=aged_stock.planted,
        aged_stock_look_alikes=aged_stock.look_alikes,
        unapproved_transfer=transfers.planted,
        transfer_look_alikes=transfers.look_alikes,
        account_hoarding=hoarding.planted,
        hoarding_look_alikes=hoarding.look_alikes,
        fake_engagement=engagement_cases.planted,
        engagement_look_alikes=engagement_cases.look_alikes,
        engagement_drip=list(engagement_cases.drips),
    )
    write_truth(landing, truth)
    return truth
