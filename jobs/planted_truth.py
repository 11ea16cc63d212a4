"""What a synthetic platform planted: truth.json, which the generator writes and `accountwatch evaluate` reads.

It lives on the jobs side so that scoring a lake never imports the generator.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta

# The planted truth, written beside the landing tables.
TRUTH_FILE = "truth.json"


@dataclass(frozen=True)
class PlantedTruth:
    """What was planted in a synthetic platform, known from its construction."""

    start: date
    end: date
    seed: int
    dormant_account: frozenset[str]
    quota_overrun: frozenset[str]
    bad_rows: dict[str, int]
    # Each planted dormant account's last login or publish day; before `start` for accounts silent all period.
    dormant_last_use: dict[str, date] = field(default_factory=dict)
    # (buyer, purchase day): the days fake_follower_spike should flag.
    fake_follower_spike: frozenset[tuple[str, date]] = frozenset()
    # Per purchase: account_id, date, follows (bought that day), farm (a batch_clusters name).
    purchases: list[dict] = field(default_factory=list)
    # Buyer -> (first day, last day) of a slow drip of bought follows: flagging those days is neither required
    # nor wrong.
    fake_follower_drip: dict[str, tuple[date, date]] = field(default_factory=dict)
    # (account, day) of organic viral growth: never to be flagged.
    viral_days: frozenset[tuple[str, date]] = frozenset()
    # Every account registered in a planted burst, to be flagged on its registration day.
    batch_registration: frozenset[str] = frozenset()
    # Per burst: name, kind (farm, idle_farm, public_batch), shared_keys, registration_day, first_registered_at,
    # last_registered_at (platform time) and members. `device` means the members take turns on at most six
    # devices; the other keys are the same for every member.
    batch_clusters: list[dict] = field(default_factory=list)
    # campus, family_device, enterprise_office, media_group -> accounts registered alike but organically.
    batch_negatives: dict[str, list[str]] = field(default_factory=dict)
    # (account, registration day): a blacklisted subject's new account, and new accounts named like a closed one.
    blacklisted_subject_registration: frozenset[tuple[str, date]] = frozenset()
    closed_name_reregistration: frozenset[tuple[str, date]] = frozenset()
    # The account two edits from a closed name: never to be flagged.
    closed_name_negatives: list[str] = field(default_factory=list)
    # (account, registration day): strangers whose common name (a handle with a counter, or one that other live
    # accounts already bear) is, or is one edit from, a closed account's: never to be flagged.
    common_name_collisions: frozenset[tuple[str, date]] = frozenset()
    # (account, day) an account changed hands without an approved application: its subject changed, or new
    # operators from new devices and networks replaced the old ones.
    unapproved_transfer: frozenset[tuple[str, date]] = frozenset()
    # Accounts that change hands or operators legitimately (an approved transfer, staff rotation, a new phone, an
    # agency, a rebrand): never to be flagged.
    transfer_look_alikes: frozenset[str] = frozenset()
    # Accounts of a subject holding at least five unused public accounts.
    account_hoarding: frozenset[str] = frozenset()
    # Accounts of publishing agencies and organisations with many accounts, and of holders below the threshold.
    hoarding_look_alikes: frozenset[str] = frozenset()
    # (account, day) of bought reads and likes from aged accounts never active before.
    fake_engagement: frozenset[tuple[str, date]] = frozenset()
    # (account, day) of organic surges (a viral article, a campus behind one address): never to be flagged.
    engagement_look_alikes: frozenset[tuple[str, date]] = frozenset()
    # (account, first day, last day) of a stealthy farm spreading bought reads over several days: neither
    # required nor wrong to flag.
    engagement_drip: list[tuple[str, date, date]] = field(default_factory=list)
    # (buyer, day) of a follower purchase of aged stock: accounts registered within days of each other months
    # before, neither young nor batch-flagged nor inactive (scored with fake_follower_spike).
    aged_stock: frozenset[tuple[str, date]] = frozenset()
    # (account, day) of a viral day of followers registered over years: never to be flagged.
    aged_stock_look_alikes: frozenset[tuple[str, date]] = frozenset()

    def bought_followers(self) -> frozenset[tuple[str, date]]:
        """Every planted follower purchase (buyer, day): from the farms and of aged stock."""
        return self.fake_follower_spike | self.aged_stock

    def drip_days(self) -> frozenset[tuple[str, date]]:
        """Every (buyer, day) of a planted drip."""
        return frozenset(
            (account_id, first + timedelta(days=offset))
            for account_id, (first, last) in self.fake_follower_drip.items()
            for offset in range((last - first).days + 1)
        )

    def batch_registration_days(self) -> dict[str, date]:
        """Each planted burst member's registration day: the run date batch_registration should flag it on."""
        return {member: cluster["registration_day"] for cluster in self.batch_clusters for member in cluster["members"]}

    def to_json(self) -> str:
        """The truth as a JSON document with sorted ids."""
        return json.dumps(
            {
                "start": self.start.isoformat(),
                "end": self.end.isoformat(),
                "seed": self.seed,
                "dormant_account": sorted(self.dormant_account),
                "quota_overrun": sorted(self.quota_overrun),
                "bad_rows": dict(sorted(self.bad_rows.items())),
                "dormant_last_use": {key: value.isoformat() for key, value in sorted(self.dormant_last_use.items())},
                "fake_follower_spike": [[key, day.isoformat()] for key, day in sorted(self.fake_follower_spike)],
                "purchases": [{**purchase, "date": purchase["date"].isoformat()} for purchase in self.purchases],
                "fake_follower_drip": {
                    key: [first.isoformat(), last.isoformat()]
                    for key, (first, last) in sorted(self.fake_follower_drip.items())
                },
                "viral_days": [[key, day.isoformat()] for key, day in sorted(self.viral_days)],
                "batch_registration": sorted(self.batch_registration),
                "batch_clusters": [
                    {**cluster, "registration_day": cluster["registration_day"].isoformat()}
                    for cluster in self.batch_clusters
                ],
                "batch_negatives": {key: sorted(ids) for key, ids in sorted(self.batch_negatives.items())},
                "blacklisted_subject_registration": [
                    [key, day.isoformat()] for key, day in sorted(self.blacklisted_subject_registration)
                ],
                "closed_name_reregistration": [
                    [key, day.isoformat()] for key, day in sorted(self.closed_name_reregistration)
                ],
                "closed_name_negatives": sorted(self.closed_name_negatives),
                "common_name_collisions": [[key, day.isoformat()] for key, day in sorted(self.common_name_collisions)],
                "unapproved_transfer": [[key, day.isoformat()] for key, day in sorted(self.unapproved_transfer)],
                "transfer_look_alikes": sorted(self.transfer_look_alikes),
                "account_hoarding": sorted(self.account_hoarding),
                "hoarding_look_alikes": sorted(self.hoarding_look_alikes),
                "fake_engagement": [[key, day.isoformat()] for key, day in sorted(self.fake_engagement)],
                "engagement_look_alikes": [[key, day.isoformat()] for key, day in sorted(self.engagement_look_alikes)],
                "engagement_drip": [
                    [key, first.isoformat(), last.isoformat()] for key, first, last in self.engagement_drip
                ],
                "aged_stock": [[key, day.isoformat()] for key, day in sorted(self.aged_stock)],
                "aged_stock_look_alikes": [[key, day.isoformat()] for key, day in sorted(self.aged_stock_look_alikes)],
            },
            indent=2,
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> PlantedTruth:
        """Read a truth written by `to_json`."""
        raw = json.loads(text)
        return cls(
            start=date.fromisoformat(raw["start"]),
            end=date.fromisoformat(raw["end"]),
            seed=int(raw["seed"]),
            dormant_account=frozenset(raw["dormant_account"]),
            quota_overrun=frozenset(raw["quota_overrun"]),
            bad_rows={str(reason): int(count) for reason, count in raw["bad_rows"].items()},
            dormant_last_use={key: date.fromisoformat(value) for key, value in raw.get("dormant_last_use", {}).items()},
            fake_follower_spike=frozenset(
                (key, date.fromisoformat(day)) for key, day in raw.get("fake_follower_spike", [])
            ),
            purchases=[
                {**purchase, "date": date.fromisoformat(purchase["date"])} for purchase in raw.get("purchases", [])
            ],
            fake_follower_drip={
                key: (date.fromisoformat(first), date.fromisoformat(last))
                for key, (first, last) in raw.get("fake_follower_drip", {}).items()
            },
            viral_days=frozenset((key, date.fromisoformat(day)) for key, day in raw.get("viral_days", [])),
            batch_registration=frozenset(raw.get("batch_registration", [])),
            batch_clusters=[
                {**cluster, "registration_day": date.fromisoformat(cluster["registration_day"])}
                for cluster in raw.get("batch_clusters", [])
            ],
            batch_negatives={key: list(ids) for key, ids in raw.get("batch_negatives", {}).items()},
            blacklisted_subject_registration=frozenset(
                (key, date.fromisoformat(day)) for key, day in raw.get("blacklisted_subject_registration", [])
            ),
            closed_name_reregistration=frozenset(
                (key, date.fromisoformat(day)) for key, day in raw.get("closed_name_reregistration", [])
            ),
            closed_name_negatives=list(raw.get("closed_name_negatives", [])),
            unapproved_transfer=frozenset(
                (key, date.fromisoformat(day)) for key, day in raw.get("unapproved_transfer", [])
            ),
            transfer_look_alikes=frozenset(raw.get("transfer_look_alikes", [])),
            account_hoarding=frozenset(raw.get("account_hoarding", [])),
            hoarding_look_alikes=frozenset(raw.get("hoarding_look_alikes", [])),
            fake_engagement=frozenset((key, date.fromisoformat(day)) for key, day in raw.get("fake_engagement", [])),
            engagement_look_alikes=frozenset(
                (key, date.fromisoformat(day)) for key, day in raw.get("engagement_look_alikes", [])
            ),
            engagement_drip=[
                (key, date.fromisoformat(first), date.fromisoformat(last))
                for key, first, last in raw.get("engagement_drip", [])
            ],
            aged_stock=frozenset((key, date.fromisoformat(day)) for key, day in raw.get("aged_stock", [])),
            aged_stock_look_alikes=frozenset(
                (key, date.fromisoformat(day)) for key, day in raw.get("aged_stock_look_alikes", [])
            ),
            common_name_collisions=frozenset(
                (key, date.fromisoformat(day)) for key, day in raw.get("common_name_collisions", [])
            ),
        )
