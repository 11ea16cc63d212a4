"""Expectations on account rows before they are written."""

from __future__ import annotations

import great_expectations as gx

from accountwatch.schemas.landing import ACCOUNT_STATUSES, SUBJECT_TYPES


def expectations() -> list:
    """The `accounts` suite."""
    required = ["account_id", "account_type", "account_name", "registered_at", "status", "updated_at"]
    return [
        *[gx.expectations.ExpectColumnValuesToNotBeNull(column=name) for name in required],
        gx.expectations.ExpectColumnValuesToBeInSet(column="account_type", value_set=["public", "user"]),
        gx.expectations.ExpectColumnValuesToBeInSet(column="status", value_set=sorted(ACCOUNT_STATUSES)),
        gx.expectations.ExpectColumnValuesToBeInSet(column="subject_type", value_set=sorted(SUBJECT_TYPES)),
        # A stored phone is a 64-hex-digit pseudonym, never a number.
        gx.expectations.ExpectColumnValuesToMatchRegex(column="phone_pseudonym", regex="^[0-9a-f]{64}$"),
    ]
