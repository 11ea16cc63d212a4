"""The article baselines of `fake_engagement`: a day's top article, and an article against earlier ones at its age."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, timedelta

from pyspark.sql import functions as F

from accountwatch.jobs.detectors.engagement_articles import (
    article_age_spikes,
    article_curves,
    first_read_day,
    median_of,
)
from accountwatch.jobs.detectors.fake_engagement import judge_engagement, sentence
from accountwatch.schemas.events import ACCOUNT_DAILY, ARTICLE_DAILY, ENGAGEMENT
from tests.jobs.detectors.engagement_rows import LONG_AGO, SETTINGS, USERS, D, activity_frame, crowd, no_articles


def article_reads(account: str, article: int, actors: list[str]) -> list[tuple]:
    stamp = datetime(2026, 5, 20, 11)
    return [
        (
            f"{account}-{article}-{actor}",
            account,
            actor,
            "read",
            stamp,
            1,
            D,
            D,
            "f",
            1,
            f"{account}-art{article}",
            None,
            actor,
        )
        for actor in actors
    ]


def test_an_article_bought_inside_a_big_accounts_noisy_day_is_found_by_the_top_articles_baseline(spark):
    # Ten articles a day, about 100 reads each, the day's total swinging by 180 either way: 300 bought reads of one
    # article lift the day by under 2 of its sigmas, but the article to four times the day's usual top article.
    # `upgraded` is bought the same way, but its baseline days were loaded before the top article was kept.
    daily, events, established, farm, other_farm = [], [], [], crowd("farm", 300), crowd("other_farm", 300)
    for account in ("bought", "viral", "upgraded"):
        for offset in range(1, 29):
            day = D - timedelta(days=offset)
            total, top = 1000 + (offset % 7 - 3) * 60, 100 + (offset % 3) * 5
            top = None if account == "upgraded" else top
            daily.append((account, day, day, 1, 1, None, None, total, 0, 0, 0, 0, 0, top))
        daily.append((account, D, D, 1, 1, None, None, 1300, 0, 0, 0, 0, 0, 400))
        for article in range(10):
            readers = crowd(f"{account}_r{article}_", 100)
            established += readers
            events += article_reads(account, article, readers)
    fans = crowd("fans", 300)
    established += fans
    events += article_reads("bought", 0, farm) + article_reads("viral", 0, fans)
    events += article_reads("upgraded", 0, other_farm)
    found = judge_engagement(
        spark.createDataFrame(daily, ACCOUNT_DAILY),
        spark.createDataFrame(events, ENGAGEMENT),
        no_articles(spark),
        spark.createDataFrame(
            [(user, LONG_AGO, None) for user in established + farm + other_farm]
            + [("bought", LONG_AGO, "s1"), ("viral", LONG_AGO, "s2"), ("upgraded", LONG_AGO, "s3")],
            USERS,
        ),
        activity_frame(spark, [(user, date(2025, 6, 1)) for user in established]),
        D,
        D,
        SETTINGS,
    )
    found = {row["account_id"]: row for row in found.collect()}
    assert sorted(found) == ["bought"]
    evidence = json.loads(found["bought"]["evidence"])
    assert evidence["spike"] == "article" and evidence["z"] < SETTINGS.min_z
    assert (evidence["top_article"]["observed_events"], evidence["top_article"]["expected_events"]) == (400, 105.0)
    # Only the spiking article's actors are judged: its 100 readers and the 300 bought.
    assert (evidence["actors"], evidence["suspicious_actors"], evidence["content_ids"]) == (400, 300, ["bought-art0"])
    assert found["bought"]["score"] == evidence["top_article"]["z"]
    assert sentence(evidence).startswith(
        "one article drew 400 reads, likes, shares and comments against an expected 105.0"
    )


# An organic article's audience on each day of its life: 100 on its first day, then 30, 10, 5, 2, 1, 1, 0.
LIFE = (100, 30, 10, 5, 2, 1, 1, 0)


def article_rows(account: str, extra: int, articles: int = 36) -> list[tuple]:
    """`article_daily` rows: one article a day for the days before D and one on D, each drawing LIFE; the article
    that came out three days before D draws `extra` more on D."""
    rows = []
    for first_offset in range(articles):
        first = D - timedelta(days=first_offset)
        for age, events in enumerate(LIFE):
            day = first + timedelta(days=age)
            if day <= D and events:
                bonus = extra if (first_offset, day) == (3, D) else 0
                rows.append((account, f"{account}-art-{first_offset}", day, day, events + bonus))
    return rows


def noisy_days(account: str, day_events: int, day_top: int) -> list[tuple]:
    """`account_daily` rows of an account whose days swing between 80 and 300 events (its top article 60 to 250)."""
    rows = []
    for offset in range(1, 29):
        day = D - timedelta(days=offset)
        events, top = (80, 60) if offset % 2 else (300, 250)
        rows.append((account, day, day, 1, 1, None, None, events, 0, 0, 0, 0, 0, top))
    rows.append((account, D, D, 1, 1, None, None, day_events, 0, 0, 0, 0, 0, day_top))
    return rows


def old_article_reads(account: str, actors: list[str]) -> list[tuple]:
    """One read per actor on D of the account's article that came out three days before."""
    stamp = datetime(2026, 5, 20, 14)
    article = f"{account}-art-3"
    return [
        (f"{account}-{a}", account, a, "read", stamp, 1, D, D, "f", 1, article, "10.1.1.1", f"dev-{a}") for a in actors
    ]


# Long: the account's article history and the bought and look-alike days are literal rows the reader checks.
def test_an_article_bought_days_after_it_came_out_is_flagged_against_earlier_articles_at_its_age(spark):
    # On D the article of D-3 draws 150 more than the 5 an article draws on its fourth day: within the account's
    # noisy day (299 against days of 80 to 300) and below its newest article's usual first day, so neither the
    # day's baseline nor the top article's fires. Bought by new actors it is flagged; the look-alike, the same
    # article resurfacing among established readers of other accounts too, is not.
    farm = [f"farm{i}" for i in range(150)]
    crowd = [f"crowd{i}" for i in range(150)]
    regulars = [f"reg{i}" for i in range(30)]
    long_ago = date(2025, 6, 1)
    users = [(user, LONG_AGO, None) for user in farm + crowd + regulars]
    users += [("late", LONG_AGO, "s_late"), ("resurfaced", LONG_AGO, "s_resurfaced")]
    activity = [(user, long_ago, "other", long_ago) for user in crowd + regulars] + [(user, D) for user in farm]
    newest = [
        (
            f"new-{account}-{r}",
            account,
            r,
            "read",
            datetime(2026, 5, 20, 9),
            1,
            D,
            D,
            "f",
            1,
            f"{account}-art-0",
            None,
            None,
        )
        for account in ("late", "resurfaced")
        for r in regulars
    ]
    found = judge_engagement(
        spark.createDataFrame(noisy_days("late", 299, 155) + noisy_days("resurfaced", 299, 155), ACCOUNT_DAILY),
        spark.createDataFrame(
            old_article_reads("late", farm) + old_article_reads("resurfaced", crowd) + newest, ENGAGEMENT
        ),
        spark.createDataFrame(article_rows("late", 150) + article_rows("resurfaced", 150), ARTICLE_DAILY),
        spark.createDataFrame(users, USERS),
        activity_frame(spark, activity),
        D,
        D,
        SETTINGS,
    )
    by_account = {row["account_id"]: row for row in found.collect()}
    assert sorted(by_account) == ["late"]
    evidence = json.loads(by_account["late"]["evidence"])
    assert evidence["spike"] == "article_age"
    assert evidence["z"] < SETTINGS.min_z and evidence["top_article"]["z"] < SETTINGS.min_z
    aged = evidence["article_age"]
    assert (aged["content_id"], aged["age_days"], aged["observed_events"], aged["expected_events"]) == (
        "late-art-3",
        3,
        155,
        5.0,
    )
    assert aged["earlier_articles"] == 28
    assert (aged["observed_by_age"], aged["expected_by_age"]) == ([100, 30, 10, 155], [100.0, 30.0, 10.0, 5.0])
    # Only the spiking article's actors are judged: the regulars reading the newest article are left out.
    assert (evidence["actors"], evidence["suspicious_actors"], evidence["content_ids"]) == (150, 150, ["late-art-3"])
    assert sentence(evidence).startswith(
        "article late-art-3 drew 155 reads, likes, shares and comments on day 3 of its life against an expected 5.0 "
        "for the account's 28 earlier articles on that day"
    )


def test_an_article_has_no_baseline_by_age_without_enough_earlier_articles_or_a_known_first_day(spark):
    settings = replace(SETTINGS, min_baseline_articles=5)
    # Five articles out before the one of D-3: exactly enough. Four: none.
    enough, few = article_rows("enough", 150, articles=9), article_rows("few", 150, articles=8)
    spikes = {
        row["account_id"]: row
        for row in article_age_spikes(D, D, settings)(spark.createDataFrame(enough + few, ARTICLE_DAILY)).collect()
    }
    assert spikes["enough"]["age_articles"] == 5 and spikes["enough"]["age_content"] == "enough-art-3"
    # With four, the day keeps its newest article (its first day, against seven earlier ones), not the bought one.
    assert (spikes["few"]["age_content"], spikes["few"]["age_articles"], spikes["few"]["age_z"]) == (
        "few-art-0",
        7,
        0.0,
    )
    # A day too close to the first day read to know what came before starts no life; the same article drawing an
    # audience again on D, after weeks without any, starts a new one.
    first_read = first_read_day(D, settings)
    seen_early = [("early", "early-art", first_read + timedelta(days=6), first_read + timedelta(days=6), 500)]
    seen_early += [("early", "early-art", D, D, 500)]
    curves = article_curves(D, D, settings)(spark.createDataFrame(seen_early, ARTICLE_DAILY)).collect()
    assert [(row["first_day"], row["by_age"][0]) for row in curves] == [(D, 500)]


def test_median_of_an_array_takes_the_middle_or_the_mean_of_the_middle_two(spark):
    frame = spark.createDataFrame([([5],), ([3, 1, 10, 2],), ([],)], "values array<long>")
    assert [row[0] for row in frame.select(median_of(F.col("values"))).collect()] == [5.0, 2.5, None]


def test_article_baselines_of_a_range_equal_those_of_its_days_run_one_by_one_and_ignore_late_rows(spark):
    rows = article_rows("late", 150)
    # A late delivery of the article of D-3 (delivered on D for D-1) and one of an unseen article: neither counts.
    rows += [
        ("late", "late-art-3", D - timedelta(days=1), D, 900),
        ("late", "late-art-x", D - timedelta(days=4), D, 90),
    ]
    frame = spark.createDataFrame(rows, ARTICLE_DAILY)
    start = D - timedelta(days=2)
    ranged = article_age_spikes(start, D, SETTINGS)(frame).collect()
    one_by_one = [
        row
        for offset in range(3)
        for row in article_age_spikes(start + timedelta(days=offset), start + timedelta(days=offset), SETTINGS)(
            frame
        ).collect()
    ]
    assert sorted(ranged) == sorted(one_by_one) and len(ranged) == 3
    on_d = next(row for row in ranged if row["run_date"] == D)
    assert (on_d["age_content"], on_d["observed_by_age"]) == ("late-art-3", [100, 30, 10, 155])
