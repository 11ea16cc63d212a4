"""Planted registration bursts: members share their listed keys within an hour."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

from tests.synthetic.landed import PLATFORM_ZONE, START, first_rows, instant, latest_accounts, use_days

NAME_WITH_COUNTER = re.compile(r"^(.*?[^0-9])[\s_\-#.]*([0-9]{1,8})$")


def _shares_key(rows: list[dict], key: str) -> bool:
    if key == "ip":
        return len({row["registration_ip"] for row in rows}) == 1 and rows[0]["registration_ip"] is not None
    if key == "ip_prefix":
        ips = [row["registration_ip"] or "" for row in rows]
        return all(ip.count(".") == 3 for ip in ips) and len({ip.rsplit(".", 1)[0] for ip in ips}) == 1
    if key == "device":
        devices = [row["device_id"] for row in rows]
        return None not in devices and len(set(devices)) <= 6
    if key == "phone_block":
        phones = [row["phone"] for row in rows]
        return None not in phones and len({phone.removeprefix("+86")[:7] for phone in phones}) == 1
    matches = [NAME_WITH_COUNTER.match(row["account_name"]) for row in rows]
    return all(matches) and len({match.group(1).rstrip("_- ") for match in matches if match}) == 1


def test_every_planted_burst_shares_its_listed_keys_within_sixty_minutes(tiny):
    first = first_rows(tiny)
    kinds = {cluster["kind"] for cluster in tiny.truth.batch_clusters}
    assert kinds == {"farm", "idle_farm", "public_batch", "subject_batch"}
    for cluster in tiny.truth.batch_clusters:
        rows = [first[member] for member in cluster["members"]]
        registered = sorted(instant(row["registered_at"]) for row in rows)
        assert len(rows) >= 10
        assert registered[-1] - registered[0] <= timedelta(minutes=60)
        assert (
            registered[0].astimezone(PLATFORM_ZONE).replace(tzinfo=None).isoformat() == cluster["first_registered_at"]
        )
        assert (
            registered[-1].astimezone(PLATFORM_ZONE).replace(tzinfo=None).isoformat() == cluster["last_registered_at"]
        )
        assert {row["_folder"] for row in rows} == {cluster["registration_day"]} and cluster["registration_day"] > START
        assert set(cluster["shared_keys"]) - {"device"}, cluster["name"]
        for key in cluster["shared_keys"]:
            assert _shares_key(rows, key), (cluster["name"], key)


def test_batch_registration_truth_lists_every_burst_member(tiny):
    truth = tiny.truth
    assert truth.batch_registration == {member for cluster in truth.batch_clusters for member in cluster["members"]}
    assert truth.batch_registration_days() == {
        member: cluster["registration_day"] for cluster in truth.batch_clusters for member in cluster["members"]
    }


def test_batch_registered_public_accounts_have_subjects_of_their_own_and_are_used(tiny):
    latest = latest_accounts(tiny)
    uses = use_days(tiny)
    subjects = Counter(row["subject_id"] for row in latest.values() if row["account_type"] == "public")
    batches = [cluster for cluster in tiny.truth.batch_clusters if cluster["kind"] == "public_batch"]
    assert batches and all(10 <= len(cluster["members"]) <= 30 for cluster in batches)
    for account_id in (member for cluster in batches for member in cluster["members"]):
        row = latest[account_id]
        assert row["account_type"] == "public" and row["subject_type"] == "individual"
        assert subjects[row["subject_id"]] == 1
        assert uses[account_id]
