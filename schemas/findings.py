"""Findings and the detectors' own compact state."""

from __future__ import annotations

from pyspark.sql.types import DateType, DoubleType, LongType, StringType, StructField, StructType

DETECTORS = (
    "fake_follower_spike",
    "batch_registration",
    "dormant_account",
    "quota_overrun",
    "blacklisted_subject_registration",
    "closed_name_reregistration",
    "unapproved_transfer",
    "account_hoarding",
    "fake_engagement",
)
SEVERITIES = ("low", "medium", "high")

FINDINGS = StructType(
    [
        StructField("finding_id", StringType(), False),
        StructField("run_date", DateType(), False),
        StructField("detector", StringType(), False),
        StructField("account_id", StringType(), False),
        StructField("subject_id", StringType(), True),
        StructField("severity", StringType(), False),
        StructField("score", DoubleType(), False),
        StructField("evidence", StringType(), False),
        StructField("rule_version", StringType(), False),
        # The measure the rules suggest (schemas.standing.ACTIONS).
        StructField("recommended_action", StringType(), False),
        # What makes two findings "the same evidence": a dismissed finding is not raised again for it.
        StructField("evidence_key", StringType(), False),
    ]
)

# The accounts a rule detector saw in its condition at the end of run_date (dormant, over quota).
DETECTOR_STATE = StructType(
    [
        StructField("run_date", DateType(), False),
        StructField("detector", StringType(), False),
        StructField("account_id", StringType(), False),
    ]
)

# One row per detector and run date: whether it judged the day, and how many findings it made.
DETECTOR_RUNS = StructType(
    [
        StructField("run_date", DateType(), False),
        StructField("detector", StringType(), False),
        StructField("status", StringType(), False),
        StructField("findings", LongType(), False),
        StructField("message", StringType(), True),
    ]
)

# Registrations per shared key (ip, ip_prefix, device, phone_block, name_pattern) and registration day: the
# keys' normal rates, which batch_registration scores bursts against.
REGISTRATION_KEYS = StructType(
    [
        StructField("reg_date", DateType(), False),
        StructField("key_type", StringType(), False),
        StructField("key_value", StringType(), False),
        StructField("registrations", LongType(), False),
    ]
)
