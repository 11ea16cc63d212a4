"""Expectations on the platform's transfer decisions before they are written."""

from __future__ import annotations

import great_expectations as gx

from accountwatch.schemas.landing import TRANSFER_DECISIONS, TRANSFER_KINDS, TRANSFERS


def expectations() -> list:
    """The `transfers` suite."""
    return [
        *[gx.expectations.ExpectColumnValuesToNotBeNull(column=name) for name in TRANSFERS.columns],
        gx.expectations.ExpectColumnValuesToBeUnique(column="application_id"),
        gx.expectations.ExpectColumnValuesToBeInSet(column="kind", value_set=sorted(TRANSFER_KINDS)),
        gx.expectations.ExpectColumnValuesToBeInSet(column="decision", value_set=sorted(TRANSFER_DECISIONS)),
    ]
