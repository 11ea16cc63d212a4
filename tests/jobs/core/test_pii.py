from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date, datetime

import pytest
from chispa import assert_column_equality, assert_df_equality
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, DateType, LongType, StringType, StructField, StructType

from accountwatch.jobs.core.lake import Lake
from accountwatch.jobs.core.pii import (
    KEY_FINGERPRINT_FILE,
    KEY_FINGERPRINT_LABEL,
    PHONE_MASK,
    PiiKeyMismatchError,
    check_pii_key,
    mask_phones_text,
    masked_phones,
    read_key_record,
    rotate_pii_key,
)
from accountwatch.jobs.ingest.landing import CORRUPT
from accountwatch.jobs.ingest.load import ingest_range, to_quarantine
from accountwatch.jobs.outputs.evidence import Scope, export_bundle
from accountwatch.schemas.landing import ACCOUNTS, ENGAGEMENT, SUBSCRIPTIONS, LandingTable

DAY = date(2026, 3, 10)
KEY = b"unit-test-key-0123456789"
OTHER_KEY = b"another-key-0123456789abc"
TEXT = StructType([StructField("text", StringType()), StructField("expected", StringType())])


def masked(spark, cases: list[tuple[str, str]]):
    frame = spark.createDataFrame(cases, TEXT)
    return frame.withColumn("masked", masked_phones(F.col("text")))


PHONE_CASES = [
    ("13811110007", PHONE_MASK),
    ("138 1111 0007", PHONE_MASK),
    ("138-1111-0023", PHONE_MASK),
    ("138.1111.0007", PHONE_MASK),
    ("138 - 1111 - 0007", PHONE_MASK),
    ("(138) 1111 0007", PHONE_MASK),
    ("(138)1111-0007", PHONE_MASK),
    ("+86 138-1111-0023", PHONE_MASK),
    ("+8613811110007", PHONE_MASK),
    ("8613811110007", PHONE_MASK),
    ("86 138 1111 0007", PHONE_MASK),
    ("(+86) 138 1111 0007", PHONE_MASK),
    ("+86 (138) 1111-0007", PHONE_MASK),
    ("0086-138-1111-0007", PHONE_MASK),
    ("010-12345678", PHONE_MASK),
    ("(010) 1234 5678", PHONE_MASK),
    ("１３８ １１１１ ０００７", PHONE_MASK),
    ("call 138 1111 0007 after six", f"call {PHONE_MASK} after six"),
    ("tel13811110007", f"tel{PHONE_MASK}"),
    ("tel:138-1111-0007", f"tel:{PHONE_MASK}"),
    (
        "s9,pa_1,u_7,follow,2026-03-10 12:00:00,+86 138-1111-0023",
        f"s9,pa_1,u_7,follow,2026-03-10 12:00:00,{PHONE_MASK}",
    ),
    (
        '{"account_id": "pa_2", "phone": "138 1111 0007", broken',
        f'{{"account_id": "pa_2", "phone": "{PHONE_MASK}", broken',
    ),
]
READABLE = [
    "2026-01-03 12:00:00",
    "2026-01-03T12:00:00+08:00",
    "2026-01-03T12:00:00.123456789+08:00",
    "2026-01-03 12:00:00 +0800",
    "2026/01/03 12:00",
    "u000123",
    "u0001234567",
    "pa_1234567",
    "art-2026-0103-1234",
    "8123456789abcdef",
    "12",
    "95555",
    "123456",
    "1,234,567",
    "10.1.2.3",
    "192.168.100.200",
    "13.145.201.120",
    "240e:1234:5678::9abc",
    "s9,pa_1,u_7,follow,2026-03-10 12:00:00,search",
]


def test_phone_numbers_are_masked_whatever_their_separators(spark):
    assert_column_equality(masked(spark, PHONE_CASES), "masked", "expected")


def test_timestamps_short_numbers_ids_and_addresses_stay_readable(spark):
    assert_column_equality(masked(spark, [(text, text) for text in READABLE]), "masked", "expected")


@pytest.mark.parametrize(("text", "expected"), [*PHONE_CASES, *[(text, text) for text in READABLE]])
def test_free_text_written_from_the_driver_is_masked_as_spark_masks_it(text, expected):
    assert mask_phones_text(text) == expected


def judged_schema(table: LandingTable) -> StructType:
    fields = [StructField(name, StringType()) for name in table.columns]
    fields += [
        StructField(CORRUPT, StringType()),
        StructField("ingest_date", DateType()),
        StructField("source_file", StringType()),
        StructField("source_row", LongType()),
        StructField("problems", ArrayType(StringType())),
    ]
    if table is ACCOUNTS:
        fields.append(StructField("phone_pseudonym", StringType()))
    return StructType(fields)


RAW = StructType([StructField("source_row", LongType()), StructField("raw", StringType())])


def quarantined_raw(spark, table: LandingTable, rows: list[dict]):
    names = judged_schema(table).fieldNames()
    defaults = {"ingest_date": DAY, "source_file": "/landing/part.csv"}
    judged = spark.createDataFrame(
        [tuple({**defaults, **row}.get(name) for name in names) for row in rows], judged_schema(table)
    )
    return judged.transform(to_quarantine(table)).select("source_row", "raw")


# Long: one bad record of each kind per landing table, each checked in its masked quarantine row.
def test_quarantine_masks_phones_in_every_column_and_in_malformed_records_of_every_table(spark):
    pseudonym = "ab13800000000cd" + "0" * 49
    accounts = quarantined_raw(
        spark,
        ACCOUNTS,
        [
            {
                "account_id": "pa_1",
                "account_name": "call 139-2222-0008",
                "registered_at": "2026-03-10 12:00:00",
                "phone": "138 1111 0007",
                "status": "banned",
                "source_row": 1,
                "problems": ["invalid_value:status"],
                "phone_pseudonym": pseudonym,
            },
            {
                "account_id": "pa_2",
                CORRUPT: "pa_2,public,(138) 1111 0007",
                "source_row": 2,
                "problems": ["malformed_record"],
            },
        ],
    )
    expected = [
        (
            1,
            '{"account_id":"pa_1","account_name":"call <phone removed>","registered_at":"2026-03-10 12:00:00",'
            f'"status":"banned","phone_pseudonym":"{pseudonym}"}}',
        ),
        (2, '{"record":"pa_2,public,<phone removed>"}'),
    ]
    assert_df_equality(accounts, spark.createDataFrame(expected, RAW), ignore_row_order=True, ignore_nullable=True)

    subscriptions = quarantined_raw(
        spark,
        SUBSCRIPTIONS,
        [
            {
                "event_id": "s8",
                "account_id": "pa_1",
                "user_id": "138.1111.0007",
                "action": "subscribe",
                "event_ts": "2026-03-10 12:00:00",
                "source_row": 1,
                "problems": ["invalid_value:action"],
            },
            {
                CORRUPT: "s9,pa_1,u_7,follow,2026-03-10 12:00:00,+86 138-1111-0023",
                "source_row": 2,
                "problems": ["malformed_record"],
            },
        ],
    )
    expected = [
        (
            1,
            '{"event_id":"s8","account_id":"pa_1","user_id":"<phone removed>","action":"subscribe",'
            '"event_ts":"2026-03-10 12:00:00"}',
        ),
        (2, '{"record":"s9,pa_1,u_7,follow,2026-03-10 12:00:00,<phone removed>"}'),
    ]
    assert_df_equality(subscriptions, spark.createDataFrame(expected, RAW), ignore_row_order=True, ignore_nullable=True)

    engagement = quarantined_raw(
        spark,
        ENGAGEMENT,
        [
            {
                "event_id": "e7",
                "account_id": "pa_1",
                "actor_id": "138 1111 0007",
                "event_type": "view",
                "event_ts": "2026-03-10T12:00:00+08:00",
                "count": "3",
                "source_row": 1,
                "problems": ["invalid_value:event_type"],
            }
        ],
    )
    expected = [
        (
            1,
            '{"event_id":"e7","account_id":"pa_1","actor_id":"<phone removed>","event_type":"view",'
            '"event_ts":"2026-03-10T12:00:00+08:00","count":"3"}',
        ),
    ]
    assert_df_equality(engagement, spark.createDataFrame(expected, RAW), ignore_row_order=True, ignore_nullable=True)


def test_first_check_records_a_keyed_fingerprint_never_the_key(tmp_path):
    lake_root = tmp_path / "lake"
    check_pii_key(lake_root, KEY)
    stored = (lake_root / KEY_FINGERPRINT_FILE).read_text()
    [entry] = json.loads(stored)["keys"]
    assert entry["fingerprint"] == hmac.new(KEY, KEY_FINGERPRINT_LABEL.encode(), hashlib.sha256).hexdigest()
    assert entry["in_use_until"] is None
    assert KEY.decode() not in stored and hashlib.sha256(KEY).hexdigest() not in stored
    assert [path.name for path in (lake_root / KEY_FINGERPRINT_FILE).parent.iterdir()] == ["pii_key.json"]


def test_the_same_key_passes_and_another_is_refused_naming_the_lake_and_the_rotation(tmp_path):
    lake_root = tmp_path / "lake"
    check_pii_key(lake_root, KEY)
    check_pii_key(lake_root, KEY)
    with pytest.raises(PiiKeyMismatchError) as refused:
        check_pii_key(lake_root, OTHER_KEY)
    message = str(refused.value)
    assert "\n" not in message and str(lake_root) in message and "accountwatch rotate-pii-key" in message
    assert len(read_key_record(lake_root)["keys"]) == 1


def test_a_rotation_accepts_the_new_key_and_refuses_the_old(tmp_path):
    lake_root = tmp_path / "lake"
    check_pii_key(lake_root, KEY)
    retired, current = rotate_pii_key(lake_root, OTHER_KEY, "rotate-pii-key by li.wei")
    check_pii_key(lake_root, OTHER_KEY)
    with pytest.raises(PiiKeyMismatchError, match="retired"):
        check_pii_key(lake_root, KEY)
    old, new = read_key_record(lake_root)["keys"]
    assert old["in_use_until"] == new["in_use_from"] == current["in_use_from"]
    assert new["in_use_until"] is None and new["how"] == "rotate-pii-key by li.wei"
    assert retired is not None and retired["fingerprint"] == old["fingerprint"]


def test_rotating_to_the_lakes_own_key_is_refused(tmp_path):
    lake_root = tmp_path / "lake"
    check_pii_key(lake_root, KEY)
    with pytest.raises(PiiKeyMismatchError, match="already"):
        rotate_pii_key(lake_root, KEY, "rotate-pii-key by li.wei")
    assert len(read_key_record(lake_root)["keys"]) == 1


def test_ingest_with_another_key_fails_before_writing_anything(spark, settings, tmp_path):
    lake = Lake(spark, tmp_path / "lake", settings)
    check_pii_key(lake.root, KEY)
    with pytest.raises(PiiKeyMismatchError):
        ingest_range(lake, tmp_path / "landing", DAY, DAY, settings, OTHER_KEY)
    assert [path.name for path in lake.root.iterdir()] == ["_accountwatch"]


def test_export_with_another_key_fails_before_writing_anything(spark, settings, tmp_path):
    lake = Lake(spark, tmp_path / "lake", settings)
    lake.ensure("findings")
    check_pii_key(lake.root, KEY)
    out = tmp_path / "bundle"
    with pytest.raises(PiiKeyMismatchError):
        export_bundle(lake, settings, Scope("account", "pa_1"), "li.wei", out, datetime(2026, 3, 11), OTHER_KEY)
    assert not out.exists() and not lake.exists("exports")
