from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pyspark.sql import functions as F
from typer.testing import CliRunner

from accountwatch.flows.cli import app
from accountwatch.jobs.outputs.report import (
    HISTORY_DAYS,
    ReportError,
    blacklist_changes,
    daily_review,
    detector_days,
    registration_clusters,
    render,
)
from accountwatch.schemas.findings import DETECTORS

# Runs inside the page after layout and writes what the browser drew into the DOM that --dump-dom prints.
PROBE = """
<script>
const box = (element) => { const r = element.getBoundingClientRect(); return [r.width, r.height]; };
const probe = {
  charts: [...document.querySelectorAll("svg.chart")].map((svg) => ({
    label: svg.getAttribute("aria-label"), size: box(svg),
    bars: [...svg.querySelectorAll("rect[data-value]")].filter((bar) => box(bar)[1] > 0).length,
  })),
  tables: [...document.querySelectorAll("table")].map((table) => ({
    kind: table.className, size: box(table), rows: table.tBodies[0].rows.length,
  })),
};
const out = document.createElement("pre"); out.id = "probe"; out.textContent = JSON.stringify(probe);
document.body.appendChild(out);
</script>
"""


def _spike_day(truth) -> date:
    return sorted(day for _, day in truth.bought_followers())[0]


def _listing_day(lake) -> date:
    return lake.read("blacklist").where(F.col("entity_type") == "subject").agg(F.min("listed_on")).collect()[0][0]


def test_detector_counts_cover_the_day_and_the_thirty_before_with_zeros(platform_run):
    truth, lake, _ = platform_run
    day = _spike_day(truth)
    counts = {
        row["detector"]: row["count"]
        for row in lake.read("findings").where(F.col("run_date") == day).groupBy("detector").count().collect()
    }
    detectors = detector_days(lake, day)
    assert [each.detector for each in detectors] == list(DETECTORS)
    for each in detectors:
        assert len(each.series) == HISTORY_DAYS + 1
        assert each.series[-1] == (day, counts.get(each.detector, 0))
        assert each.today == counts.get(each.detector, 0)
    assert {each.detector: each.today for each in detectors}["fake_follower_spike"] == sum(
        1 for _, spike_day in truth.bought_followers() if spike_day == day
    )


def test_a_day_without_a_detect_run_is_an_error(platform_run):
    _, lake, _ = platform_run
    with pytest.raises(ReportError, match="no detect run for 2031-01-01"):
        detector_days(lake, date(2031, 1, 1))


def test_spike_view_follows_end_with_the_observed_day_above_the_threshold(platform_run, settings):
    truth, lake, _ = platform_run
    day = _spike_day(truth)
    review = daily_review(lake, day, settings)
    assert {view["finding"]["account_id"] for view in review.spikes} == {
        account for account, spike_day in truth.bought_followers() if spike_day == day
    }
    for view in review.spikes:
        evidence = view["finding"]["evidence"]
        assert len(view["series"]) == settings.spike.baseline_days + 1
        assert view["series"][-1] == (day, evidence["observed_follows"])
        low, high = view["band"]
        assert low <= view["expected"] <= high < view["threshold"] < evidence["observed_follows"]
        assert max(count for _, count in view["series"][:-1]) < view["threshold"]


def _first_day_of(lake, detector: str) -> date:
    return lake.read("findings").where(F.col("detector") == detector).agg(F.min("run_date")).collect()[0][0]


def _accounts_of(lake, detector: str, day: date) -> set[str]:
    found = lake.read("findings").where((F.col("detector") == detector) & (F.col("run_date") == day))
    return {row["account_id"] for row in found.select("account_id").collect()}


def test_engagement_view_ends_with_the_observed_day_above_the_threshold_and_is_drawn(platform_run, settings):
    _, lake, _ = platform_run
    day = _first_day_of(lake, "fake_engagement")
    review = daily_review(lake, day, settings)
    assert {view["finding"]["account_id"] for view in review.engagement} == _accounts_of(lake, "fake_engagement", day)
    for view in review.engagement:
        evidence = view["finding"]["evidence"]
        assert len(view["series"]) == settings.engagement.baseline_days + 1
        assert view["series"][-1] == (day, evidence["observed_events"])
        assert view["expected"] < view["threshold"] < evidence["observed_events"] * 1.01
        # Every planted finding buys an article and so carries its curve: drawn over its first days.
        assert view["life"] and view["life"]["series"][-1] == (day, evidence["article_age"]["observed_events"])
    document = render(review, "test lake", review_time())
    assert document.count('class="chart audience"') == len(review.engagement) > 0
    assert document.count('class="chart article"') == len(review.engagement)
    assert f"Faked engagement ({len(review.engagement)})" in document


def test_transfer_view_shows_the_accounts_operators_with_the_new_ones_apart(platform_run, settings):
    _, lake, _ = platform_run
    day = _first_day_of(lake, "unapproved_transfer")
    review = daily_review(lake, day, settings)
    flagged = _accounts_of(lake, "unapproved_transfer", day)
    assert {view["finding"]["account_id"] for view in review.transfers} == flagged
    for view in review.transfers:
        assert view["days"][-1] == day and len(view["days"]) == settings.transfer.operator_window_days + 1
        assert view["new"] == set(view["finding"]["evidence"]["new_operators"])
        assert view["new"] <= set(view["activity"])
        assert all(view["days"][0] <= seen <= day for seen_days in view["activity"].values() for seen in seen_days)
    document = render(review, "test lake", review_time())
    assert document.count('class="chart operators"') == len(review.transfers) > 0


def test_clusters_group_the_days_batch_findings_and_mask_phone_blocks(platform_run):
    _, lake, _ = platform_run
    day = _listing_day(lake)
    batch = lake.read("findings").where((F.col("run_date") == day) & (F.col("detector") == "batch_registration"))
    findings = [{**row.asDict(), "evidence": json.loads(row["evidence"])} for row in batch.collect()]
    clusters = registration_clusters(findings)
    assert sorted(account for cluster in clusters for account in cluster["flagged"]) == sorted(
        row["account_id"] for row in findings
    )
    assert len(clusters) == len({finding["evidence"]["cluster_id"] for finding in findings})
    blocks = [key["key_value"] for c in clusters for key in c["shared_keys"] if key["key_type"] == "phone_block"]
    assert blocks and all(re.fullmatch(r"\d{3}\*{4}", block) for block in blocks)


def test_blacklist_changes_hold_the_days_listings_and_not_other_days(platform_run):
    _, lake, _ = platform_run
    day = _listing_day(lake)
    listed = blacklist_changes(lake, day)
    assert listed and {entry["listed_on"] for entry in listed} == {day}
    assert not blacklist_changes(lake, date(2026, 1, 2))


def test_report_command_writes_one_self_contained_file(platform_run, settings, tmp_path):
    truth, lake, _ = platform_run
    out = tmp_path / "review.html"
    day = _spike_day(truth)
    result = CliRunner().invoke(app, ["report", "--date", day.isoformat(), "--out", str(out), "--lake", str(lake.root)])
    assert result.exit_code == 0, result.output
    document = out.read_text()
    assert "<script" not in document
    # Nothing is fetched: no external stylesheet, image, font or link target.
    assert not re.search(r"""(src|href)\s*=|url\(|@import""", document)
    drawn_per_finding = ("fake_follower_spike", "fake_engagement", "unapproved_transfer")
    per_finding = lake.read("findings").where((F.col("run_date") == day) & F.col("detector").isin(*drawn_per_finding))
    charts = document.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart')
    # A faked-engagement finding whose evidence holds its article's curve also draws the article over its first days.
    lives = sum(1 for view in daily_review(lake, day, settings).engagement if view["life"])
    assert document.count('class="chart article"') == lives
    assert charts == len(DETECTORS) + per_finding.count() + lives


def test_report_renders_its_charts_and_tables_in_headless_chromium(platform_run, settings, tmp_path):
    truth, lake, _ = platform_run
    day = _listing_day(lake)
    review = daily_review(lake, day, settings)
    page = tmp_path / "review.html"
    page.write_text(render(review, "test lake", review_time()).replace("</body>", PROBE + "</body>"))
    probe = _render_in_chromium(page)
    charts = probe["charts"]
    lives = sum(1 for view in review.engagement if view["life"])
    drawn_per_finding = len(review.spikes) + len(review.engagement) + lives + len(review.transfers)
    assert len(charts) == len(DETECTORS) + drawn_per_finding
    assert all(width > 100 and height > 50 for width, height in (chart["size"] for chart in charts))
    drawn = {chart["label"].split(":")[0]: chart["bars"] for chart in charts}
    assert drawn["batch_registration"] >= 1 and drawn["quota_overrun"] >= 1
    tables = {table["kind"]: table for table in probe["tables"]}
    assert tables["detectors"]["rows"] == len(DETECTORS)
    assert tables["findings"]["rows"] > 0 and tables["clusters"]["rows"] == len(review.clusters)
    assert tables["blacklist"]["rows"] == len(review.blacklist_changes) > 0
    assert all(table["size"][1] > 0 for table in probe["tables"])


def review_time() -> datetime:
    return datetime(2026, 11, 25, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def _render_in_chromium(page: Path) -> dict:
    browser = shutil.which("chromium")
    assert browser, "Debian's chromium is not installed: `make test` installs it (make browser)"
    done = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,2000", "--dump-dom"]
        + [page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    found = re.search(r'<pre id="probe">(.*?)</pre>', done.stdout, re.S)
    assert found, done.stderr[-2000:]
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
