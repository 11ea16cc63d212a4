"""Organic traffic: each day's logins, publishes, reads, likes, shares, comments, follows and unfollows."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from accountwatch.schemas.landing import AUDIENCE_EVENT_TYPES
from accountwatch.synthetic.common import EPOCH, SECONDS_PER_DAY, random_seconds, weighted_choice
from accountwatch.synthetic.world import Rows, World

SUBSCRIPTION_SHARE = 0.2
FOLLOW_SHARE = 0.88
OPERATOR_HOURS = np.array(
    [0.5, 0.3, 0.2, 0.2, 0.2, 0.3, 1, 3, 6, 9, 9, 7, 4, 6, 8, 8, 7, 5, 3, 3, 3, 3, 2, 1], dtype=float
)
AUDIENCE_HOURS = np.array([2, 1, 1, 1, 1, 2, 4, 7, 8, 6, 5, 6, 8, 6, 5, 5, 5, 6, 7, 8, 10, 11, 9, 5], dtype=float)
WEEKDAY_FACTOR = np.array([0.95, 0.97, 1.0, 1.0, 1.03, 1.12, 1.08])  # Monday first
CHANNELS = np.array(["search", "recommendation", "article", "qr_code", "profile", "other"])
CHANNEL_SHARE = np.array([0.25, 0.3, 0.2, 0.1, 0.1, 0.05])
ESTABLISHED_DAYS = 60
# Audience events name their article from this day on; the files of earlier days carry no content_id (older files,
# as the contract allows). An account's audience reads its latest article, every fourth event the one before.
ARTICLE_IDS_FROM_DAY = 30
OLDER_ARTICLE_EVERY = 4


class EventFactory:
    """Generates one day of events at a time; keeps the event-id counter and the follow history."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.next_event = 0
        capacity = int(world.follows_per_day.sum()) + sum(viral.follows for viral in world.plants.viral) + 1
        self.followed_account = np.empty(capacity, dtype=np.int64)
        self.followed_user = np.empty(capacity, dtype=np.int64)
        self.follow_count = 0
        # Audience events with an actor per user so far: viral followers are users with activity before the day.
        self.user_activity = np.zeros(world.users.reg_day.size, dtype=np.int64)
        # Per public account: the day of its latest and of its previous article (-1: none yet).
        self.latest_article = np.full(world.n_public, -1, dtype=np.int64)
        self.previous_article = np.full(world.n_public, -1, dtype=np.int64)

    def _publish(self, day: int) -> None:
        published = np.flatnonzero(self.world.publishes[:, day] > 0)
        self.previous_article[published] = self.latest_article[published]
        self.latest_article[published] = day

    def _articles(self, accounts: np.ndarray, day: int, older_too: bool = True) -> np.ndarray:
        """The article each audience event of `accounts` reads (None before any, or before article ids existed).

        Drawn without the day's random stream, so the other columns stay what they were for the seed.
        """
        articles = np.full(accounts.size, None, dtype=object)
        if day < ARTICLE_IDS_FROM_DAY or accounts.size == 0:
            return articles
        chosen = self.latest_article[accounts].copy()
        if older_too:
            older = (np.arange(accounts.size) % OLDER_ARTICLE_EVERY == OLDER_ARTICLE_EVERY - 1) & (
                self.previous_article[accounts] >= 0
            )
            chosen[older] = self.previous_article[accounts][older]
        named = chosen >= 0
        if not named.any():  # none of them has published yet (at 10x the bench size, a viral account can be new)
            return articles
        stems = np.char.add(self.world.accounts.account_id[accounts[named]].astype(str), "-art")
        articles[named] = np.char.add(stems, np.char.zfill(chosen[named].astype(str), 3)).astype(object)
        return articles

    def _event_ids(self, count: int) -> np.ndarray:
        numbers = np.arange(self.next_event, self.next_event + count)
        self.next_event += count
        return np.char.add("ev", np.char.zfill(numbers.astype(str), 10)).astype(object)

    def _active_users(self, day: int) -> np.ndarray:
        users = self.world.users
        suspended = (users.suspended_from <= day) & (day <= users.suspended_until)
        return (users.reg_day < day) & ~suspended & (day < users.closed_from)

    def _viral(self, rng: np.random.Generator, day: int, active: np.ndarray) -> tuple[Rows, Rows]:
        """Extra reads, shares and follows of the day's viral accounts, from established users active before."""
        users = self.world.users
        pool = np.flatnonzero(
            active & (users.reg_day <= day - ESTABLISHED_DAYS) & (users.weight > 0) & (self.user_activity > 0)
        )
        parts: dict[str, list[np.ndarray]] = {"account": [], "audience_account": [], "follower": [], "actor": []}
        seconds: dict[str, list[np.ndarray]] = {"follow": [], "audience": []}
        for viral in self.world.plants.viral:
            if viral.day != day or pool.size == 0:
                continue
            hours = np.where(np.arange(24) >= viral.from_hour, AUDIENCE_HOURS, 0.0)
            chance = users.weight[pool] / users.weight[pool].sum()
            followers = rng.choice(pool, size=min(viral.follows, pool.size), replace=False, p=chance)
            parts["account"].append(np.full(followers.size, viral.account))
            parts["follower"].append(followers)
            seconds["follow"].append(random_seconds(rng, hours, followers.size))
            parts["audience_account"].append(np.full(viral.audience, viral.account))
            parts["actor"].append(rng.choice(pool, size=viral.audience, p=chance))
            seconds["audience"].append(random_seconds(rng, hours, viral.audience))
        joined = {name: np.concatenate(values) if values else np.zeros(0, np.int64) for name, values in parts.items()}
        follow_sec, audience_sec = (
            np.concatenate(values) if values else np.zeros(0, np.int64) for values in seconds.values()
        )
        audience_types = np.where(rng.random(joined["actor"].size) < 0.94, "read", "share").astype(object)
        engagement = Rows(
            {
                "account": joined["audience_account"],
                "actor": joined["actor"],
                "event_type": audience_types,
                "second": audience_sec,
                # One article goes viral: the account's latest.
                "content_id": self._articles(joined["audience_account"], day, older_too=False),
            }
        )
        follows = Rows({"account": joined["account"], "user": joined["follower"], "second": follow_sec})
        return engagement, follows

    # Long: one day's traffic drawn in a fixed order (organic, then each plant); the seed's stream depends on it.
    def day(self, rng: np.random.Generator, day: int) -> tuple[Rows, Rows]:
        """Engagement and subscription events that happened on `day` (platform time), ids assigned."""
        world = self.world
        day_start = (world.start - EPOCH).days * SECONDS_PER_DAY + day * SECONDS_PER_DAY
        user_ids = world.accounts.account_id[world.n_public : world.n_public + world.users.reg_day.size]

        using = np.flatnonzero(world.logins[:, day])
        login_accounts = np.repeat(using, world.logins[using, day])
        publish_accounts = np.repeat(using, world.publishes[using, day])
        use_accounts = np.concatenate([login_accounts, publish_accounts])
        use_types = np.array(["login"] * login_accounts.size + ["publish"] * publish_accounts.size, dtype=object)
        use_seconds = random_seconds(rng, OPERATOR_HOURS, use_accounts.size)
        # On a registration or reactivation day the operator acts only after that row's time.
        earliest = np.where(world.reg_day[use_accounts] == day, world.reg_sec[use_accounts], -1)
        anchored_on_reactivation = world.react_day[use_accounts] == day
        earliest = np.where(anchored_on_reactivation, world.react_sec[use_accounts], earliest)
        anchored = earliest >= 0
        room = SECONDS_PER_DAY - 61 - earliest
        use_seconds = np.where(anchored, earliest + 60 + use_seconds % np.maximum(room, 1), use_seconds)
        operator_pick = rng.integers(0, 1 << 30, size=use_accounts.size) % world.operator_count[use_accounts]
        operators = world.operator_ids[world.operator_start[use_accounts] + operator_pick]

        self._publish(day)
        weights = world.account_weight[day]
        active = self._active_users(day)
        audience_weights = world.users.weight * active
        follow_weights = world.users.follow_weight * active
        audience_count = int(world.audience_per_day[day]) if weights.sum() > 0 and audience_weights.sum() > 0 else 0
        audience_accounts = weighted_choice(rng, weights, audience_count)
        audience_users = weighted_choice(rng, audience_weights, audience_count)
        audience_types = np.array(AUDIENCE_EVENT_TYPES, dtype=object)[
            rng.choice(4, size=audience_count, p=[0.8, 0.1, 0.05, 0.05])
        ]
        counts = np.ones(audience_count, dtype=np.int64)
        is_read = audience_types == "read"
        aggregated = rng.random(audience_count) < np.where(is_read, 0.25, 0.05)
        counts[aggregated] += rng.geometric(np.where(is_read, 0.3, 0.5)[aggregated])
        actors = user_ids[audience_users].copy()
        anonymous = is_read & (rng.random(audience_count) < 0.02)
        actors[anonymous] = None
        viral_audience, viral_follows = self._viral(rng, day, active)
        self.user_activity += np.bincount(audience_users[~anonymous], minlength=self.user_activity.size)
        extra = len(viral_audience)

        engagement = Rows(
            {
                "account": np.concatenate([use_accounts, audience_accounts, viral_audience.columns["account"]]),
                "actor_id": np.concatenate([operators, actors, user_ids[viral_audience.columns["actor"]]]),
                "event_type": np.concatenate([use_types, audience_types, viral_audience.columns["event_type"]]),
                "local_sec": day_start
                + np.concatenate(
                    [
                        use_seconds,
                        random_seconds(rng, AUDIENCE_HOURS, audience_count),
                        viral_audience.columns["second"],
                    ]
                ),
                "count": np.concatenate([np.ones(use_accounts.size, dtype=np.int64), counts, np.ones(extra, np.int64)]),
                "content_id": np.concatenate(
                    [
                        np.full(use_accounts.size, None, dtype=object),
                        self._articles(audience_accounts, day),
                        viral_audience.columns["content_id"],
                    ]
                ),
                "may_be_late": np.concatenate([~anchored_on_reactivation, np.ones(audience_count + extra, dtype=bool)]),
                "audience": np.concatenate(
                    [np.zeros(use_accounts.size, dtype=bool), np.ones(audience_count + extra, dtype=bool)]
                ),
            }
        )

        follow_total = int(world.follows_per_day[day]) if weights.sum() > 0 and follow_weights.sum() > 0 else 0
        follows = int(rng.binomial(follow_total, FOLLOW_SHARE))
        follow_accounts = np.concatenate([weighted_choice(rng, weights, follows), viral_follows.columns["account"]])
        follow_users = np.concatenate([weighted_choice(rng, follow_weights, follows), viral_follows.columns["user"]])
        follow_sec = np.concatenate([random_seconds(rng, AUDIENCE_HOURS, follows), viral_follows.columns["second"]])
        unfollows = follow_total - follows if self.follow_count else 0
        earlier = rng.integers(0, max(self.follow_count, 1), size=unfollows)
        unfollow_accounts = self.followed_account[earlier]
        unfollow_users = self.followed_user[earlier]
        still_there = (weights[unfollow_accounts] > 0) & (follow_weights[unfollow_users] > 0)
        unfollow_accounts, unfollow_users = unfollow_accounts[still_there], unfollow_users[still_there]
        organic = follow_accounts.size
        self.followed_account[self.follow_count : self.follow_count + organic] = follow_accounts
        self.followed_user[self.follow_count : self.follow_count + organic] = follow_users
        self.follow_count += organic
        # Bought follows are never unfollowed and always land in their own day's folder.
        bought = world.plants.bought
        first, last = np.searchsorted(bought["day"], [day, day + 1])
        organic_count = organic + unfollow_accounts.size
        sub_count = organic_count + last - first
        channels = CHANNELS[rng.choice(CHANNELS.size, size=sub_count, p=CHANNEL_SHARE)].astype(object)
        channels[rng.random(sub_count) < 0.05] = None
        subscriptions = Rows(
            {
                "account": np.concatenate([follow_accounts, unfollow_accounts, bought["account"][first:last]]),
                "user_id": np.concatenate(
                    [
                        user_ids[np.concatenate([follow_users, unfollow_users])],
                        world.accounts.account_id[world.bought_user[first:last]],
                    ]
                ),
                "action": np.array(
                    ["follow"] * organic + ["unfollow"] * unfollow_accounts.size + ["follow"] * (last - first),
                    dtype=object,
                ),
                "local_sec": day_start
                + np.concatenate(
                    [
                        follow_sec,
                        random_seconds(rng, AUDIENCE_HOURS, unfollow_accounts.size),
                        bought["second"][first:last],
                    ]
                ),
                "channel": channels,
                "may_be_late": np.arange(sub_count) < organic_count,
                "audience": np.arange(sub_count) < organic_count,
            }
        )
        return self._with_ids(engagement), self._with_ids(subscriptions)

    def _with_ids(self, events: Rows) -> Rows:
        in_time_order = np.argsort(events.columns["local_sec"], kind="stable")
        ordered = events.take(in_time_order)
        ordered.columns["event_id"] = self._event_ids(len(ordered))
        return ordered

    def fresh_ids(self, count: int) -> np.ndarray:
        return self._event_ids(count)


def day_weights(rng: np.random.Generator, start: date, days: int) -> np.ndarray:
    """Each day's share of the period's events: weekday pattern, slow growth and noise."""
    weekdays = np.array([(start + timedelta(days=day)).weekday() for day in range(days)])
    growth = 1.0 + 0.3 * np.arange(days) / days
    weights = WEEKDAY_FACTOR[weekdays] * growth * rng.lognormal(0.0, 0.08, size=days)
    return weights / weights.sum()
