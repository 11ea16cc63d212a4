"""Expectations on subscription events before they are written."""

from __future__ import annotations

import great_expectations as gx


def expectations() -> list:
    """The `subscriptions` suite."""
    return [
        *[
            gx.expectations.ExpectColumnValuesToNotBeNull(column=name)
            for name in ("event_id", "account_id", "user_id", "action", "event_ts", "event_date")
        ],
        gx.expectations.ExpectColumnValuesToBeUnique(column="event_id"),
        gx.expectations.ExpectColumnValuesToBeInSet(column="action", value_set=["follow", "unfollow"]),
    ]
