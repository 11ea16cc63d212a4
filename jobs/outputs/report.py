"""The analyst's daily review: what a day's run found and changed, as one self-contained HTML file.

The data functions return plain rows (one day's findings, a month of daily counts, a few spike series), so
the notebook `notebooks/daily_review.ipynb` uses the same figures as the report.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from html import escape

from pyspark.sql import functions as F

from accountwatch.jobs.core.config import Settings
from accountwatch.jobs.core.lake import Lake
from accountwatch.jobs.core.pii import mask_phones_text
from accountwatch.jobs.detectors import batch_registration, fake_follower_spike, registry
from accountwatch.jobs.ingest.landing import days_between
from accountwatch.jobs.outputs import charts, report_views
from accountwatch.jobs.outputs import page as html
from accountwatch.jobs.outputs.bundle_summary import describe_finding
from accountwatch.schemas.findings import SEVERITIES

HISTORY_DAYS = 30
SHOWN_PER_SEVERITY = 100
TIER_ORDER = {"A": 0, "B": 1, "C": 2, "D": 3}


class ReportError(ValueError):
    """A report that cannot be made: the day was never run."""


@dataclass
class DetectorDay:
    """One detector on the report day, against the days before it."""

    detector: str
    series: list[tuple[date, int]]
    today: int
    status: str
    note: str = ""

    @property
    def history_mean(self) -> float:
        earlier = [count for _, count in self.series[:-1]]
        return sum(earlier) / len(earlier) if earlier else 0.0


@dataclass
class DailyReview:
    """Everything the report shows for one day."""

    day: date
    detectors: list[DetectorDay]
    findings: list[dict]
    spikes: list[dict]
    clusters: list[dict]
    tier_moves: list[dict]
    blacklist_changes: list[dict]
    ingest: list[dict] = field(default_factory=list)
    engagement: list[dict] = field(default_factory=list)
    transfers: list[dict] = field(default_factory=list)


def detector_days(lake: Lake, day: date, history_days: int = HISTORY_DAYS) -> list[DetectorDay]:
    """Findings per detector on each of the `history_days` days before `day` and on `day` itself."""
    first = day - timedelta(days=history_days)
    counts = {
        (row["detector"], row["run_date"]): row["count"]
        for row in lake.read("findings")
        .where(F.col("run_date").between(first, day))
        .groupBy("detector", "run_date")
        .count()
        .collect()
    }
    runs = {row["detector"]: row for row in lake.read("detector_runs").where(F.col("run_date") == F.lit(day)).collect()}
    if not runs:
        raise ReportError(f"no detect run for {day.isoformat()} in {lake.root}: run `accountwatch run --date` first")
    result = []
    for detector in registry.names():
        series = [(each, counts.get((detector, each), 0)) for each in days_between(first, day)]
        run = runs.get(detector)
        status = run["status"] if run else "not run"
        result.append(DetectorDay(detector, series, series[-1][1], status, (run["message"] or "") if run else ""))
    return result


def day_findings(lake: Lake, day: date) -> list[dict]:
    """The day's findings, most severe and surest first, each with its evidence parsed and described."""
    rows = [row.asDict() for row in lake.read("findings").where(F.col("run_date") == F.lit(day)).collect()]
    rank = {severity: index for index, severity in enumerate(reversed(SEVERITIES))}
    for row in rows:
        row["evidence"] = json.loads(row["evidence"])
        row["description"] = describe_finding(row["detector"], masked_evidence(row["evidence"]))
    return sorted(rows, key=lambda row: (rank[row["severity"]], -row["score"], row["detector"], row["account_id"]))


def masked_block(block: str) -> str:
    """A phone-number block shown by its 3-digit network prefix only."""
    return f"{block[:3]}****" if block else block


def masked_evidence(evidence: dict) -> dict:
    """Evidence with phone-number blocks masked, for display."""
    keys = evidence.get("shared_keys")
    if not keys:
        return evidence
    shown = [
        {**key, "key_value": masked_block(str(key["key_value"]))} if key.get("key_type") == "phone_block" else key
        for key in keys
    ]
    return {**evidence, "shared_keys": shown}


def follow_series(lake: Lake, account_id: str, day: date, days: int) -> list[tuple[date, int]]:
    """Daily new follows of an account over `days` days up to `day`, as delivered by `day` (zeros included)."""
    return report_views.daily_series(lake, account_id, day, days, F.col("follows"))


def spike_views(lake: Lake, findings: list[dict], settings: Settings) -> list[dict]:
    """For each spike finding: its follower series over the baseline window, the band and the threshold."""
    views = []
    for finding in findings:
        if finding["detector"] != fake_follower_spike.NAME:
            continue
        baseline = finding["evidence"].get("baseline", {})
        series = follow_series(lake, finding["account_id"], finding["run_date"], settings.spike.baseline_days)
        expected, scale = float(baseline.get("expected_follows", 0.0)), float(baseline.get("scale", 0.0))
        views.append(report_views.baseline_view(finding, series, expected, scale, settings.spike.min_z))
    return views


def registration_clusters(findings: list[dict]) -> list[dict]:
    """The day's registration-burst findings grouped by burst: size, shared keys, time span and members."""
    clusters: dict[str, dict] = {}
    for finding in findings:
        if finding["detector"] != batch_registration.NAME:
            continue
        evidence = masked_evidence(finding["evidence"])
        cluster = clusters.setdefault(
            evidence["cluster_id"],
            {
                "cluster_id": evidence["cluster_id"],
                "cluster_size": evidence.get("cluster_size"),
                "public_accounts": evidence.get("public_accounts"),
                "first_registered_at": evidence.get("first_registered_at"),
                "last_registered_at": evidence.get("last_registered_at"),
                "span_minutes": evidence.get("span_minutes"),
                "shared_keys": evidence.get("shared_keys") or [],
                "severity": finding["severity"],
                "flagged": [],
            },
        )
        cluster["flagged"].append(finding["account_id"])
    return sorted(clusters.values(), key=lambda cluster: (-(cluster["cluster_size"] or 0), cluster["cluster_id"]))


def tier_moves(lake: Lake, day: date) -> list[dict]:
    """Accounts whose tier spell starts on `day`, with the tier they left (None for a new account)."""
    spells = lake.read("account_tiers")
    started = spells.where(F.col("valid_from") == F.lit(day))
    ended = spells.where(F.col("valid_to") == F.lit(day)).select(
        "account_id", F.col("tier").alias("from_tier"), F.col("rule").alias("from_rule")
    )
    rows = [row.asDict() for row in started.join(ended, "account_id", "left").collect()]
    moves = [row for row in rows if row["from_tier"] != row["tier"] or row["from_rule"] != row["rule"]]
    return sorted(moves, key=lambda row: (-TIER_ORDER[row["tier"]], row["account_id"]))


def blacklist_changes(lake: Lake, day: date) -> list[dict]:
    """Blacklist entries listed on `day` and those lifted on it (the session time zone is the platform's)."""
    rows = (
        lake.read("blacklist")
        .where(
            ((F.col("status") == "active") & (F.col("listed_on") == F.lit(day)))
            | ((F.col("status") == "lifted") & (F.to_date("changed_at") == F.lit(day)))
        )
        .collect()
    )
    return sorted((row.asDict() for row in rows), key=lambda row: (row["status"], row["entity_type"], row["entity_id"]))


def ingest_summary(lake: Lake, day: date) -> list[dict]:
    """Rows landed, loaded and quarantined per table for the day's folders."""
    rows = lake.read("loaded_days").where(F.col("ingest_date") == F.lit(day)).orderBy("table_name").collect()
    return [row.asDict() for row in rows]


def daily_review(lake: Lake, day: date, settings: Settings) -> DailyReview:
    """Gather what the report shows for `day`."""
    detectors = detector_days(lake, day)
    findings = day_findings(lake, day)
    return DailyReview(
        day=day,
        detectors=detectors,
        findings=findings,
        spikes=spike_views(lake, findings, settings),
        clusters=registration_clusters(findings),
        tier_moves=tier_moves(lake, day),
        blacklist_changes=blacklist_changes(lake, day),
        ingest=ingest_summary(lake, day),
        engagement=report_views.engagement_views(lake, findings, settings),
        transfers=report_views.transfer_views(lake, findings, settings),
    )


def _severity_cell(severity: str) -> html.RawHtml:
    return html.RawHtml(f'<span class="{escape(severity)}">{escape(severity)}</span>')


def _detector_section(review: DailyReview) -> str:
    chart_cells = "".join(
        f"<figure><figcaption>{escape(each.detector)}: {each.today} today, "
        f"{each.history_mean:.1f} a day before</figcaption>"
        + charts.daily_counts_chart(
            each.series, review.day, f"{each.detector}: {each.today} on {review.day.isoformat()}", width=300
        )
        + "</figure>"
        for each in review.detectors
    )
    rows = [
        (
            each.detector,
            each.today,
            f"{each.history_mean:.1f}",
            max((count for _, count in each.series[:-1]), default=0),
            each.status,
            each.note,
        )
        for each in review.detectors
    ]
    return (
        f"<h2>Findings per detector: {review.day.isoformat()} against the {HISTORY_DAYS} days before</h2>"
        + html.table(
            ("detector", "today", f"{HISTORY_DAYS}-day mean", f"{HISTORY_DAYS}-day max", "run", "note"),
            rows,
            numeric=("today", f"{HISTORY_DAYS}-day mean", f"{HISTORY_DAYS}-day max"),
            css_class="detectors",
        )
        + f'<div class="charts">{chart_cells}</div>'
    )


def _findings_section(review: DailyReview) -> str:
    parts = [f"<h2>New findings ({len(review.findings)})</h2>"]
    by_severity = Counter(finding["severity"] for finding in review.findings)
    for severity in reversed(SEVERITIES):
        chosen = [finding for finding in review.findings if finding["severity"] == severity]
        parts.append(f'<h3><span class="{severity}">{severity}</span>: {by_severity[severity]}</h3>')
        if not chosen:
            parts.append('<p class="note">none</p>')
            continue
        rows = [
            (
                finding["detector"],
                finding["account_id"],
                finding["subject_id"],
                _severity_cell(finding["severity"]),
                f"{finding['score']:.3f}",
                finding["recommended_action"],
                finding["description"],
                finding["finding_id"],
            )
            for finding in chosen[:SHOWN_PER_SEVERITY]
        ]
        parts.append(
            html.table(
                ("detector", "account", "subject", "severity", "score", "recommended", "evidence", "finding"),
                rows,
                numeric=("score",),
                css_class="findings",
            )
        )
        if len(chosen) > SHOWN_PER_SEVERITY:
            parts.append(
                f'<p class="note">and {len(chosen) - SHOWN_PER_SEVERITY} more: '
                f"<code>accountwatch findings --date {review.day.isoformat()}</code></p>"
            )
    return "".join(parts)


def _spike_section(review: DailyReview) -> str:
    parts = [f"<h2>Follower spikes ({len(review.spikes)})</h2>"]
    if not review.spikes:
        return parts[0] + f'<p class="note">No {fake_follower_spike.NAME} finding on this day.</p>'
    for view in review.spikes:
        finding = view["finding"]
        evidence = finding["evidence"]
        title = (
            f"{finding['account_id']}: {evidence.get('observed_follows')} follows on {review.day.isoformat()} "
            f"(expected {view['expected']:g}, z {evidence.get('z')})"
        )
        parts.append(f"<h3>{escape(title)}</h3>")
        parts.append(
            charts.follower_chart(view["series"], review.day, view["expected"], view["band"], view["threshold"], title)
        )
        shares = evidence.get("follower_shares") or {}
        parts.append(
            '<p class="note">'
            + escape(
                f"{evidence.get('suspicious_followers')} suspicious followers; shares of new followers: "
                + ", ".join(f"{name} {value}" for name, value in shares.items())
            )
            + "</p>"
        )
    return "".join(parts)


def _cluster_section(review: DailyReview) -> str:
    parts = [f"<h2>Registration clusters ({len(review.clusters)})</h2>"]
    if not review.clusters:
        return parts[0] + f'<p class="note">No {batch_registration.NAME} finding on this day.</p>'
    rows = []
    for cluster in review.clusters:
        keys = "; ".join(
            f"{key.get('key_type')} {key.get('key_value')} ({key.get('members')} members, x{key.get('rate_ratio')})"
            for key in cluster["shared_keys"]
        )
        flagged = cluster["flagged"]
        members = ", ".join(sorted(flagged)[:12]) + (f" and {len(flagged) - 12} more" if len(flagged) > 12 else "")
        rows.append(
            (
                cluster["cluster_id"],
                cluster["cluster_size"],
                len(flagged),
                cluster["public_accounts"],
                f"{cluster['first_registered_at']} to {cluster['last_registered_at']}",
                cluster["span_minutes"],
                keys,
                members,
            )
        )
    return parts[0] + html.table(
        ("cluster", "size", "flagged today", "public", "registered", "minutes", "shared keys", "accounts"),
        rows,
        numeric=("size", "flagged today", "public", "minutes"),
        css_class="clusters",
    )


def _first_few(ids: list[str], shown: int = 3) -> str:
    return ", ".join(ids[:shown]) + (f" and {len(ids) - shown} more" if len(ids) > shown else "")


def _tier_section(review: DailyReview) -> str:
    moves = Counter((move["from_tier"] or "new", move["tier"]) for move in review.tier_moves)
    summary = ", ".join(f"{before} to {after}: {count}" for (before, after), count in sorted(moves.items()))
    rows = [
        (move["account_id"], move["from_tier"] or "new", move["tier"], move["rule"], _first_few(move["reasons"]))
        for move in review.tier_moves
    ]
    heading = f"<h2>Tier moves ({len(review.tier_moves)})</h2>"
    if not rows:
        return heading + '<p class="note">No account changed tier on this day.</p>'
    return (
        heading
        + f'<p class="note">{escape(summary)}</p>'
        + html.table(("account", "from", "to", "rule", "findings"), rows, css_class="tiers")
    )


def _blacklist_section(review: DailyReview) -> str:
    rows = [
        (
            entry["status"],
            entry["entity_type"],
            entry["entity_id"],
            entry["listed_on"],
            entry["reason"]
            if entry["status"] == "active"
            else f"{entry['changed_by']}: {mask_phones_text(entry['change_reason'] or '')}",
            _first_few(entry["finding_ids"]),
        )
        for entry in review.blacklist_changes
    ]
    heading = f"<h2>Blacklist changes ({len(rows)})</h2>"
    if not rows:
        return heading + '<p class="note">Nothing was listed or lifted on this day.</p>'
    return heading + html.table(
        ("change", "type", "entity", "listed on", "why", "findings"), rows, css_class="blacklist"
    )


def _ingest_section(review: DailyReview) -> str:
    rows = [
        (row["table_name"], row["files"], row["rows_landed"], row["rows_loaded"], row["rows_quarantined"])
        for row in review.ingest
    ]
    return "<h2>The day's landing files</h2>" + html.table(
        ("table", "files", "rows landed", "rows loaded", "quarantined"),
        rows,
        numeric=("files", "rows landed", "rows loaded", "quarantined"),
        css_class="ingest",
    )


def render(review: DailyReview, lake_label: str, generated_at: datetime) -> str:
    """The report as one HTML document: styles and charts inline, no scripts, nothing fetched."""
    total = len(review.findings)
    severities = Counter(finding["severity"] for finding in review.findings)
    headline = ", ".join(f"{severities[severity]} {severity}" for severity in reversed(SEVERITIES))
    body = "\n".join(
        [
            f"<h1>accountwatch daily review: {review.day.isoformat()}</h1>",
            f'<p class="meta">{total} new findings ({headline}); {len(review.tier_moves)} tier moves; '
            f"{len(review.blacklist_changes)} blacklist changes. Lake {escape(lake_label)}; generated "
            f"{escape(generated_at.isoformat(timespec='seconds'))}.</p>",
            _detector_section(review),
            _findings_section(review),
            _spike_section(review),
            report_views.engagement_section(review.day, review.engagement),
            _cluster_section(review),
            report_views.transfer_section(review.day, review.transfers),
            _tier_section(review),
            _blacklist_section(review),
            _ingest_section(review),
        ]
    )
    return html.page(f"accountwatch daily review {review.day.isoformat()}", body, charts.CHART_CSS)


def latest_run_day(lake: Lake) -> date:
    """The latest day any detector judged."""
    latest = lake.read("detector_runs").where(F.col("status") == "ok").agg(F.max("run_date")).collect()[0][0]
    if latest is None:
        raise ReportError(f"no detect run in {lake.root}: run `accountwatch run` or `backfill` first")
    return latest


@dataclass
class AccountView:
    """One account up to a day: its row, every finding, its tier spells, blacklist rows and recent follows."""

    account: dict
    findings: list[dict]
    tiers: list[dict]
    blacklist: list[dict]
    follows: list[tuple[date, int]]


def account_view(lake: Lake, account_id: str, day: date, follow_days: int = 60) -> AccountView:
    """Everything the lake knows about `account_id` up to `day`, for drilling into one account."""
    found = lake.read("accounts").where(F.col("account_id") == account_id).collect()
    if not found:
        raise ReportError(f"unknown account {account_id!r}: no account in {lake.root} has that id")
    findings = [
        {**row.asDict(), "evidence": json.loads(row["evidence"])}
        for row in lake.read("findings")
        .where((F.col("account_id") == account_id) & (F.col("run_date") <= F.lit(day)))
        .orderBy("run_date", "detector")
        .collect()
    ]
    for finding in findings:
        finding["description"] = describe_finding(finding["detector"], masked_evidence(finding["evidence"]))
    tiers = [
        row.asDict()
        for row in lake.read("account_tiers")
        .where((F.col("account_id") == account_id) & (F.col("valid_from") <= F.lit(day)))
        .orderBy("valid_from")
        .collect()
    ]
    listings = [
        row.asDict()
        for row in lake.read("blacklist")
        .where(
            ((F.col("entity_type") == "account") & (F.col("entity_id") == account_id))
            | ((F.col("entity_type") == "subject") & (F.col("entity_id") == found[0]["subject_id"]))
        )
        .orderBy("listed_on", "changed_at")
        .collect()
    ]
    account = {key: value for key, value in found[0].asDict().items() if key not in ("phone_block",)}
    return AccountView(account, findings, tiers, listings, follow_series(lake, account_id, day, follow_days))


def quality_results(lake: Lake, start: date, end: date) -> list[dict]:
    """The data-quality checks recorded for runs covering start..end, one row per expectation."""
    rows = (
        lake.read("dq_results")
        .where((F.col("ingest_start") <= F.lit(end)) & (F.col("ingest_end") >= F.lit(start)))
        .orderBy("table_name", "suite", "expectation", "column_name")
        .collect()
    )
    return [row.asDict() for row in rows]
