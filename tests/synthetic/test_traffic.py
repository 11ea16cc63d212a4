"""Organic traffic (synthetic/traffic.py): the articles its audience reads, on the tiny platform."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta
from types import SimpleNamespace

import numpy as np

from accountwatch.synthetic.traffic import ARTICLE_IDS_FROM_DAY, EventFactory
from tests.synthetic.landed import AUDIENCE_TYPES, START, platform_day


def test_audience_events_name_their_article_from_a_day_on_and_earlier_files_leave_the_column_out(tiny):
    first_named = START + timedelta(days=ARTICLE_IDS_FROM_DAY)
    # Organic rows (the plants' ids have prefixes of their own), the few planted bad rows without an account left out.
    organic = [row for row in tiny.rows["engagement"] if row["event_id"].startswith("ev") and row["account_id"]]
    before = [row for row in organic if row["_folder"] < first_named]
    assert before and all(row["content_id"] is None for row in before)
    assert all("content_id" not in row["_raw"] for row in before)
    on_time_audience = [
        row
        for row in organic
        if row["_folder"] >= first_named + timedelta(days=7)
        and row["event_type"] in AUDIENCE_TYPES
        and platform_day(row["event_ts"]) == row["_folder"]
    ]
    named = [row for row in on_time_audience if row["content_id"] is not None]
    # Every account publishes long before: nearly every audience event names an article of its own account.
    assert len(named) >= 0.95 * len(on_time_audience)
    assert all(row["content_id"].startswith(f"{row['account_id']}-art") for row in named)
    per_day: dict[tuple, Counter] = defaultdict(Counter)
    for row in named:
        per_day[row["account_id"], row["_folder"]][row["content_id"]] += 1
    # The latest article draws most of an account's day, an older one the rest.
    assert sum(max(articles.values()) for articles in per_day.values()) >= 0.6 * len(named)
    assert {len(articles) for articles in per_day.values()} == {1, 2}


def test_a_viral_day_reads_one_article(tiny):
    named_days = [
        (account, day) for account, day in tiny.truth.viral_days if day >= START + timedelta(days=ARTICLE_IDS_FROM_DAY)
    ]
    assert named_days
    for account, day in named_days:
        articles = Counter(
            row["content_id"]
            for row in tiny.rows["engagement"]
            if row["account_id"] == account and row["_folder"] == day and row["event_type"] in AUDIENCE_TYPES
        )
        top, top_count = articles.most_common(1)[0]
        assert top is not None and top_count >= 0.75 * sum(articles.values()), (account, day, articles)


def test_audience_of_accounts_that_never_published_reads_no_article():
    factory = EventFactory.__new__(EventFactory)
    factory.world = SimpleNamespace(accounts=SimpleNamespace(account_id=np.array(["pa_1", "pa_2"], dtype=object)))
    factory.latest_article = np.array([-1, 40])
    factory.previous_article = np.array([-1, -1])

    assert factory._articles(np.array([0, 0]), ARTICLE_IDS_FROM_DAY + 20).tolist() == [None, None]
    assert factory._articles(np.array([0, 1]), ARTICLE_IDS_FROM_DAY + 20).tolist() == [None, "pa_2-art040"]
