"""Planted bad rows: each one bad for exactly one quarantine reason."""

from __future__ import annotations

import numpy as np

from accountwatch.synthetic.common import ACTIVE, EPOCH, SECONDS_PER_DAY
from accountwatch.synthetic.traffic import EventFactory
from accountwatch.synthetic.world import Rows, World
from accountwatch.synthetic.write import account_rows, timestamp_columns

# A table-day takes a planted bad row only if it has at least this many rows per bad row (share <= 0.67%).
ROWS_PER_BAD_ROW = 150
SMALL_DAY_ROWS = 60
UNPARSEABLE_TIMESTAMP = "2026-13-45 99:00"
EVENT_BAD_VARIANTS = (
    ("engagement", "missing_required", "account_id"),
    ("subscriptions", "missing_required", "event_ts"),
    ("subscriptions", "missing_required", "user_id"),
    ("engagement", "invalid_value", "event_type"),
    ("subscriptions", "invalid_value", "action"),
    ("engagement", "unparseable_timestamp", "event_ts"),
    ("subscriptions", "unparseable_timestamp", "event_ts"),
    ("engagement", "invalid_count", "zero"),
    ("engagement", "invalid_count", "negative"),
    ("engagement", "duplicate_event_id", "same_day"),
    ("subscriptions", "duplicate_event_id", "same_day"),
    ("engagement", "duplicate_event_id", "earlier_day"),
    ("subscriptions", "duplicate_event_id", "earlier_day"),
    ("engagement", "event_ts_out_of_window", "ten_days_before"),
    ("subscriptions", "event_ts_out_of_window", "two_days_after"),
    ("engagement", "event_ts_out_of_window", "two_days_after"),
)
ACCOUNT_BAD_VARIANTS = (
    ("invalid_value", "status"),
    ("missing_required", "subject_id"),
    ("invalid_value", "account_type"),
    ("unparseable_timestamp", "registered_at"),
    ("missing_required", "account_name"),
)
# Reused event ids come from this many days back at most, well inside the 7-day window duplicates are checked in.
REUSE_DAYS_BACK = 5


def plan_event_bad_rows(
    rng: np.random.Generator, expected_rows: dict[str, np.ndarray], copies: int
) -> dict[tuple[str, int], tuple[str, str]]:
    """(table, folder day) -> (reason, variant): at most one planted bad row per table-day, on busy days only."""
    planned: dict[tuple[str, int], tuple[str, str]] = {}
    for _ in range(copies):
        for table, reason, variant in EVENT_BAD_VARIANTS:
            rows = expected_rows[table]
            days = np.arange(REUSE_DAYS_BACK + 2, rows.size)
            busy = days[rows[days] >= ROWS_PER_BAD_ROW]
            candidates = [int(day) for day in busy if (table, int(day)) not in planned]
            if not candidates:
                # Small platforms (or a few odd busy days): the busiest days still keep one bad row far below the
                # 5% quarantine limit.
                busy = days[rows[days] >= max(SMALL_DAY_ROWS, np.quantile(rows[days], 0.75))]
                candidates = [int(day) for day in busy if (table, int(day)) not in planned]
            if candidates:
                planned[(table, int(rng.choice(candidates)))] = (reason, variant)
    return planned


def bad_event_row(  # noqa: C901 - one branch per kind of bad row the contract names
    rng: np.random.Generator,
    world: World,
    factory: EventFactory,
    rows: Rows,
    table: str,
    day: int,
    reason: str,
    variant: str,
    earlier_ids: dict[tuple[str, int], list[str]],
) -> Rows | None:
    """One row of `rows` made bad for exactly one reason, or None when the day offers no suitable template."""
    templates = rows.columns["_template"].copy()
    if reason == "invalid_count":
        templates &= rows.columns["event_type"] == "read"
    if variant == "earlier_day":
        reusable = [
            ids for key, ids in sorted(earlier_ids.items()) if key[0] == table and 1 <= day - key[1] <= REUSE_DAYS_BACK
        ]
        reusable = [ids for ids in reusable if ids]
        if not reusable:
            return None
    if not templates.any():
        return None
    row_index = int(rng.choice(np.flatnonzero(templates)))
    rows.columns["_template"][row_index] = False
    bad = rows.take(np.array([row_index]))
    if variant == "same_day":
        # The id again with other content: a copy equal in every value is a re-delivery, which is not bad input.
        if table == "subscriptions":
            channel = bad.columns["channel"][0]
            bad.columns["channel"] = np.array(["search" if channel == "other" else "other"], dtype=object)
        else:
            bad.columns["count"] = np.array([str(int(bad.columns["count"][0] or 1) + 1)], dtype=object)
        return bad
    bad.columns["event_id"] = factory.fresh_ids(1)
    if variant == "earlier_day":
        bad.columns["event_id"] = np.array([reusable[int(rng.integers(0, len(reusable)))].pop()], dtype=object)
    elif reason == "missing_required":
        bad.columns[variant] = np.array([None], dtype=object)
    elif variant == "event_type":
        bad.columns["event_type"] = np.array(["view"], dtype=object)
    elif variant == "action":
        bad.columns["action"] = np.array(["subscribe"], dtype=object)
    elif reason == "unparseable_timestamp":
        bad.columns["event_ts"] = np.array([UNPARSEABLE_TIMESTAMP], dtype=object)
        bad.columns["_native_ok"] = np.array([False])
    elif variant in ("zero", "negative"):
        bad.columns["count"] = np.array(["0" if variant == "zero" else "-2"], dtype=object)
    elif reason == "event_ts_out_of_window":
        shift_days = -10 if variant == "ten_days_before" else 2
        day_start = (world.start - EPOCH).days * SECONDS_PER_DAY + day * SECONDS_PER_DAY
        local_sec = day_start + shift_days * SECONDS_PER_DAY + int(rng.integers(9 * 3600, 18 * 3600))
        bad.columns["event_ts"], bad.columns["_utc_event_ts"] = timestamp_columns(
            rng, np.array([local_sec]), world.time_zone
        )
    return bad


def insert_rows(rng: np.random.Generator, rows: Rows, extra: list[Rows]) -> Rows:
    """`rows` with `extra` rows slipped in at random positions."""
    if not extra:
        return rows
    combined = Rows.concat([rows, *extra])
    positions = np.concatenate(
        [np.arange(len(rows), dtype=float), rng.uniform(0, len(rows), size=len(combined) - len(rows))]
    )
    return combined.take(np.argsort(positions, kind="stable"))


def bad_account_rows(rng: np.random.Generator, world: World, count: int) -> list[tuple[str, Rows]]:
    """Snapshot rows of made-up accounts, each bad for one reason; they go to day one's big snapshot."""
    first_extra = world.first_extra
    start_sec = (world.start - EPOCH).days * SECONDS_PER_DAY
    bad_rows = []
    for offset in range(count):
        reason, column = ACCOUNT_BAD_VARIANTS[offset % len(ACCOUNT_BAD_VARIANTS)]
        row = account_rows(
            rng, world, np.array([first_extra + offset]), np.array([ACTIVE]), np.array([start_sec - 600])
        )
        if column == "status":
            row.columns["status"] = np.array(["banned"], dtype=object)
        elif column == "account_type":
            row.columns["account_type"] = np.array(["bot"], dtype=object)
        elif reason == "missing_required":
            row.columns[column] = np.array([None], dtype=object)
        else:
            row.columns["registered_at"] = np.array([UNPARSEABLE_TIMESTAMP], dtype=object)
            row.columns["_native_ok"] = np.array([False])
        bad_rows.append((reason, row))
    return bad_rows
