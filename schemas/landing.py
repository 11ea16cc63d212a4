"""The landing files' contract: columns, required values and allowed sets per table."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class LandingTable:
    """One landing table of the data contract."""

    name: str
    columns: tuple[str, ...]
    required: tuple[str, ...]
    allowed: dict[str, frozenset[str]] = field(default_factory=dict)
    timestamps: tuple[str, ...] = ()
    is_event_table: bool = False
    # The column a row is unique by across all days (its duplicates are quarantined), if any.
    key: str | None = None
    # A timestamp at or after the start of this many days after the row's folder day cannot have been exported yet.
    timestamp_limit_days: int = 2
    # Whether a day may have no folder at all (most days no one applies for a transfer). Such a table has a
    # handful of rows a day, so one bad row is no broken export: its quarantined share fails no day.
    optional: bool = False


SUBJECT_TYPES = frozenset({"individual", "enterprise", "government", "media", "other"})
ACCOUNT_STATUSES = frozenset({"active", "suspended", "closed"})
USE_EVENT_TYPES = ("login", "publish")
AUDIENCE_EVENT_TYPES = ("read", "like", "share", "comment")

ACCOUNTS = LandingTable(
    name="accounts",
    columns=(
        "account_id",
        "account_type",
        "subject_id",
        "subject_type",
        "account_name",
        "registered_at",
        "registration_ip",
        "device_id",
        "phone",
        "content_category",
        "status",
        "updated_at",
    ),
    required=("account_id", "account_type", "account_name", "registered_at", "status", "updated_at"),
    allowed={
        "account_type": frozenset({"public", "user"}),
        "subject_type": SUBJECT_TYPES,
        "status": ACCOUNT_STATUSES,
    },
    timestamps=("registered_at", "updated_at"),
)

# Columns required only for public accounts.
PUBLIC_ACCOUNT_REQUIRED = ("subject_id", "subject_type")

SUBSCRIPTIONS = LandingTable(
    name="subscriptions",
    columns=("event_id", "account_id", "user_id", "action", "event_ts", "channel"),
    required=("event_id", "account_id", "user_id", "action", "event_ts"),
    allowed={"action": frozenset({"follow", "unfollow"})},
    timestamps=("event_ts",),
    is_event_table=True,
    key="event_id",
)

ENGAGEMENT = LandingTable(
    name="engagement",
    # content_id, ip and device_id came later: files without them stay valid (the values are null).
    columns=("event_id", "account_id", "actor_id", "event_type", "event_ts", "count", "content_id", "ip", "device_id"),
    required=("event_id", "account_id", "event_type", "event_ts"),
    allowed={"event_type": frozenset(USE_EVENT_TYPES + AUDIENCE_EVENT_TYPES)},
    timestamps=("event_ts",),
    is_event_table=True,
    key="event_id",
)

TRANSFER_KINDS = frozenset({"transfer", "gift"})
TRANSFER_DECISIONS = frozenset({"approved", "rejected"})

TRANSFERS = LandingTable(
    name="transfers",
    columns=("application_id", "account_id", "from_subject_id", "to_subject_id", "kind", "decision", "decided_at"),
    required=("application_id", "account_id", "from_subject_id", "to_subject_id", "kind", "decision", "decided_at"),
    allowed={"kind": TRANSFER_KINDS, "decision": TRANSFER_DECISIONS},
    timestamps=("decided_at",),
    key="application_id",
    # A decision exported for a day was taken by the end of that day.
    timestamp_limit_days=1,
    optional=True,
)

LANDING_TABLES = {table.name: table for table in (ACCOUNTS, SUBSCRIPTIONS, ENGAGEMENT, TRANSFERS)}

# The largest `count` one engagement row may carry: far above any real pre-aggregate, and low enough that no
# day's sum of counts can overflow a 64-bit integer (that would take over nine billion rows for one account).
MAX_COUNT = 1_000_000_000

# Quarantine reasons, in the order a row is judged: the first that applies is the row's reason.
QUARANTINE_REASONS = (
    "malformed_record",
    "missing_required",
    "invalid_value",
    "unparseable_timestamp",
    "invalid_count",
    "timestamp_out_of_window",
    "event_ts_out_of_window",
    "duplicate_event_id",
    "duplicate_application_id",
)
