"""The daily review's sections for faked engagement and unapproved transfers: what each chart shows, and its HTML.

A `fake_engagement` finding is drawn as its account's daily reads, likes, shares and comments over the baseline
days against the baseline its evidence holds (its top article of each day, when the spike was an article's), and,
when its evidence holds an article's baseline by age, that article over its first days against the account's
earlier articles on the same days of theirs; an
`unapproved_transfer` finding as its account's operators, one lane each, over the operator window, the new
operators set apart.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from html import escape

from pyspark.sql import Column
from pyspark.sql import functions as F

from accountwatch.jobs.core.config import Settings
from accountwatch.jobs.core.lake import Lake
from accountwatch.jobs.detectors import fake_engagement, unapproved_transfer
from accountwatch.jobs.ingest.landing import days_between
from accountwatch.jobs.outputs import charts


def daily_series(
    lake: Lake, account_id: str, day: date, days: int, measure: Column, combine: Callable[[Column], Column] = F.sum
) -> list[tuple[date, int]]:
    """`measure` per event day of an account over `days` days up to `day`, as delivered by `day` (zeros in).

    The folder days that delivered an event day are combined by `combine` (summed, or their largest for a maximum).
    """
    first = day - timedelta(days=days)
    delivered = (
        lake.read("account_daily")
        .where(
            (F.col("account_id") == account_id)
            & F.col("ingest_date").between(first, day)
            & F.col("event_date").between(first, day)
        )
        .groupBy("event_date")
        .agg(combine(measure).alias("value"))
        .collect()
    )
    by_day = {row["event_date"]: int(row["value"] or 0) for row in delivered}
    return [(each, by_day.get(each, 0)) for each in days_between(first, day)]


def baseline_view(finding: dict, series: list[tuple[date, int]], expected: float, scale: float, min_z: float) -> dict:
    """What a baseline chart draws for a finding: its series, expected value, band (one scale) and threshold."""
    return {
        "finding": finding,
        "series": series,
        "expected": expected,
        "band": (max(0.0, expected - scale), expected + scale),
        "threshold": expected + min_z * scale,
    }


def engagement_views(lake: Lake, findings: list[dict], settings: Settings) -> list[dict]:
    """For each faked-engagement finding: its audience series over the baseline window, the band and the threshold.

    A finding whose spike is its top article's draws the account's top article of each day against that baseline
    (`article` set in the view); any other the account's daily audience.
    """
    audience = F.col("reads") + F.col("likes") + F.col("shares") + F.col("comments")
    views = []
    for finding in findings:
        if finding["detector"] != fake_engagement.NAME:
            continue
        evidence, days = finding["evidence"], settings.engagement.baseline_days
        article = evidence.get("spike") == "article"
        if article:
            baseline = evidence.get("top_article") or {}
            series = daily_series(
                lake, finding["account_id"], finding["run_date"], days, F.col("top_article_events"), F.max
            )
        else:
            baseline = evidence.get("baseline", {})
            series = daily_series(lake, finding["account_id"], finding["run_date"], days, audience)
        expected, scale = float(baseline.get("expected_events") or 0.0), float(baseline.get("scale") or 0.0)
        view = baseline_view(finding, series, expected, scale, settings.engagement.min_z)
        views.append(view | {"article": article, "life": article_life(evidence.get("article_age") or {})})
    return views


def article_life(aged: dict) -> dict | None:
    """What the article chart draws from a finding's `article_age`: its days, audience and baseline; or None."""
    observed, expected = aged.get("observed_by_age") or [], aged.get("expected_by_age") or []
    if not observed or not aged.get("first_day"):
        return None
    first = date.fromisoformat(aged["first_day"])
    return {
        "content_id": aged.get("content_id"),
        "series": [(first + timedelta(days=age), int(value)) for age, value in enumerate(observed)],
        "expected": [float(value) for value in expected],
    }


def operator_activity(lake: Lake, account_id: str, day: date, days: int) -> dict[str, set[date]]:
    """Per operator of an account, the folder days up to `day` (over `days` days) that showed them log in or publish."""
    rows = (
        lake.read("operator_daily")
        .where((F.col("account_id") == account_id) & F.col("ingest_date").between(day - timedelta(days=days), day))
        .select("actor_id", "ingest_date")
        .collect()
    )
    activity: dict[str, set[date]] = {}
    for row in rows:
        activity.setdefault(row["actor_id"], set()).add(row["ingest_date"])
    return activity


def transfer_views(lake: Lake, findings: list[dict], settings: Settings) -> list[dict]:
    """For each unapproved-transfer finding: its account's operators day by day over the operator window."""
    days = settings.transfer.operator_window_days
    views = []
    for finding in findings:
        if finding["detector"] != unapproved_transfer.NAME:
            continue
        day = finding["run_date"]
        views.append(
            {
                "finding": finding,
                "activity": operator_activity(lake, finding["account_id"], day, days),
                "days": days_between(day - timedelta(days=days), day),
                "new": set(finding["evidence"].get("new_operators") or []),
            }
        )
    return views


def engagement_title(finding: dict, day: date, view: dict) -> str:
    """What an engagement chart shows: the account's day, or its top article's."""
    evidence = finding["evidence"]
    if view.get("article"):
        top = evidence.get("top_article") or {}
        return (
            f"{finding['account_id']}: one article drew {top.get('observed_events')} reads, likes, shares and "
            f"comments on {day.isoformat()} (the day's top article expected {view['expected']:g}, z {top.get('z')})"
        )
    return (
        f"{finding['account_id']}: {evidence.get('observed_events')} reads, likes, shares and comments on "
        f"{day.isoformat()} (expected {view['expected']:g}, z {evidence.get('z')})"
    )


def life_chart(finding: dict, day: date, view: dict) -> str:
    """An engagement view's article over its first days (a heading, then the chart), or "" when it has none."""
    life = view.get("life")
    if not life:
        return ""
    days = len(life["series"])
    span = "its first day" if days == 1 else f"its first {days} days"
    title = (
        f"{finding['account_id']}: article {life['content_id']} over {span} against the account's earlier "
        "articles on the same days of their life"
    )
    return f"<h4>{escape(title)}</h4>" + charts.article_chart(life["series"], life["expected"], day, title)


def engagement_section(day: date, views: list[dict]) -> str:
    parts = [f"<h2>Faked engagement ({len(views)})</h2>"]
    if not views:
        return parts[0] + f'<p class="note">No {fake_engagement.NAME} finding on this day.</p>'
    for view in views:
        finding = view["finding"]
        title = engagement_title(finding, day, view)
        parts.append(f"<h3>{escape(title)}</h3>")
        parts.append(
            charts.audience_chart(view["series"], day, view["expected"], view["band"], view["threshold"], title)
        )
        parts.append(life_chart(finding, day, view))
        parts.append(f'<p class="note">{escape(finding["description"])}</p>')
    return "".join(parts)


def transfer_section(day: date, views: list[dict]) -> str:
    parts = [f"<h2>Unapproved transfers ({len(views)})</h2>"]
    if not views:
        return parts[0] + f'<p class="note">No {unapproved_transfer.NAME} finding on this day.</p>'
    for view in views:
        finding = view["finding"]
        title = f"{finding['account_id']}: operators up to {day.isoformat()}"
        parts.append(f"<h3>{escape(title)}</h3>")
        parts.append(charts.operators_chart(view["activity"], view["days"], day, view["new"], title))
        parts.append(f'<p class="note">{escape(finding["description"])}</p>')
    return "".join(parts)
