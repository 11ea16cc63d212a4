"""fake_follower_spike: a day's follows far above the account's own baseline, from followers that look bought.

Followers look bought when they are inactive and young, batch-registered or in lockstep with another account's
new followers, or (aged stock, which none of those signals sees) when many of them were registered within a
few days of each other long before: a follower market sells accounts it registered in bulk months earlier,
while an organic crowd's registrations spread over years.

Every count is taken "as of" its run date: only rows delivered in folders up to that day, so a nightly run
and a backfill that has loaded later days see the same figures.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Any

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from accountwatch.jobs.core.config import Settings, SpikeSettings
from accountwatch.jobs.core.lake import Lake
from accountwatch.jobs.detectors import batch_registration
from accountwatch.jobs.detectors.base import (
    BlacklistRole,
    Detection,
    Detector,
    FindingView,
    RawRows,
    RunInputs,
    Scoring,
)
from accountwatch.jobs.detectors.robust import robust_z
from accountwatch.jobs.ingest.landing import days_between

NAME = "fake_follower_spike"

MAX_PARTNERS = 5


def day_totals(start: date, end: date, min_follows: int) -> Callable[[DataFrame], DataFrame]:
    """Per account and run day: follows, reads and shares as of that day, where follows reach min_follows."""

    def transform(daily: DataFrame) -> DataFrame:
        return (
            daily.where(
                (F.col("event_date") >= F.lit(start))
                & (F.col("event_date") <= F.lit(end))
                & (F.col("ingest_date") <= F.col("event_date"))
            )
            .groupBy("account_id", F.col("event_date").alias("run_date"))
            .agg(
                F.sum("follows").alias("follows"),
                (F.sum("reads") + F.sum("shares")).alias("audience"),
            )
            .where(F.col("follows") >= min_follows)
        )

    return transform


# Long: median, MAD and weekday median over the same trailing window, one Spark plan.
def follow_baselines(daily: DataFrame, baseline_days: int) -> Callable[[DataFrame], DataFrame]:
    """Add each candidate's robust baseline over the trailing days it existed: median, MAD, weekday median.

    Days without follows count as zero; days before the account's registration do not count at all.
    """

    def transform(candidates: DataFrame) -> DataFrame:
        grid = candidates.select(
            "account_id",
            "run_date",
            F.explode(F.sequence(F.date_sub("run_date", baseline_days), F.date_sub("run_date", 1))).alias("day"),
            "registered_at",
        ).where(F.col("day") >= F.to_date("registered_at"))
        delivered = daily.select(
            F.col("account_id").alias("_account"),
            F.col("event_date").alias("_day"),
            F.col("ingest_date").alias("_ingest"),
            "follows",
            (F.col("reads") + F.col("shares")).alias("audience"),
        )
        as_of = (
            (F.col("account_id") == F.col("_account"))
            & (F.col("day") == F.col("_day"))
            & (F.col("_ingest") <= F.col("run_date"))
        )
        per_day = (
            grid.join(delivered, as_of, "left")
            .groupBy("account_id", "run_date", "day")
            .agg(
                F.coalesce(F.sum("follows"), F.lit(0)).alias("day_follows"),
                F.coalesce(F.sum("audience"), F.lit(0)).alias("day_audience"),
            )
        )
        same_weekday = F.dayofweek("day") == F.dayofweek("run_date")
        medians = per_day.groupBy("account_id", "run_date").agg(
            F.count("*").alias("baseline_days"),
            F.median("day_follows").alias("median_follows"),
            F.median(F.when(same_weekday, F.col("day_follows"))).alias("weekday_median_follows"),
            F.median("day_audience").alias("median_audience"),
        )
        spread = (
            per_day.join(medians, ["account_id", "run_date"])
            .groupBy("account_id", "run_date")
            .agg(F.median(F.abs(F.col("day_follows") - F.col("median_follows"))).alias("mad_follows"))
        )
        expected = F.greatest(
            F.coalesce("median_follows", F.lit(0.0)), F.coalesce("weekday_median_follows", F.lit(0.0))
        )
        scale, z = robust_z(F.col("follows"), F.col("expected_follows"), F.coalesce("mad_follows", F.lit(0.0)))
        return (
            candidates.join(medians, ["account_id", "run_date"], "left")
            .join(spread, ["account_id", "run_date"], "left")
            .fillna({"baseline_days": 0})
            .withColumn("expected_follows", expected.cast("double"))
            .withColumn("baseline_scale", scale)
            .withColumn("z", z)
        )

    return transform


def _share(part: Column, whole: Column) -> Column:
    return F.round(F.when(whole > 0, part / whole).otherwise(F.lit(0.0)), 3)


def new_followers(
    users: DataFrame, activity: DataFrame, batch_flags: DataFrame, young_days: int
) -> Callable[[DataFrame], DataFrame]:
    """Candidate follows (account_id, run_date, user_id, event_ts) with the follower's signals as of run_date.

    young: registered within `young_days`; batch: flagged by batch_registration by then; inactive: no read,
    like, share or comment delivered by then; suspicious: inactive and young or batch (`mark_lockstep` adds
    inactive followers in lockstep).
    """

    def transform(follows: DataFrame) -> DataFrame:
        registered = users.select(
            F.col("account_id").alias("user_id"), F.col("registered_at").alias("user_registered_at")
        )
        first_batch = batch_flags.groupBy(F.col("account_id").alias("user_id")).agg(
            F.min("run_date").alias("batch_flagged_on")
        )
        young = F.col("user_registered_at") >= F.to_timestamp(F.date_sub("run_date", young_days - 1))
        in_batch = F.coalesce(F.col("batch_flagged_on") <= F.col("run_date"), F.lit(False))
        inactive = F.col("first_active_on").isNull() | (F.col("first_active_on") > F.col("run_date"))
        return (
            follows.join(registered, "user_id", "left")
            .join(activity.select("user_id", "first_active_on"), "user_id", "left")
            .join(first_batch, "user_id", "left")
            .withColumn("young", F.coalesce(young, F.lit(False)))
            .withColumn("batch", in_batch)
            .withColumn("inactive", inactive)
            .withColumn("suspicious", F.col("inactive") & (F.col("young") | F.col("batch")))
        )

    return transform


def lockstep_links(all_follows: DataFrame, window_minutes: int, min_common: int) -> Callable[[DataFrame], DataFrame]:
    """Candidate followers shared, within the window, with another account gaining many of the same followers.

    Returns (run_date, account_id, partner, user_id, common_followers), one row per follower of a strong pair.
    """

    def transform(followers: DataFrame) -> DataFrame:
        mine = followers.select("run_date", "account_id", "user_id", F.col("event_ts").alias("_ts"))
        theirs = all_follows.select(
            "run_date", F.col("account_id").alias("partner"), "user_id", F.col("event_ts").alias("_partner_ts")
        ).join(mine.select("run_date", "user_id").distinct(), ["run_date", "user_id"], "left_semi")
        close = (F.col("partner") != F.col("account_id")) & (
            F.abs(F.col("_ts").cast("long") - F.col("_partner_ts").cast("long")) <= window_minutes * 60
        )
        pairs = (
            mine.join(theirs, ["run_date", "user_id"])
            .where(close)
            .select("run_date", "account_id", "partner", "user_id")
            .distinct()
        )
        strong = (
            pairs.groupBy("run_date", "account_id", "partner")
            .agg(F.count("*").alias("common_followers"))
            .where(F.col("common_followers") >= min_common)
        )
        return pairs.join(strong, ["run_date", "account_id", "partner"])

    return transform


def lockstep_summary(links: DataFrame) -> DataFrame:
    """Per account and day: how many followers are in lockstep, and the strongest partners."""
    lockstep_users = links.groupBy("run_date", "account_id").agg(F.countDistinct("user_id").alias("lockstep_followers"))
    partners = (
        links.select("run_date", "account_id", "partner", "common_followers")
        .distinct()
        .groupBy("run_date", "account_id")
        .agg(
            F.slice(
                F.sort_array(F.collect_list(F.struct("common_followers", "partner")), asc=False), 1, MAX_PARTNERS
            ).alias("_top")
        )
    )
    return lockstep_users.join(partners, ["run_date", "account_id"]).select(
        "run_date",
        "account_id",
        "lockstep_followers",
        F.transform(
            "_top",
            lambda entry: F.struct(
                entry["partner"].alias("account_id"), entry["common_followers"].alias("common_followers")
            ),
        ).alias("lockstep_partners"),
    )


def lockstep(all_follows: DataFrame, window_minutes: int, min_common: int) -> Callable[[DataFrame], DataFrame]:
    """Per candidate account and day: followers it shares, within the window, with other accounts gaining many of them.

    Returns (account_id, run_date, lockstep_followers, lockstep_partners) for accounts with a partner.
    """

    def transform(followers: DataFrame) -> DataFrame:
        return lockstep_summary(followers.transform(lockstep_links(all_follows, window_minutes, min_common)))

    return transform


def mark_lockstep(links: DataFrame) -> Callable[[DataFrame], DataFrame]:
    """Mark followers in lockstep; an inactive follower in lockstep is suspicious even when neither young nor batch."""

    def transform(followers: DataFrame) -> DataFrame:
        in_step = links.select("run_date", "account_id", "user_id").distinct().withColumn("lockstep", F.lit(True))
        return (
            followers.join(in_step, ["run_date", "account_id", "user_id"], "left")
            .withColumn("lockstep", F.coalesce("lockstep", F.lit(False)))
            .withColumn("suspicious", F.col("suspicious") | (F.col("inactive") & F.col("lockstep")))
        )

    return transform


def registration_clusters(young_days: int, cluster_days: int, sample_size: int) -> Callable[[DataFrame], DataFrame]:
    """Per account and day: the most new followers registered within `cluster_days` of each other, long before.

    Only followers registered more than `young_days` before the day count (young ones are a signal of their own).
    Returns (account_id, run_date, clustered_followers, cluster_registered_from, cluster_registered_to,
    cluster_sample_ids).
    """

    def transform(followers: DataFrame) -> DataFrame:
        aged = followers.where(
            F.col("user_registered_at") < F.to_timestamp(F.date_sub("run_date", young_days - 1))
        ).withColumn("_registered_on", F.to_date("user_registered_at"))
        per_day = aged.groupBy("account_id", "run_date", "_registered_on").agg(
            F.count_distinct("user_id").alias("_registered")
        )
        day_number = F.datediff(F.col("_registered_on"), F.lit(date(1970, 1, 1)))
        span = Window.partitionBy("account_id", "run_date").orderBy(day_number).rangeBetween(-(cluster_days - 1), 0)
        densest = Window.partitionBy("account_id", "run_date").orderBy(F.desc("_in_span"), "_registered_on")
        clusters = (
            per_day.withColumn("_in_span", F.sum("_registered").over(span))
            .withColumn("_rank", F.row_number().over(densest))
            .where(F.col("_rank") == 1)
            .select(
                "account_id",
                "run_date",
                F.col("_in_span").alias("clustered_followers"),
                F.date_sub("_registered_on", cluster_days - 1).alias("cluster_registered_from"),
                F.col("_registered_on").alias("cluster_registered_to"),
            )
        )
        members = aged.join(clusters, ["account_id", "run_date"]).where(
            F.col("_registered_on").between(F.col("cluster_registered_from"), F.col("cluster_registered_to"))
        )
        sample = members.groupBy("account_id", "run_date").agg(
            F.slice(F.array_sort(F.collect_set("user_id")), 1, sample_size).alias("cluster_sample_ids")
        )
        return clusters.join(sample, ["account_id", "run_date"], "left")

    return transform


def follower_quality(sample_size: int) -> Callable[[DataFrame], DataFrame]:
    """Per account and day: counts of followers by signal, the delivery window and a sample of suspicious ids."""

    def transform(followers: DataFrame) -> DataFrame:
        def count_of(flag: str) -> Column:
            return F.count_distinct(F.when(F.col(flag), F.col("user_id")))

        return followers.groupBy("account_id", "run_date").agg(
            F.count_distinct("user_id").alias("new_followers"),
            count_of("young").alias("young_followers"),
            count_of("batch").alias("batch_followers"),
            count_of("inactive").alias("inactive_followers"),
            count_of("suspicious").alias("suspicious_followers"),
            F.min(F.when(F.col("suspicious"), F.col("event_ts"))).alias("first_suspicious_follow_at"),
            F.max(F.when(F.col("suspicious"), F.col("event_ts"))).alias("last_suspicious_follow_at"),
            F.slice(F.array_sort(F.collect_set(F.when(F.col("suspicious"), F.col("user_id")))), 1, sample_size).alias(
                "sample_follower_ids"
            ),
        )

    return transform


# Long: the three signals' thresholds and the evidence struct that shows each of them, one Spark plan.
def spike_findings(settings: SpikeSettings) -> Callable[[DataFrame], DataFrame]:
    """Judged candidates (baseline, follower quality, lockstep) to finding rows for the ones that look bought."""

    def transform(judged: DataFrame) -> DataFrame:
        excess = F.col("follows") - F.col("expected_follows")
        lockstep_share = _share(F.coalesce("lockstep_followers", F.lit(0)), F.col("new_followers"))
        clustered = F.coalesce(F.col("clustered_followers"), F.lit(0))
        cluster_share = _share(clustered, F.col("new_followers"))

        def explains_excess(followers: Column) -> Column:
            return (followers >= settings.min_suspicious_followers) & (
                followers >= F.lit(settings.min_suspicious_share_of_excess) * F.col("excess_follows")
            )

        signals = F.filter(
            F.array(
                F.when(explains_excess(F.col("suspicious_followers")), F.lit("bought_followers")),
                F.when(explains_excess(clustered) & (cluster_share >= settings.min_cluster_share), F.lit("aged_stock")),
            ),
            lambda signal: signal.isNotNull(),
        )
        flagged = (
            judged.withColumn("excess_follows", excess)
            .withColumn("signals", signals)
            .where((F.col("z") >= settings.min_z) & (F.size("signals") > 0))
        )
        # Aged stock counts as suspicious for the severity and the score.
        suspicious = F.greatest(
            F.col("suspicious_followers"), F.when(F.array_contains("signals", "aged_stock"), clustered).otherwise(0)
        )
        suspicious_share = _share(suspicious, F.col("new_followers"))
        severity = (
            F.when(
                (suspicious >= settings.high_suspicious_followers) | (lockstep_share >= settings.high_lockstep_share),
                "high",
            )
            .when(suspicious >= settings.medium_suspicious_followers, "medium")
            .otherwise("low")
        )
        evidence = F.to_json(
            F.struct(
                F.struct(
                    F.lit(settings.baseline_days).alias("window_days"),
                    "baseline_days",
                    "median_follows",
                    "weekday_median_follows",
                    "mad_follows",
                    F.round("expected_follows", 2).alias("expected_follows"),
                    F.round("baseline_scale", 3).alias("scale"),
                    "median_audience",
                ).alias("baseline"),
                F.col("follows").alias("observed_follows"),
                F.round("excess_follows", 2).alias("excess_follows"),
                F.round("z", 2).alias("z"),
                F.col("audience").alias("observed_reads_and_shares"),
                "new_followers",
                F.struct(
                    _share(F.col("young_followers"), F.col("new_followers")).alias("young"),
                    _share(F.col("batch_followers"), F.col("new_followers")).alias("batch_registered"),
                    _share(F.col("inactive_followers"), F.col("new_followers")).alias("inactive"),
                    suspicious_share.alias("suspicious"),
                    lockstep_share.alias("lockstep"),
                ).alias("follower_shares"),
                "suspicious_followers",
                "signals",
                F.struct(
                    clustered.alias("followers"),
                    cluster_share.alias("share"),
                    "cluster_registered_from",
                    "cluster_registered_to",
                    F.lit(settings.cluster_days).alias("days"),
                ).alias("registration_cluster"),
                "first_suspicious_follow_at",
                "last_suspicious_follow_at",
                F.coalesce("lockstep_partners", F.array()).alias("lockstep_partners"),
                # The suspicious followers, or for aged stock alone the clustered ones.
                F.when(F.size("sample_follower_ids") > 0, F.col("sample_follower_ids"))
                .otherwise(F.coalesce("cluster_sample_ids", F.array().cast("array<string>")))
                .alias("sample_follower_ids"),
            ),
            {"ignoreNullFields": "false"},
        )
        score = F.least(F.col("z"), F.lit(50.0)) / 10 + suspicious_share + lockstep_share
        return flagged.select(
            "run_date",
            "account_id",
            "subject_id",
            severity.alias("severity"),
            F.round(score, 3).cast("double").alias("score"),
            evidence.alias("evidence"),
        )

    return transform


def judge_spikes(
    daily: DataFrame,
    follows: DataFrame,
    accounts: DataFrame,
    activity: DataFrame,
    batch_flags: DataFrame,
    start: date,
    end: date,
    settings: SpikeSettings,
) -> DataFrame:
    """fake_follower_spike finding rows for the run days start..end.

    daily: account_daily; follows: follow events of the run days (run_date = event_date, delivered by then);
    accounts: current account state; activity: user_activity; batch_flags: batch_registration (account_id, run_date).
    """
    public = accounts.where(F.col("account_type") == "public").select("account_id", "subject_id", "registered_at")
    candidates = daily.transform(day_totals(start, end, settings.min_follows)).join(public, "account_id")
    baselined = candidates.transform(follow_baselines(daily, settings.baseline_days))
    followers = (
        follows.join(candidates.select("account_id", "run_date"), ["account_id", "run_date"], "left_semi")
        .transform(new_followers(accounts, activity, batch_flags, settings.young_days))
        .persist()
    )
    links = followers.transform(
        lockstep_links(follows, settings.lockstep_window_minutes, settings.lockstep_min_common)
    ).persist()
    try:
        quality = followers.transform(mark_lockstep(links)).transform(follower_quality(settings.sample_followers))
        clusters = followers.transform(
            registration_clusters(settings.young_days, settings.cluster_days, settings.sample_followers)
        )
        judged = (
            baselined.join(quality, ["account_id", "run_date"])
            .join(lockstep_summary(links), ["account_id", "run_date"], "left")
            .join(clusters, ["account_id", "run_date"], "left")
        )
        return judged.transform(spike_findings(settings)).localCheckpoint()
    finally:
        links.unpersist()
        followers.unpersist()


def run_day_follows(subscriptions: DataFrame, start: date, end: date) -> DataFrame:
    """Follow events of the run days start..end as delivered by their day: (run_date, account_id, user_id, event_ts)."""
    return subscriptions.where(
        (F.col("event_date") >= F.lit(start))
        & (F.col("event_date") <= F.lit(end))
        & (F.col("action") == "follow")
        & (F.col("ingest_date") <= F.col("event_date"))
    ).select(F.col("event_date").alias("run_date"), "account_id", "user_id", "event_ts")


def spike_history_gap(
    day: date, baseline_days: int, min_loaded: int, loaded: set[date], table: str = "subscriptions"
) -> str | None:
    """Why the loaded `table` cannot give `day` a baseline, or None when it can."""
    needed = days_between(day - timedelta(days=baseline_days), day - timedelta(days=1))
    have = sum(1 for d in needed if d in loaded)
    if have >= min_loaded:
        return None
    return (
        f"history too short: {table} {'is' if table == 'engagement' else 'are'} loaded for {have} of the "
        f"{len(needed)} baseline days "
        f"from {needed[0].isoformat()} to {needed[-1].isoformat()} ({min_loaded} needed)"
    )


def follower_spikes(
    lake: Lake, start: date, end: date, judged: list[date], batch_found: DataFrame, settings: Settings
) -> DataFrame:
    """fake_follower_spike finding rows for the judged days of start..end."""
    baseline_start = start - timedelta(days=settings.spike.baseline_days + 1)
    daily = lake.read("account_daily").where(
        (F.col("ingest_date") >= F.lit(baseline_start)) & (F.col("ingest_date") <= F.lit(end))
    )
    batch_flags = (
        lake.read("findings")
        .where((F.col("detector") == batch_registration.NAME) & (F.col("run_date") < F.lit(start)))
        .select("account_id", "run_date")
        .unionByName(batch_found.select("account_id", "run_date"))
    )
    found = judge_spikes(
        daily,
        run_day_follows(lake.read("subscriptions"), start, end),
        lake.read("accounts"),
        lake.read("user_activity"),
        batch_flags,
        start,
        end,
        settings.spike,
    )
    return found.where(F.col("run_date").isin(*judged))


def history_gap(day: date, settings: Settings, loaded: Mapping[str, set[date]]) -> str | None:
    """Why the loaded subscriptions cannot give `day` a baseline, or None."""
    return spike_history_gap(
        day, settings.spike.baseline_days, settings.spike.min_loaded_baseline_days, loaded["subscriptions"]
    )


def find(inputs: RunInputs) -> Detection:
    """The run's follower spikes on its judged days; followers flagged by batch_registration look bought."""
    batch_found = inputs.found[batch_registration.NAME]
    return Detection(
        follower_spikes(inputs.lake, inputs.start, inputs.end, inputs.judged, batch_found, inputs.settings)
    )


def sentence(evidence: dict[str, Any]) -> str:
    """What a fake_follower_spike finding shows, in one sentence."""
    baseline = evidence.get("baseline", {})
    return (
        f"{evidence.get('observed_follows')} new followers against an expected "
        f"{baseline.get('expected_follows')} (z {evidence.get('z')}); "
        f"{evidence.get('suspicious_followers')} of them look bought"
    )


def raw_rows(finding: FindingView) -> RawRows:
    """The day's follow events of the account."""
    return RawRows(follows=((finding.account_id, finding.run_date),))


def evidence_key() -> list[Column]:
    """A spike day is its own evidence."""
    return [F.col("run_date").cast("string")]


DETECTOR = Detector(
    name=NAME,
    rule="no faked follower numbers",
    section=NAME,
    reads=("account_daily", "subscriptions", "accounts", "user_activity", "findings", "loaded_days"),
    phase="before_blacklist",
    severities=("low", "medium", "high"),
    sentence=sentence,
    raw_rows=raw_rows,
    evidence_key=evidence_key,
    scoring=Scoring(
        case="account_day",
        planted=lambda truth: truth.bought_followers(),
        ignored=lambda truth: truth.drip_days(),
        look_alikes=lambda truth: truth.viral_days | truth.aged_stock_look_alikes,
        look_alike_case="account_day",
    ),
    blacklist_role=BlacklistRole.REPEATED_ON_ACCOUNT,
    find=find,
    history_gap=history_gap,
    needs=(batch_registration.NAME,),
    progress="looking for follower spikes",
)
