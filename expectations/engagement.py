"""Expectations on engagement events before they are written."""

from __future__ import annotations

import great_expectations as gx

from accountwatch.schemas.landing import AUDIENCE_EVENT_TYPES, USE_EVENT_TYPES


def expectations() -> list:
    """The `engagement` suite."""
    return [
        *[
            gx.expectations.ExpectColumnValuesToNotBeNull(column=name)
            for name in ("event_id", "account_id", "event_type", "event_ts", "count", "event_date")
        ],
        gx.expectations.ExpectColumnValuesToBeUnique(column="event_id"),
        gx.expectations.ExpectColumnValuesToBeInSet(
            column="event_type", value_set=[*USE_EVENT_TYPES, *AUDIENCE_EVENT_TYPES]
        ),
        gx.expectations.ExpectColumnValuesToBeBetween(column="count", min_value=1),
        # The optional columns are stored even when a day's files lack them (then null).
        *[gx.expectations.ExpectColumnToExist(column=name) for name in ("content_id", "ip", "device_id")],
    ]
