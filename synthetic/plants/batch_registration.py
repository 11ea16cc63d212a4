"""Planted batch_registration cases: bursts of sign-ups sharing keys, and public accounts registered in a batch."""

from __future__ import annotations

import numpy as np

from accountwatch.synthetic.common import SECONDS_PER_DAY
from accountwatch.synthetic.identity import (
    CITIES,
    PHONE_PREFIXES,
    SUFFIXES,
    TOPICS,
    contact_columns,
    public_name,
    random_devices,
    random_ipv4,
    user_name,
)
from accountwatch.synthetic.sizes import PlatformSize
from accountwatch.synthetic.world import Burst, Plants, PublicPlan

# Bought followers, viral days and registration bursts.
KEY_TYPES = ("ip", "ip_prefix", "device", "phone_block", "name_pattern")
MAX_BURST_SECONDS = 3600
STEM_HEADS = ["lucky", "sunny", "happy", "super", "little", "golden", "cool", "daily", "magic", "lazy"]
STEM_TAILS = ["cat", "shop", "star", "fan", "deal", "panda", "bee", "fox", "mango", "wave"]
CHINESE_STEM_HEADS = ["阳光", "快乐", "幸运", "甜心", "小鹿", "星星", "好物", "每日", "开心", "柠檬"]
CHINESE_STEM_TAILS = ["小店", "推荐", "星球", "优选", "铺子", "生活", "宝贝", "工坊"]
PLAIN_STEMS = ["user", "member", "vip", "guest"]


class StemPool:
    """Name stems for planted name patterns (`lucky_cat_017`, `阳光小店23`, `user-0042`), one burst each."""

    def __init__(self, rng: np.random.Generator) -> None:
        latin = [f"{head}_{tail}" for head in STEM_HEADS for tail in STEM_TAILS]
        chinese = [f"{head}{tail}" for head in CHINESE_STEM_HEADS for tail in CHINESE_STEM_TAILS]
        stems = latin + chinese + PLAIN_STEMS
        self.stems = [stems[index] for index in rng.permutation(len(stems)).tolist()]

    def names(self, rng: np.random.Generator, count: int) -> np.ndarray:
        """`count` names of one new stem with a rising counter that now and then skips a number."""
        stem = self.stems.pop()
        first = int(rng.integers(1, 300))
        counters = (first + np.cumsum(1 + (rng.random(count) < 0.1)) - 1).tolist()
        if stem in PLAIN_STEMS:
            names = [f"{stem}-{counter:04d}" for counter in counters]
        elif stem.isascii():
            names = [f"{stem}_{counter:03d}" for counter in counters]
        else:
            names = [f"{stem}{counter}" for counter in counters]
        return np.array(names, dtype=object)


def pick_shared_keys(rng: np.random.Generator) -> tuple[str, ...]:
    """One to three keys every member shares, plus `device` when the members take turns on a few devices."""
    network = "ip" if rng.random() < 0.5 else "ip_prefix"
    pool = [network, "phone_block", "name_pattern"]
    count = int(rng.choice([1, 2, 3], p=[0.3, 0.45, 0.25]))
    keys = [pool[index] for index in sorted(rng.choice(len(pool), size=count, replace=False).tolist())]
    if rng.random() < 0.6:
        keys.append("device")
    return tuple(sorted(keys, key=KEY_TYPES.index))


def burst_seconds(rng: np.random.Generator, count: int, max_span: int = MAX_BURST_SECONDS) -> np.ndarray:
    """Registration seconds of a burst: spread at random inside a span of 2 minutes to `max_span`, one day."""
    span = int(rng.integers(120, max_span + 1))
    first = int(rng.integers(3600, SECONDS_PER_DAY - span - 3600))
    return np.sort(first + rng.integers(0, span + 1, size=count))


def burst_columns(
    rng: np.random.Generator, count: int, keys: tuple[str, ...], stems: StemPool, *, public: bool
) -> dict[str, np.ndarray]:
    """Registration columns of a burst's members in registration order: shared where `keys` say, else ordinary."""
    ips, devices, phones = contact_columns(rng, count)
    names = np.array([public_name(rng) if public else user_name(rng) for _ in range(count)], dtype=object)
    if "ip" in keys:
        ips[:] = random_ipv4(rng)
    if "ip_prefix" in keys:
        network = random_ipv4(rng).rsplit(".", 1)[0]
        ips[:] = [f"{network}.{octet}" for octet in rng.integers(1, 255, size=count).tolist()]
    if "device" in keys:
        shared = random_devices(rng, int(rng.integers(1, 7)))
        devices[:] = shared[np.arange(count) % shared.size]
    if "phone_block" in keys:
        block = f"{rng.choice(PHONE_PREFIXES)}{int(rng.integers(0, 100_000)):05d}"
        endings = rng.choice(10_000, size=count, replace=False).tolist()
        plus = (rng.random(count) < 0.4).tolist()
        phones[:] = [
            f"{'+86' if with_plus else ''}{block}{ending:04d}" for ending, with_plus in zip(endings, plus, strict=True)
        ]
    if "name_pattern" in keys:
        names = stems.names(rng, count)
    return {"registration_ip": ips, "device_id": devices, "phone": phones, "account_name": names}


def plan_public_registrations(
    rng: np.random.Generator, plan: PublicPlan, size: PlatformSize, stems: StemPool, plants: Plants
) -> None:
    """Batches of public accounts registered in a burst, and an enterprise office and a media group that are not."""
    days = size.days
    batches = 1 if size.public_accounts < 120 else (2 if size.public_accounts >= 600 else int(rng.integers(1, 3)))
    for number in range(batches):
        count = int(rng.integers(10, 15)) if size.public_accounts < 120 else int(rng.integers(10, 31))
        reg_day = int(rng.integers(1, days))
        seconds = burst_seconds(rng, count)
        keys = pick_shared_keys(rng)
        # Each account has a subject of its own, so the batch never touches a quota.
        members = [
            plan.add(plan.add_subject("individual"), reg_day, second, "batch_public", days=days)
            for second in seconds.tolist()
        ]
        columns = burst_columns(rng, count, keys, stems, public=True)
        burst = Burst(f"public_batch_{number + 1}", "public_batch", keys, reg_day, seconds, columns, np.array(members))
        plants.bursts.append(burst)
        plants.overrides.append((burst.members, columns))

    subject = plan.add_subject("enterprise")
    reg_day = int(rng.integers(1, days))
    first = int(rng.integers(9 * 3600, 17 * 3600))
    seconds = np.sort(first + rng.integers(0, 3600, size=3))
    office = np.array([plan.add(subject, reg_day, second, "office", days=days) for second in seconds.tolist()])
    plants.negatives["enterprise_office"] = office
    plants.overrides.append((office, {"registration_ip": np.full(office.size, random_ipv4(rng), dtype=object)}))

    # A new account every six days or more, so any two are at least five full days apart whatever the hour.
    count = int(rng.integers(5, 9))
    gaps = rng.integers(6, 15, size=count - 1)
    if int(gaps.sum()) > days - 2:
        count = min(count, (days - 2) // 6 + 1)
        gaps = np.full(count - 1, 6)
    if count >= 2:
        subject = plan.add_subject("media")
        first_day = int(rng.integers(1, days - int(gaps.sum())))
        reg_days = first_day + np.concatenate([[0], np.cumsum(gaps)])
        media = np.array(
            [
                plan.add(subject, reg_day, int(rng.integers(9 * 3600, 18 * 3600)), "media_group", days=days)
                for reg_day in reg_days.tolist()
            ]
        )
        stem = f"{rng.choice(CITIES)}{rng.choice(TOPICS)}{rng.choice(SUFFIXES)}"
        columns = {
            "registration_ip": np.full(count, random_ipv4(rng), dtype=object),
            "account_name": np.array([f"{stem} {number}" for number in range(1, count + 1)], dtype=object),
        }
        plants.negatives["media_group"] = media
        plants.overrides.append((media, columns))


PUBLIC_BURSTS = ("public_batch", "subject_batch")
