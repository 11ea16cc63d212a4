from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from pyspark.sql import functions as F

from accountwatch.jobs.core.config import BatchSettings
from accountwatch.jobs.detectors.batch_registration import (
    CLUSTERS,
    DRIVER_CLUSTER_LIMIT,
    cluster_findings,
    components,
    connected_clusters,
    daily_key_counts,
    first_flag_only,
    ip_prefix,
    key_bursts,
    name_pattern,
    registration_keys,
    registration_views,
)
from accountwatch.schemas.accounts import ACCOUNT_CHANGES
from accountwatch.schemas.findings import REGISTRATION_KEYS

DAY = date(2026, 4, 14)
SETTINGS = BatchSettings()


def registration(
    account_id: str,
    registered_at: datetime,
    ip: str | None = None,
    device: str | None = None,
    phone_block: str | None = None,
    name: str | None = None,
    account_type: str = "user",
) -> tuple:
    subject = "s_" + account_id if account_type == "public" else None
    kind = "enterprise" if account_type == "public" else None
    return (
        account_id,
        account_type,
        subject,
        kind,
        name or f"{account_id} account",
        registered_at,
        ip,
        device,
        None,
        phone_block,
        None,
        "active",
        registered_at,
        registered_at.date(),
        "accounts.csv",
        1,
    )


def every(first: datetime, count: int, minutes: float) -> list[datetime]:
    return [first + timedelta(minutes=minutes * number) for number in range(count)]


def batch_findings(spark, rows, history=(), settings=SETTINGS, day=DAY):
    """The detector's chain for one run day, from account change rows to finding rows."""
    views = spark.createDataFrame(rows, ACCOUNT_CHANGES).transform(registration_views(day, day))
    keyed = registration_keys(views)
    known = spark.createDataFrame(list(history), REGISTRATION_KEYS).unionByName(daily_key_counts(keyed))
    memberships = keyed.transform(key_bursts(known, settings))
    return memberships.transform(cluster_findings(views, settings))


def flagged(findings) -> list[str]:
    return sorted(row["account_id"] for row in findings.collect())


def test_batch_flags_a_burst_sharing_an_ip_and_a_name_pattern(spark):
    times = every(datetime(2026, 4, 14, 10, 0), 30, 1)
    rows = [
        registration(f"u_{number:02d}", at, ip="61.135.9.7", name=f"lucky_cat_{number:03d}")
        for number, at in enumerate(times)
    ]
    found = batch_findings(spark, rows).collect()
    assert sorted(row["account_id"] for row in found) == [f"u_{number:02d}" for number in range(30)]
    assert {row["run_date"] for row in found} == {DAY}
    evidence = json.loads(found[0]["evidence"])
    assert evidence["cluster_size"] == 30
    assert evidence["span_minutes"] == 29.0
    assert {(key["key_type"], key["key_value"]) for key in evidence["shared_keys"]} == {
        ("ip", "61.135.9.7"),
        ("ip_prefix", "61.135.9.0/24"),
        ("name_pattern", "lucky_cat"),
    }
    assert sorted(evidence["member_ids"]) == [f"u_{number:02d}" for number in range(30)]
    assert {row["severity"] for row in found} == {"high"}


def test_batch_flags_sign_ups_sharing_a_phone_block_from_different_ips(spark):
    rows = [
        registration(f"u_{number:02d}", at, ip=f"36.{number}.1.1", phone_block="1380013")
        for number, at in enumerate(every(datetime(2026, 4, 14, 21, 0), 12, 2))
    ]
    found = batch_findings(spark, rows).collect()
    assert len(found) == 12
    keys = json.loads(found[0]["evidence"])["shared_keys"]
    assert [(key["key_type"], key["members"]) for key in keys] == [("phone_block", 12)]


def test_batch_ignores_a_campus_gateway_with_sign_ups_spread_over_the_day(spark):
    rows = [
        registration(f"u_{number:02d}", at, ip="202.112.0.1")
        for number, at in enumerate(every(datetime(2026, 4, 14, 9, 0), 40, 12))
    ]
    assert flagged(batch_findings(spark, rows)) == []


def test_batch_ignores_a_family_sharing_one_device(spark):
    rows = [
        registration("u_mother", datetime(2026, 4, 1, 20, 0), device="dev-family"),
        registration("u_father", datetime(2026, 4, 8, 21, 0), device="dev-family"),
        registration("u_child", datetime(2026, 4, 14, 19, 0), device="dev-family"),
    ]
    assert flagged(batch_findings(spark, rows)) == []


def test_batch_ignores_an_enterprise_opening_three_accounts_from_its_office(spark):
    rows = [
        registration(f"pa_corp_{number}", at, ip="114.80.1.20", name=f"Acme 客服 {number}", account_type="public")
        for number, at in enumerate(every(datetime(2026, 4, 14, 10, 0), 3, 20))
    ]
    assert flagged(batch_findings(spark, rows)) == []


def test_batch_scores_a_burst_against_the_keys_normal_daily_rate(spark):
    rows = [
        registration(f"u_{number:02d}", at, ip="117.136.0.8")
        for number, at in enumerate(every(datetime(2026, 4, 14, 12, 0), 10, 1.5))
    ]
    busy_gateway = [
        (DAY - timedelta(days=back), key_type, key_value, 300)
        for back in range(1, 29)
        for key_type, key_value in (("ip", "117.136.0.8"), ("ip_prefix", "117.136.0.0/24"))
    ]
    assert flagged(batch_findings(spark, rows, history=busy_gateway)) == []
    assert len(flagged(batch_findings(spark, rows))) == 10


def test_batch_needs_the_minimum_number_of_members(spark):
    rows = [
        registration(f"u_{number}", at, device="dev-farm")
        for number, at in enumerate(every(datetime(2026, 4, 14, 3, 0), 7, 1))
    ]
    assert flagged(batch_findings(spark, rows)) == []
    assert len(flagged(batch_findings(spark, rows, settings=replace(SETTINGS, min_members=7)))) == 7


def test_batch_splits_runs_at_a_gap_longer_than_the_setting(spark):
    first = every(datetime(2026, 4, 14, 1, 0), 8, 1)
    second = every(datetime(2026, 4, 14, 3, 0), 8, 1)
    rows = [registration(f"u_{number:02d}", at, ip="1.2.3.4") for number, at in enumerate(first + second)]
    found = batch_findings(spark, rows).collect()
    sizes = sorted({json.loads(row["evidence"])["cluster_size"] for row in found})
    assert sizes == [8]
    assert len({json.loads(row["evidence"])["cluster_id"] for row in found}) == 2


def test_batch_joins_bursts_of_different_keys_that_share_accounts_into_one_cluster(spark):
    by_ip = [
        registration(f"u_ip_{number}", at, ip="8.8.4.4")
        for number, at in enumerate(every(datetime(2026, 4, 14, 2, 0), 9, 1))
    ]
    by_device = [
        registration(f"u_dev_{number}", at, device="dev-x")
        for number, at in enumerate(every(datetime(2026, 4, 14, 2, 0), 8, 1))
    ]
    bridge = registration("u_bridge", datetime(2026, 4, 14, 2, 4, 30), ip="8.8.4.4", device="dev-x")
    found = batch_findings(spark, [*by_ip, *by_device, bridge]).collect()
    assert len(found) == 18
    evidence = {json.loads(row["evidence"])["cluster_id"]: json.loads(row["evidence"]) for row in found}
    assert len(evidence) == 1
    assert next(iter(evidence.values()))["cluster_size"] == 18


# 0 sends the memberships through label propagation in Spark, the default through the driver's union-find.
@pytest.mark.parametrize("driver_limit", [DRIVER_CLUSTER_LIMIT, 0])
def test_connected_clusters_label_each_component_with_its_smallest_account(spark, driver_limit):
    edges = spark.createDataFrame(
        [
            (DAY, "c", "burst_1"),
            (DAY, "b", "burst_1"),
            (DAY, "b", "burst_2"),
            (DAY, "a", "burst_2"),
            (DAY, "z", "burst_3"),
            (DAY, "y", "burst_3"),
        ],
        "view_date date, account_id string, burst_id string",
    )
    clusters = connected_clusters(edges, driver_limit=driver_limit)
    labels = {row["account_id"]: row["cluster"] for row in clusters.collect()}
    assert labels == {"a": "a", "b": "a", "c": "a", "y": "y", "z": "y"}
    assert clusters.schema == CLUSTERS


def test_components_join_a_chain_of_bursts_and_keep_view_days_apart():
    # d-e-f-g joined through three bursts, reached from either end; the same ids on the next view day stand alone.
    next_day = DAY + timedelta(days=1)
    pairs = [
        (DAY, "g", "k3"),
        (DAY, "f", "k3"),
        (DAY, "f", "k2"),
        (DAY, "e", "k2"),
        (DAY, "e", "k1"),
        (DAY, "d", "k1"),
        (DAY, "x", "k4"),
        (next_day, "g", "k1"),
        (next_day, "x", "k1"),
    ]
    assert components(pairs) == [
        (DAY, "d", "d"),
        (DAY, "e", "d"),
        (DAY, "f", "d"),
        (DAY, "g", "d"),
        (DAY, "x", "x"),
        (next_day, "g", "g"),
        (next_day, "x", "g"),
    ]


def test_a_burst_over_midnight_is_seen_whole_on_the_day_it_ends_and_in_part_the_day_before(spark):
    times = every(datetime(2026, 4, 13, 23, 50), 20, 1)
    rows = [registration(f"u_{number:02d}", at, ip="9.9.9.9") for number, at in enumerate(times)]
    found = batch_findings(spark, rows).collect()
    assert len(found) == 20
    assert json.loads(found[0]["evidence"])["cluster_size"] == 20
    before_midnight = flagged(batch_findings(spark, rows, day=DAY - timedelta(days=1)))
    assert before_midnight == [f"u_{number:02d}" for number in range(10)]


def test_first_flag_only_keeps_each_accounts_earliest_finding(spark):
    found = spark.createDataFrame(
        [("u_1", DAY), ("u_1", DAY + timedelta(days=1)), ("u_2", DAY), ("u_3", DAY + timedelta(days=1))],
        "account_id string, run_date date",
    )
    earlier = spark.createDataFrame([("u_2", DAY - timedelta(days=3))], "account_id string, run_date date")
    kept = sorted((row["account_id"], row["run_date"]) for row in found.transform(first_flag_only(earlier)).collect())
    assert kept == [("u_1", DAY), ("u_3", DAY + timedelta(days=1))]


@pytest.mark.parametrize(
    ("name", "stem"),
    [
        ("lucky_cat_017", "lucky_cat"),
        ("Lucky Cat 18", "lucky cat"),
        ("阳光小店88", "阳光小店"),
        ("x1", None),
        ("Morning Brief", None),
        ("2026", None),
    ],
)
def test_name_pattern_is_the_stem_before_a_counter(spark, name, stem):
    frame = spark.createDataFrame([(name,)], "name string")
    assert frame.select(name_pattern(F.col("name"))).first()[0] == stem


@pytest.mark.parametrize(
    ("ip", "prefix"),
    [("61.135.9.7", "61.135.9.0/24"), ("2408:8000::1", None), ("not-an-ip", None)],
)
def test_ip_prefix_is_the_ipv4_slash_24(spark, ip, prefix):
    frame = spark.createDataFrame([(ip,)], "ip string")
    assert frame.select(ip_prefix(F.col("ip"))).first()[0] == prefix
