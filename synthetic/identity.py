"""Account names, registration IPs, devices and phone numbers as ordinary sign-ups have them."""

from __future__ import annotations

import numpy as np

SUBJECT_TYPE_SHARE = {"individual": 0.6, "enterprise": 0.2, "media": 0.08, "government": 0.07, "other": 0.05}
CATEGORIES = ["news", "education", "health", "finance", "entertainment", "lifestyle"]
CITIES = ["北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "西安", "南京", "重庆", "苏州", "长沙"]
TOPICS = ["科技", "财经", "生活", "健康", "教育", "美食", "旅行", "新闻", "读书", "体育", "汽车", "育儿"]
SUFFIXES = ["日报", "周刊", "观察", "频道", "研究院", "工作室", "之声", "在线", "视界", "前沿"]
LATIN_NAMES = ["Morning Brief", "Tech Notes", "Daily Digest", "Green Kitchen", "Market Watch", "City Walker"]
SURNAMES = ["Wang", "Li", "Zhang", "Liu", "Chen", "Smith", "O'Brien"]
NICKNAMES = ["小明", "阿强", "Lily", "晴天", 'the "night" owl', "Chen, Wei", "米粒", "Tom & Jerry", "夏天的风"]
PHONE_PREFIXES = ["13", "15", "18", "17", "19"]


def public_name(rng: np.random.Generator) -> str:
    """A public account's name: mostly Chinese, sometimes Latin, with commas and quotes now and then."""
    pick = rng.random()
    city, topic, suffix = (str(rng.choice(pool)) for pool in (CITIES, TOPICS, SUFFIXES))
    latin = str(rng.choice(LATIN_NAMES))
    if pick < 0.6:
        return f"{city}{topic}{suffix}"
    if pick < 0.75:
        return f"{latin}, {city}"
    if pick < 0.85:
        return f'"{topic}"{suffix}'
    if pick < 0.95:
        return f"{latin} {int(rng.integers(1, 100))}"
    return f'{rng.choice(SURNAMES)}\'s "{latin}", {topic}'


def user_name(rng: np.random.Generator) -> str:
    """A user's name: a numbered default, a nickname or a Latin name with a number."""
    pick = rng.random()
    if pick < 0.6:
        return f"用户{int(rng.integers(100000, 1000000))}"
    if pick < 0.85:
        return str(rng.choice(NICKNAMES))
    return f"{rng.choice(SURNAMES)} {int(rng.integers(1, 1000))}"


def contact_columns(rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Registration IPs, device ids and phone numbers of `count` ordinary sign-ups, some left empty."""
    octets = rng.integers(1, 255, size=(count, 4))
    octets[:, 0] = rng.integers(1, 224, size=count)  # unicast range
    ipv6_parts = rng.integers(0, 65536, size=(count, 3))
    ips = [
        f"240e:{a:x}:{b:x}::{c:x}" if rng_pick < 0.05 else f"{o[0]}.{o[1]}.{o[2]}.{o[3]}"
        for o, (a, b, c), rng_pick in zip(octets.tolist(), ipv6_parts.tolist(), rng.random(count).tolist(), strict=True)
    ]
    devices = [f"{value:016x}" for value in rng.integers(0, 2**63, size=count).tolist()]
    prefixes = rng.choice(["13", "15", "18", "17", "19"], size=count)
    numbers = rng.integers(0, 10**9, size=count).tolist()
    plus = rng.random(count) < 0.4
    phones = [
        f"{'+86' if with_plus else ''}{prefix}{number:09d}"
        for prefix, number, with_plus in zip(prefixes.tolist(), numbers, plus.tolist(), strict=True)
    ]
    ip_array = np.array(ips, dtype=object)
    device_array = np.array(devices, dtype=object)
    phone_array = np.array(phones, dtype=object)
    # Optional columns are sometimes empty.
    ip_array[rng.random(count) < 0.05] = None
    device_array[rng.random(count) < 0.1] = None
    phone_array[rng.random(count) < 0.15] = None
    return ip_array, device_array, phone_array


def random_ipv4(rng: np.random.Generator) -> str:
    """A unicast IPv4 address."""
    first = int(rng.integers(1, 224))
    second, third, fourth = (int(value) for value in rng.integers(1, 255, size=3))
    return f"{first}.{second}.{third}.{fourth}"


def random_devices(rng: np.random.Generator, count: int) -> np.ndarray:
    """`count` random 16-hex-digit device ids."""
    return np.array([f"{value:016x}" for value in rng.integers(0, 2**63, size=count).tolist()], dtype=object)
