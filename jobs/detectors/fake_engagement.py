"""fake_engagement: a day's reads, likes, shares and comments far above the account's own baseline, from bought actors.

Per public account and day D: the audience events (reads, likes, shares, comments, counts included) delivered by D
against the account's robust baseline of the `baseline_days` before (median and MAD, as `fake_follower_spike` takes
its own), or whose top article (the day's largest audience of one article) is far above the account's top article of
those days (an article bought inside a big account's noisy day: then only that article's actors are judged), or
one of whose articles is far above the account's earlier articles on the same day of their life (an article bought
days after it came out, `engagement_articles`: then only that article's actors are judged); a candidate day must
also reach `min_events`. The day's actors are then judged as of D: new (their first read, like,
share or comment anywhere came within `new_actor_days`), young (registered within `young_days`), active nowhere else
(no read, like, share or comment on another account by D), device-sharing (acting from a phone that
`min_actors_per_device` actors used that day: a farm, even of aged accounts warmed up elsewhere), in lockstep (the
same crowd working spiking accounts of other subjects within the same hour) or repeating (one action on one article
`min_repeats` times). Bought engagement is a day whose excess over the baseline comes mostly from such actors; or
from a few repeating actors (a read bot pumping one article's count); or a day whose ratios break: likes, shares or
comments per read far above the account's own over the baseline days (`ratio_factor` times, and at least
`min_ratio`), mostly from actors who did not read the account that day (a like farm of established accounts).
Organic virality (a viral article, a news day, the surge after a broadcast push, a campus behind one address) is
read by established readers who read what they like and share, and is never flagged however high it goes.

Every figure is "as of" D (rows delivered in folders up to D), so a nightly run and a backfill agree. Reads the
compact `account_daily` and `article_daily` for the baselines, the run days' engagement rows of the candidate
accounts only, and the compact `user_activity` and `accounts` for the actors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from accountwatch.jobs.core.config import EngagementSettings, Settings
from accountwatch.jobs.detectors.base import Detection, Detector, FindingView, RawRows, RunInputs, Scoring
from accountwatch.jobs.detectors.engagement_actors import day_actors
from accountwatch.jobs.detectors.engagement_articles import article_age_spikes, first_read_day
from accountwatch.jobs.detectors.fake_follower_spike import spike_history_gap
from accountwatch.jobs.detectors.robust import robust_z
from accountwatch.schemas.landing import AUDIENCE_EVENT_TYPES

NAME = "fake_engagement"
KINDS = ("reads", "likes", "shares", "comments")
# The audience's reactions to an article, each compared per read.
REACTIONS = ("likes", "shares", "comments")


def _audience() -> Column:
    return F.col("reads") + F.col("likes") + F.col("shares") + F.col("comments")


def audience_days(start: date, end: date, min_events: int) -> Callable[[DataFrame], DataFrame]:
    """Per account and run day of start..end: its audience events as of that day, where they reach `min_events`."""

    def transform(daily: DataFrame) -> DataFrame:
        on_time = F.col("event_date").between(F.lit(start), F.lit(end)) & (F.col("ingest_date") <= F.col("event_date"))
        return (
            daily.where(on_time)
            .groupBy("account_id", F.col("event_date").alias("run_date"))
            .agg(
                F.sum(_audience()).alias("events"),
                F.sum("reads").alias("reads"),
                F.sum("likes").alias("likes"),
                F.sum("shares").alias("shares"),
                F.sum("comments").alias("comments"),
                F.max("top_article_events").alias("top_article"),
            )
            .where(F.col("events") >= min_events)
        )

    return transform


# Long: one grid of baseline days, its sums per kind, then the two robust baselines (the day's, the top article's).
def audience_baselines(daily: DataFrame, baseline_days: int) -> Callable[[DataFrame], DataFrame]:
    """Add each candidate day's baseline over the `baseline_days` before it, as delivered by then: median, MAD, z.

    Two baselines: the account's day (`expected_events`, `z`) and its top article's day (`expected_top`,
    `article_z`: the day's largest audience of one article against the days' largest before; an article bought
    inside a big account's steady day shows there first). Days without events count as zero.
    """

    def transform(candidates: DataFrame) -> DataFrame:
        grid = candidates.select(
            "account_id",
            "run_date",
            F.explode(F.sequence(F.date_sub("run_date", baseline_days), F.date_sub("run_date", 1))).alias("day"),
        )
        delivered = daily.select(
            F.col("account_id").alias("_account"),
            F.col("event_date").alias("_day"),
            F.col("ingest_date").alias("_ingest"),
            _audience().alias("_events"),
            F.col("top_article_events").alias("_top"),
            *[F.col(kind).alias(f"_{kind}") for kind in KINDS],
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
                F.coalesce(F.sum("_events"), F.lit(0)).alias("day_events"),
                # No row delivered: no audience, 0; rows that name no article (or were loaded before the top
                # article was kept): unknown, left out of the article baseline.
                F.when(F.count("_account") == 0, F.lit(0)).otherwise(F.max("_top")).alias("day_top"),
                *[F.coalesce(F.sum(f"_{kind}"), F.lit(0)).alias(f"day_{kind}") for kind in KINDS],
            )
        )
        medians = per_day.groupBy("account_id", "run_date").agg(
            F.median("day_events").alias("expected_events"),
            F.median("day_top").alias("expected_top"),
            F.count("day_top").alias("top_days"),
            *[F.sum(f"day_{kind}").alias(f"baseline_{kind}") for kind in KINDS],
        )
        spread = (
            per_day.join(medians, ["account_id", "run_date"])
            .groupBy("account_id", "run_date")
            .agg(
                F.median(F.abs(F.col("day_events") - F.col("expected_events"))).alias("mad_events"),
                F.median(F.abs(F.col("day_top") - F.col("expected_top"))).alias("mad_top"),
            )
        )
        scale, z = robust_z(F.col("events"), F.col("expected_events"), F.col("mad_events"))
        top_scale, top_z = robust_z(F.col("top_article"), F.col("expected_top"), F.col("mad_top"))
        return (
            candidates.join(medians, ["account_id", "run_date"])
            .join(spread, ["account_id", "run_date"])
            .withColumn("expected_events", F.col("expected_events").cast("double"))
            .withColumn("expected_top", F.col("expected_top").cast("double"))
            .withColumn("baseline_scale", scale)
            .withColumn("z", z)
            .withColumn("top_scale", top_scale)
            # The article baseline needs half of its days known (a lake loaded before it has none yet).
            .withColumn("article_z", F.when(F.col("top_days") * 2 >= baseline_days, top_z))
        )

    return transform


def ratio_breaks(settings: EngagementSettings) -> Callable[[DataFrame], DataFrame]:
    """Add per kind the day's and the baseline's count per read, and `ratio_break`: a kind far above its own.

    Needs the day's `reads`, `likes`, `shares`, `comments` and the baseline days' totals `baseline_<kind>`.
    """

    def transform(days: DataFrame) -> DataFrame:
        broken = F.lit(False)
        for kind in REACTIONS:
            day_ratio = F.col(kind) / F.greatest(F.col("reads"), F.lit(1))
            own_ratio = F.col(f"baseline_{kind}") / F.greatest(F.col("baseline_reads"), F.lit(1))
            days = days.withColumn(f"{kind}_per_read", day_ratio).withColumn(f"baseline_{kind}_per_read", own_ratio)
            broken = broken | (
                (F.col(kind) >= settings.min_ratio_events)
                & (F.col(f"{kind}_per_read") >= settings.min_ratio)
                & (F.col(f"{kind}_per_read") >= settings.ratio_factor * F.col(f"baseline_{kind}_per_read"))
            )
        return days.withColumn("ratio_break", broken)

    return transform


def _share(part: Column, whole: Column) -> Column:
    return F.round(F.when(whole > 0, part / whole).otherwise(F.lit(0.0)), 3)


# Long: one aggregation of the actors per day, then the three signals; splitting it would pass its columns around.
def engagement_findings(spikes: DataFrame, settings: EngagementSettings) -> Callable[[DataFrame], DataFrame]:
    """From the judged actors of the `spikes` days: the days whose excess the suspicious actors explain."""

    def transform(actors: DataFrame) -> DataFrame:
        suspicious = F.col("suspicious")

        def of_suspicious(column: str) -> Column:
            return F.sum(F.when(suspicious, F.col(column)).otherwise(0))

        quality = actors.groupBy("account_id", "run_date").agg(
            F.count("*").alias("actors"),
            F.sum(suspicious.cast("int")).alias("suspicious_actors"),
            of_suspicious("actor_events").alias("suspicious_events"),
            F.sum(F.col("new").cast("int")).alias("new_actors"),
            F.sum(F.col("young").cast("int")).alias("young_actors"),
            F.sum(F.col("sole").cast("int")).alias("sole_actors"),
            F.sum(F.col("shared_device").cast("int")).alias("shared_device_actors"),
            F.sum(F.col("lockstep").cast("int")).alias("lockstep_actors"),
            F.slice(
                F.array_sort(F.array_distinct(F.flatten(F.collect_list("lockstep_partners")))),
                1,
                20,
            ).alias("lockstep_partners"),
            F.sum(F.col("repeating").cast("int")).alias("repeating_actors"),
            F.sum(F.when(F.col("repeating"), F.col("actor_events")).otherwise(0)).alias("repeating_events"),
            F.max("max_repeats").alias("max_repeats"),
            F.sum("actor_reactions").alias("reactions"),
            F.sum(F.when(F.col("actor_reads") == 0, F.col("actor_reactions")).otherwise(0)).alias("unread_reactions"),
            F.size(F.array_distinct(F.flatten(F.collect_list(F.when(suspicious, F.col("devices")))))).alias(
                "suspicious_devices"
            ),
            F.size(F.array_distinct(F.flatten(F.collect_list(F.when(suspicious, F.col("networks")))))).alias(
                "suspicious_networks"
            ),
            F.slice(
                F.array_sort(F.collect_list(F.when(suspicious, F.col("actor_id")))), 1, settings.sample_actors
            ).alias("sample_actor_ids"),
            F.slice(F.array_sort(F.array_distinct(F.flatten(F.collect_list("contents")))), 1, 20).alias("content_ids"),
        )
        excess = F.col("excess")
        bought_actors = (F.col("suspicious_actors") >= settings.min_suspicious_actors) & (
            F.col("suspicious_events") >= settings.min_suspicious_share_of_excess * excess
        )
        unread = (
            F.col("ratio_break")
            & (F.col("unread_reactions") >= F.lit(settings.min_unread_share) * F.col("reactions"))
            & (F.col("reactions") > 0)
        )
        pumped = (F.col("repeating_actors") >= settings.min_repeating_actors) & (
            F.col("repeating_events") >= settings.min_suspicious_share_of_excess * excess
        )
        signals = F.filter(
            F.array(
                F.when(bought_actors, F.lit("actors")),
                F.when(unread, F.lit("ratios")),
                F.when(pumped, F.lit("repeats")),
            ),
            lambda s: s.isNotNull(),
        )
        return (
            quality.join(spikes, ["account_id", "run_date"]).withColumn("signals", signals).where(F.size("signals") > 0)
        )

    return transform


# Long: the evidence is one JSON struct listing every column an analyst reads; its length is that list.
def engagement_evidence(settings: EngagementSettings) -> Callable[[DataFrame], DataFrame]:
    """Finding columns: severity by the suspicious events, score the z against the baseline."""

    def transform(found: DataFrame) -> DataFrame:
        severity = (
            F.when(F.col("suspicious_events") >= settings.high_suspicious_events, "high")
            .when(F.col("suspicious_events") >= settings.medium_suspicious_events, "medium")
            .otherwise("low")
        )
        return found.select(
            "run_date",
            "account_id",
            "subject_id",
            severity.alias("severity"),
            F.round(F.greatest("z", "article_z", "age_z"), 2).cast("double").alias("score"),
            F.to_json(
                F.struct(
                    F.col("events").alias("observed_events"),
                    F.struct(
                        "reads",
                        "likes",
                        "shares",
                        "comments",
                        *[F.round(f"{kind}_per_read", 3).alias(f"{kind}_per_read") for kind in REACTIONS],
                    ).alias("by_type"),
                    F.struct(
                        *[F.round(f"baseline_{kind}_per_read", 3).alias(f"{kind}_per_read") for kind in REACTIONS],
                    ).alias("baseline_ratios"),
                    "signals",
                    "spike",
                    "reactions",
                    "unread_reactions",
                    F.struct(
                        F.col("expected_events"),
                        F.round("baseline_scale", 2).alias("scale"),
                        F.lit(settings.baseline_days).alias("days"),
                    ).alias("baseline"),
                    F.round("z", 2).alias("z"),
                    F.struct(
                        F.col("top_article").alias("observed_events"),
                        F.col("expected_top").alias("expected_events"),
                        F.round("top_scale", 2).alias("scale"),
                        F.round("article_z", 2).alias("z"),
                    ).alias("top_article"),
                    F.struct(
                        F.col("age_content").alias("content_id"),
                        F.col("age_first_day").alias("first_day"),
                        F.col("age_days").alias("age_days"),
                        F.col("age_observed").alias("observed_events"),
                        F.round("age_expected", 1).alias("expected_events"),
                        F.round("age_scale", 2).alias("scale"),
                        F.round("age_z", 2).alias("z"),
                        F.col("age_articles").alias("earlier_articles"),
                        "observed_by_age",
                        "expected_by_age",
                    ).alias("article_age"),
                    "actors",
                    "suspicious_actors",
                    "suspicious_events",
                    _share(F.col("suspicious_events"), F.col("excess")).alias("suspicious_share_of_excess"),
                    "new_actors",
                    "young_actors",
                    "sole_actors",
                    "shared_device_actors",
                    "lockstep_actors",
                    "lockstep_partners",
                    "repeating_actors",
                    "repeating_events",
                    "max_repeats",
                    "suspicious_devices",
                    "suspicious_networks",
                    "sample_actor_ids",
                    "content_ids",
                ),
                {"ignoreNullFields": "false"},
            ).alias("evidence"),
        )

    return transform


def on_spiking_article(spikes: DataFrame) -> Callable[[DataFrame], DataFrame]:
    """Keep of a day whose spike is an article's only that article's rows; an account's spiking day whole.

    A top-article spike's article is the one with the largest audience among the rows (ties: the greatest id), as
    `top_article` was; an article-age spike's is the one its baseline named (`age_content`).
    """

    def transform(rows: DataFrame) -> DataFrame:
        keys = ["account_id", "run_date"]
        article_days = spikes.where(F.col("spike") == "article").select(*keys)
        top = (
            rows.where(F.col("content_id").isNotNull())
            .join(article_days, keys, "semi")
            .groupBy(*keys, "content_id")
            .agg(F.sum("count").alias("_events"))
            .groupBy(*keys)
            .agg(F.max(F.struct("_events", "content_id"))["content_id"].alias("_top_content"))
        )
        aged = spikes.where(F.col("spike") == "article_age").select(*keys, F.col("age_content").alias("_age_content"))
        spiking = F.coalesce("_top_content", "_age_content")
        kept = spiking.isNull() | (F.col("content_id") == spiking)
        return rows.join(top, keys, "left").join(aged, keys, "left").where(kept).drop("_top_content", "_age_content")

    return transform


def judge_engagement(
    daily: DataFrame,
    engagement: DataFrame,
    articles: DataFrame,
    users: DataFrame,
    activity: DataFrame,
    start: date,
    end: date,
    settings: EngagementSettings,
) -> DataFrame:
    """Finding candidates for start..end: spiking days, their actors judged, shaped.

    `articles` are `article_daily` rows (the article baselines by age).
    """
    min_z = settings.min_z
    spikes = (
        daily.transform(audience_days(start, end, settings.min_events))
        .transform(audience_baselines(daily, settings.baseline_days))
        .join(articles.transform(article_age_spikes(start, end, settings)), ["account_id", "run_date"], "left")
        .where((F.col("z") >= min_z) | (F.col("article_z") >= min_z) | (F.col("age_z") >= min_z))
        .withColumn(
            "spike",
            F.when(F.col("z") >= min_z, "account")
            .when(F.col("article_z") >= min_z, "article")
            .otherwise("article_age"),
        )
        .withColumn(
            "excess",
            F.when(F.col("spike") == "account", F.col("events") - F.col("expected_events"))
            .when(F.col("spike") == "article", F.col("top_article") - F.col("expected_top"))
            .otherwise(F.col("age_observed") - F.col("age_expected")),
        )
        .transform(ratio_breaks(settings))
        # Few rows, read twice below (the day's actors, then the findings): computed once.
        .localCheckpoint()
    )
    rows = (
        engagement.where(
            F.col("event_date").between(F.lit(start), F.lit(end))
            & (F.col("ingest_date") <= F.col("event_date"))
            & F.col("event_type").isin(*AUDIENCE_EVENT_TYPES)
            & F.col("actor_id").isNotNull()
        )
        .withColumnRenamed("event_date", "run_date")
        .join(spikes.select("account_id", "run_date"), ["account_id", "run_date"], "semi")
        .transform(on_spiking_article(spikes))
        # The spiking days' rows only, read four times below (actors, devices, lockstep, repeats): computed once.
        .localCheckpoint()
    )
    judged = rows.transform(day_actors(users, activity, settings)).transform(engagement_findings(spikes, settings))
    subjects = users.select("account_id", "subject_id")
    return judged.join(subjects, "account_id", "left").transform(engagement_evidence(settings))


def history_gap(day: date, settings: Settings, loaded: Mapping[str, set[date]]) -> str | None:
    """Why the loaded engagement cannot give `day` a baseline, or None."""
    engagement = settings.engagement
    return spike_history_gap(
        day, engagement.baseline_days, engagement.min_loaded_baseline_days, loaded["engagement"], "engagement"
    )


def find(inputs: RunInputs) -> Detection:
    """The run's fake engagement on its judged days."""
    lake, settings, start, end = inputs.lake, inputs.settings.engagement, inputs.start, inputs.end
    baseline_start = start - timedelta(days=settings.baseline_days + 1)
    daily = lake.read("account_daily").where(F.col("ingest_date").between(F.lit(baseline_start), F.lit(end)))
    engagement = lake.read("engagement").where(F.col("event_date").between(F.lit(start), F.lit(end)))
    articles = lake.read("article_daily").where(
        F.col("ingest_date").between(F.lit(first_read_day(start, settings)), F.lit(end))
    )
    found = judge_engagement(
        daily, engagement, articles, lake.read("accounts"), lake.read("user_activity"), start, end, settings
    )
    return Detection(found.where(F.col("run_date").isin(*inputs.judged)))


def _who(evidence: dict[str, Any]) -> str:
    """The suspicious actors' kinds, those present: "150 new, 20 in lockstep with pa_1, pa_2"."""
    partners = ", ".join(evidence.get("lockstep_partners") or [])
    kinds = (
        ("new_actors", "new"),
        ("young_actors", "young"),
        ("sole_actors", "active on no other account"),
        ("shared_device_actors", "sharing devices"),
        ("lockstep_actors", f"in lockstep with {partners}"),
        ("repeating_actors", f"repeating one action up to {evidence.get('max_repeats')} times"),
    )
    return ", ".join(f"{evidence[key]} {said}" for key, said in kinds if evidence.get(key))


def sentence(evidence: dict[str, Any]) -> str:
    """What a fake_engagement finding shows, in one sentence."""
    baseline = evidence.get("baseline", {})
    who = _who(evidence)
    top, aged = evidence.get("top_article") or {}, evidence.get("article_age") or {}
    spiked = {
        "article": f"one article drew {top.get('observed_events')} reads, likes, shares and comments against an "
        f"expected {top.get('expected_events')} for the account's top article of a day (z {top.get('z')})",
        "article_age": f"article {aged.get('content_id')} drew {aged.get('observed_events')} reads, likes, shares "
        f"and comments on day {aged.get('age_days')} of its life against an expected {aged.get('expected_events')} "
        f"for the account's {aged.get('earlier_articles')} earlier articles on that day (z {aged.get('z')})",
    }.get(
        evidence.get("spike") or "",
        f"{evidence.get('observed_events')} reads, likes, shares and comments against an expected "
        f"{baseline.get('expected_events')} (z {evidence.get('z')})",
    )
    said = (
        f"{spiked}; {evidence.get('suspicious_events')} of them from {evidence.get('suspicious_actors')} "
        "suspicious actors" + (f" ({who})" if who else "")
    )
    if "ratios" not in (evidence.get("signals") or []):
        return said
    by_type, own = evidence.get("by_type", {}), evidence.get("baseline_ratios", {})
    broken = ", ".join(
        f"{kind} per read {by_type.get(f'{kind}_per_read')} (own {own.get(f'{kind}_per_read')})" for kind in REACTIONS
    )
    return (
        f"{said}; {broken}; {evidence.get('unread_reactions')} of {evidence.get('reactions')} likes, shares and "
        "comments from actors who did not read the account that day"
    )


def raw_rows(finding: FindingView) -> RawRows:
    """The account's row."""
    return RawRows(accounts=(("account_id", finding.account_id),))


def drip_days(truth: Any) -> set[tuple[str, date]]:
    """Every (account, day) of a planted stealthy farm: flagging them is neither required nor wrong."""
    return {
        (account, first + timedelta(days=offset))
        for account, first, last in truth.engagement_drip
        for offset in range((last - first).days + 1)
    }


def evidence_key() -> list[Column]:
    """A spike day is its own evidence."""
    return [F.col("run_date").cast("string")]


DETECTOR = Detector(
    name=NAME,
    rule="no faked read, like, share or comment numbers (2020 draft, art. 12)",
    section=NAME,
    reads=("account_daily", "article_daily", "engagement", "accounts", "user_activity", "loaded_days"),
    phase="before_blacklist",
    severities=("low", "medium", "high"),
    sentence=sentence,
    raw_rows=raw_rows,
    evidence_key=evidence_key,
    scoring=Scoring(
        case="account_day",
        planted=lambda truth: truth.fake_engagement,
        ignored=drip_days,
        look_alikes=lambda truth: truth.engagement_look_alikes,
        look_alike_case="account_day",
    ),
    find=find,
    history_gap=history_gap,
    progress="looking for faked engagement",
)
