"""The review console: refusals without a browser, and a review in a real browser that changes the next run."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pyspark.sql import functions as F
from typer.testing import CliRunner

from accountwatch.flows.cli import app as cli_app
from accountwatch.flows.cli.common import CommandError
from accountwatch.flows.console import create_app

TOKEN = "console-token-0123456789"
# A busy machine can take minutes to start the console's JVM: generous, as for every process start here.
CONSOLE_START_SECONDS = 600


@pytest.fixture
def guarded(lake, settings, tmp_path):
    return TestClient(create_app(lake, settings, str(lake.root), token=TOKEN), follow_redirects=False)


def test_every_page_but_health_needs_the_token(guarded):
    assert guarded.get("/health").text == "ok"
    refused = guarded.get("/queue")
    assert refused.status_code == 401 and "token" in refused.text
    assert guarded.get("/queue?token=wrong-token-0123456789").status_code == 401
    assert guarded.post("/review", data={"finding_id": "f", "verdict": "dismissed"}).status_code == 401


def test_the_token_once_in_the_address_is_kept_in_a_cookie(guarded):
    first = guarded.get(f"/health?token={TOKEN}")
    assert first.cookies.get("accountwatch_console_token") == TOKEN


def test_a_form_posted_from_another_site_is_refused(lake, settings, tmp_path):
    client = TestClient(create_app(lake, settings, str(lake.root)), follow_redirects=False)
    posted = client.post(
        "/review",
        data={"finding_id": "f", "verdict": "dismissed", "reviewer": "li.wei"},
        headers={"origin": "http://evil.example"},
    )
    assert posted.status_code == 403
    assert not (lake.root / "reviews").exists()


def test_a_review_without_a_reviewer_or_a_finding_is_sent_back_with_the_reason(lake, settings, tmp_path):
    client = TestClient(create_app(lake, settings, str(lake.root)), follow_redirects=False)
    nobody = client.post("/review", data={"finding_id": "f", "verdict": "dismissed", "back": "/queue?day=2026-05-01"})
    assert nobody.status_code == 303
    assert nobody.headers["location"].startswith("/queue?day=2026-05-01&error=a+reviewer+name+is+required")
    nothing = client.post("/review", data={"verdict": "dismissed", "reviewer": "li.wei", "back": "//evil.example/"})
    assert nothing.headers["location"] == "/queue?error=select+at+least+one+finding"
    unknown = client.post("/review", data={"finding_id": "nope", "verdict": "dismissed", "reviewer": "li.wei"})
    assert "no+finding+with+id" in unknown.headers["location"]
    assert not (lake.root / "reviews").exists()


def test_binding_beyond_this_machine_needs_a_token(tmp_path):
    refused = CliRunner().invoke(cli_app, ["console", "--host", "0.0.0.0", "--lake", str(tmp_path)])
    assert isinstance(refused.exception, CommandError)
    assert "give --token" in str(refused.exception)
    short = CliRunner().invoke(cli_app, ["console", "--host", "0.0.0.0", "--token", "short", "--lake", str(tmp_path)])
    assert "too short" in str(short.exception)


# --- In a real browser, on a copy of the shared tiny platform's lake


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start_console(lake_dir: Path, port: int, log: Path) -> subprocess.Popen:
    command = [str(Path(sys.executable).with_name("accountwatch")), "console", "--lake", str(lake_dir)]
    process = subprocess.Popen(
        [*command, "--port", str(port)], stdout=log.open("w"), stderr=subprocess.STDOUT, env=os.environ.copy()
    )
    deadline = time.monotonic() + CONSOLE_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the console exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            time.sleep(1)
    process.kill()
    raise AssertionError(f"the console did not answer within {CONSOLE_START_SECONDS} s: {log.read_text()[-2000:]}")


def _browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and driver, "Debian's chromium and chromium-driver are not installed: `make test` installs them"
    options = Options()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    browser = webdriver.Chrome(service=Service(driver), options=options)
    browser.set_page_load_timeout(300)
    return browser


def _wait_for_banner(browser, seconds: float = 300.0):
    """The page's message or error banner, once the page that shows it has loaded."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    shown = expected_conditions.any_of(
        expected_conditions.presence_of_element_located((By.ID, "message")),
        expected_conditions.presence_of_element_located((By.ID, "error")),
    )
    return WebDriverWait(browser, seconds).until(shown)


def _single_finding_account(lake) -> tuple[str, str, str]:
    """An account whose current tier (C or D) rests on its only finding: (account, tier, finding_id)."""
    findings = lake.read("findings")
    alone = findings.groupBy("account_id").count().where(F.col("count") == 1).select("account_id")
    rows = (
        lake.read("account_tiers")
        .where(F.col("is_current") & F.col("tier").isin("C", "D") & (F.size("reasons") == 1))
        .join(alone, "account_id")
        .orderBy(F.col("valid_from").desc(), "account_id")
        .collect()
    )
    assert rows, "the tiny platform has no account whose tier rests on one finding"
    return rows[0]["account_id"], rows[0]["tier"], rows[0]["reasons"][0]


def test_an_analyst_dismisses_a_finding_in_the_browser_and_the_next_run_changes_its_tier(
    platform_run, settings, tmp_path
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    from accountwatch.flows.pipeline import nightly
    from accountwatch.jobs.core.lake import Lake

    truth, shared, _ = platform_run
    lake_dir = tmp_path / "lake"
    shutil.copytree(shared.root, lake_dir)
    lake = Lake(shared.spark, lake_dir, settings)
    account, tier_before, finding_id = _single_finding_account(lake)
    day = lake.read("findings").where(F.col("finding_id") == finding_id).collect()[0]["run_date"]
    port = _free_port()
    server = _start_console(lake_dir, port, tmp_path / "console.log")
    browser = _browser()
    try:
        base = f"http://127.0.0.1:{port}"
        browser.get(f"{base}/queue?day={day.isoformat()}")
        assert day.isoformat() in browser.title
        links = browser.find_elements(By.CSS_SELECTOR, f"a.finding[href='/finding/{finding_id}']")
        assert len(links) == 1, "the finding is not in its day's open queue"
        links[0].click()
        WebDriverWait(browser, 300).until(expected_conditions.presence_of_element_located((By.ID, "sentence")))
        assert account in browser.find_element(By.TAG_NAME, "h1").text
        assert browser.find_element(By.ID, "sentence").text
        assert browser.find_elements(By.CSS_SELECTOR, "svg"), "the finding page shows no chart"
        tiers_shown = browser.find_element(By.CSS_SELECTOR, "table.tiers").text
        assert tier_before in tiers_shown
        browser.find_element(By.ID, "reviewer").send_keys("li.wei")
        browser.find_element(By.ID, "note").send_keys("verified with the platform's records")
        browser.find_element(By.ID, "dismiss").click()
        # The click returns once the form is sent; the verdict's commit can take a while on a busy machine.
        banner = _wait_for_banner(browser)
        assert "dismissed by li.wei: 1 finding(s)" in banner.text, banner.text
        assert not browser.find_elements(By.CSS_SELECTOR, f"a.finding[href='/finding/{finding_id}']")

        reviews = lake.read("reviews").where(F.col("finding_id") == finding_id).collect()
        assert [(row["verdict"], row["reviewer"]) for row in reviews] == [("dismissed", "li.wei")]
        nightly(truth.end.isoformat(), str(Path(shared.root).parent / "landing"), str(lake_dir))
        current = lake.read("account_tiers").where((F.col("account_id") == account) & F.col("is_current")).collect()
        assert len(current) == 1 and current[0]["tier"] not in (tier_before, "D")

        browser.get(f"{base}/finding/{finding_id}")
        assert "dismissed" in browser.find_element(By.CSS_SELECTOR, "table.verdicts").text
        last_spell = browser.find_elements(By.CSS_SELECTOR, "table.tiers tbody tr")[-1].text
        assert current[0]["tier"] in last_spell.split()
    finally:
        browser.quit()
        server.terminate()
        server.wait(timeout=60)


def test_a_review_while_a_run_writes_the_lake_fails_naming_the_run(lake, settings, monkeypatch):
    from accountwatch.flows import console
    from accountwatch.flows.runtime import writer_lock

    monkeypatch.setattr(console, "LOCK_WAIT_SECONDS", 0.0)
    client = TestClient(create_app(lake, settings, str(lake.root)), follow_redirects=False)
    with writer_lock(str(lake.root), "the nightly run of 2026-05-01", 0):
        posted = client.post("/review", data={"finding_id": "f", "verdict": "dismissed", "reviewer": "li.wei"})
    assert posted.status_code == 303
    assert "the+nightly+run+of+2026-05-01" in posted.headers["location"]
    assert not (lake.root / "reviews").exists()


def test_a_finding_page_shows_phone_number_blocks_masked_and_a_bulk_verdict_is_one_commit(lake, settings):
    import json
    from datetime import date

    from accountwatch.jobs.core.lake import TABLES

    evidence = {"shared_keys": [{"key_type": "phone_block", "key_value": "1380013"}], "members": 2}
    rows = [
        (f"f{n}", date(2026, 5, 1), "batch_registration", f"u{n}", "s1", "medium", 0.9, json.dumps(evidence), "1",
         "review", f"k{n}")
        for n in (1, 2)
    ]  # fmt: skip
    lake.upsert("findings", lake.spark.createDataFrame(rows, TABLES["findings"].schema), ["finding_id"])
    client = TestClient(create_app(lake, settings, str(lake.root)), follow_redirects=False)
    page = client.get("/finding/f1")
    assert page.status_code == 200
    assert "138****" in page.text and "1380013" not in page.text
    posted = client.post(
        "/review", data={"finding_id": ["f1", "f2"], "verdict": "confirmed", "reviewer": "li.wei", "back": "/queue"}
    )
    assert "confirmed+by+li.wei%3A+2+finding" in posted.headers["location"]
    assert [commit["operation"] for commit in lake.commits("reviews")].count("MERGE") == 1
    assert sorted(row["finding_id"] for row in lake.read("reviews").collect()) == ["f1", "f2"]


# Long: the literal rows each chart draws (engagement, articles, operators, transfers), then each page checked.
def test_engagement_and_transfer_findings_are_drawn_with_their_own_charts(lake, settings):
    import json
    from datetime import date, datetime, timedelta

    from accountwatch.jobs.core.lake import TABLES, local_rows

    day = date(2026, 5, 1)

    def write(table: str, rows: list[tuple]) -> None:
        lake.replace(table, local_rows(lake.spark, rows, TABLES[table].schema), "true")

    registered = datetime(2025, 1, 1)
    write(
        "accounts",
        [
            (account, "public", "s1", "enterprise", account, registered, None, None, None, None, "news", "active",
             registered, date(2025, 1, 1), "a.csv", 1)
            for account in ("pa_e", "pa_t", "pa_a")
        ],
    )  # fmt: skip
    write("detector_runs", [(day, "fake_engagement", "ok", 1, None)])
    baseline = {"expected_events": 20.0, "scale": 4.47, "days": 28}
    write(
        "findings",
        [
            ("fe", day, "fake_engagement", "pa_e", "s1", "low", 67.1,
             json.dumps({"observed_events": 320, "baseline": baseline, "z": 67.1, "signals": ["actors"]}), "2",
             "warning", "ke"),
            ("fa", day, "fake_engagement", "pa_a", "s1", "low", 30.0,
             json.dumps({"observed_events": 1300, "baseline": {"expected_events": 1000.0, "scale": 178.0},
                         "z": 1.69, "spike": "article", "signals": ["actors"],
                         "top_article": {"observed_events": 400, "expected_events": 100.0, "scale": 10.0, "z": 30.0},
                         "article_age": {"content_id": "a-7", "first_day": (day - timedelta(days=2)).isoformat(),
                                         "age_days": 2, "observed_by_age": [90, 20, 400],
                                         "expected_by_age": [80.0, 25.0, 9.0]}}),
             "3", "warning", "ka"),
            ("ut", day, "unapproved_transfer", "pa_t", "s1", "medium", 1.0,
             json.dumps({"old_operators": ["op_old"], "new_operators": ["op_new"]}), "1", "suspend_updates", "kt"),
        ],
    )  # fmt: skip
    write(
        "account_daily",
        [
            ("pa_e", each, each, 0, 0, None, None, 320 if each == day else 20, 0, 0, 0, 0, 0, None)
            for each in (day - timedelta(days=offset) for offset in range(29))
        ]
        + [
            (
                "pa_a",
                each,
                each,
                0,
                0,
                None,
                None,
                1300 if each == day else 1000,
                0,
                0,
                0,
                0,
                0,
                400 if each == day else 100,
            )
            for each in (day - timedelta(days=offset) for offset in range(29))
        ],
    )
    at = datetime(2026, 4, 1, 9)
    write(
        "operator_daily",
        [
            ("pa_t", "op_old", day - timedelta(days=20), 1, at, at, ["dev-old"], ["10.1.1.0/24"]),
            ("pa_t", "op_new", day, 1, at, at, ["dev-new"], ["10.9.9.0/24"]),
        ],
    )
    client = TestClient(create_app(lake, settings, str(lake.root)), follow_redirects=False)
    engagement = client.get("/finding/fe")
    assert engagement.status_code == 200 and 'class="chart audience"' in engagement.text
    assert f'data-day="{day.isoformat()}" data-value="320"' in engagement.text
    # A spike of its top article: the chart draws the account's top article of each day, not its day.
    article = client.get("/finding/fa")
    assert article.status_code == 200 and "top article" in article.text
    assert f'data-day="{day.isoformat()}" data-value="400"' in article.text
    assert 'data-value="1300"' not in article.text
    # Its article over its first three days, against the account's earlier articles at the same age.
    assert 'class="chart article"' in article.text and "article a-7 over its first 3 days" in article.text
    assert f'data-day="{(day - timedelta(days=2)).isoformat()}" data-value="90"' in article.text
    assert 'class="chart article"' not in engagement.text
    transfer = client.get("/finding/ut")
    assert transfer.status_code == 200 and 'class="chart operators"' in transfer.text
    assert 'class="flagged"' in transfer.text and 'data-operator="op_new"' in transfer.text
