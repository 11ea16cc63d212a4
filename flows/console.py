"""`accountwatch console`: analysts review the day's findings in a browser.

A FastAPI app served by uvicorn, bound to 127.0.0.1 unless told otherwise (then a token is required). One request
is handled at a time against the console's one Spark session; each page reads the lake's tables at the versions
current when it started (`Lake.pinned`), so a page never mixes a run's before and after. Verdicts and lifts are
written through the same code as `accountwatch review` and `accountwatch blacklist lift`, inside the lake's
writer lock: during a nightly run a review waits a little, then fails with the run named, and nothing is written.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import parse_qs, urlencode, urlparse

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from pyspark.sql import functions as F

from accountwatch.flows.runtime import LakeBusyError, writer_lock
from accountwatch.jobs.core.config import Settings
from accountwatch.jobs.core.lake import Lake
from accountwatch.jobs.core.pii import masked_phones
from accountwatch.jobs.detectors import fake_engagement, fake_follower_spike, registry, unapproved_transfer
from accountwatch.jobs.outputs import charts, report_views
from accountwatch.jobs.outputs.bundle_summary import describe_finding
from accountwatch.jobs.outputs.console_pages import (
    STATUSES,
    blacklist_page,
    finding_page,
    message_page,
    queue_page,
)
from accountwatch.jobs.outputs.report import (
    ReportError,
    account_view,
    day_findings,
    follow_series,
    latest_run_day,
    masked_evidence,
    spike_views,
)
from accountwatch.jobs.standing import blacklist
from accountwatch.jobs.standing.reviews import ReviewError, latest_verdicts, record_reviews

# Every table a page reads, pinned at its version when the request starts.
READ_TABLES = ("findings", "reviews", "account_tiers", "blacklist", "accounts", "account_daily", "detector_runs")
# Days of new follows a finding's chart shows, up to its day.
FOLLOW_DAYS = 60
# How long a review or lift waits for a run that is writing the lake before it is refused.
LOCK_WAIT_SECONDS = 10.0
TOKEN_COOKIE = "accountwatch_console_token"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass
class Console:
    """What every request needs: the lake, its settings and folder, the token (if any) and the request lock."""

    lake: Lake
    settings: Settings
    lake_dir: str
    token: str | None = None
    reviewer: str = ""
    serial: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def reading(self) -> Iterator[None]:
        """One request at a time, every table it reads pinned at its current version."""
        with self.serial, self.lake.pinned(READ_TABLES):
            yield

    def statuses(self, finding_ids: list[str]) -> dict[str, str]:
        """The latest verdict of each reviewed finding among `finding_ids`."""
        if not finding_ids:
            return {}
        rows = latest_verdicts(self.lake).where(F.col("finding_id").isin(finding_ids)).collect()
        return {row["finding_id"]: row["verdict"] for row in rows}


def _form(body: bytes) -> dict[str, list[str]]:
    # A body that is not UTF-8 keeps replacement characters: its ids then name no finding and are refused.
    return parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)


def _first(form: dict[str, list[str]], name: str) -> str:
    return (form.get(name) or [""])[0].strip()


def _local_url(url: str, fallback: str) -> str:
    """`url` when it is a path on this console (no open redirect elsewhere), else `fallback`."""
    return url if url.startswith("/") and not url.startswith("//") else fallback


def _with(url: str, **values: str) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(values)


def _parse_day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _guarded(app: FastAPI, console: Console) -> None:
    """The token check (when there is a token) and the same-origin check on every form post."""

    @app.middleware("http")
    async def guard(request: Request, call_next) -> Response:
        given = request.query_params.get("token") or request.cookies.get(TOKEN_COOKIE)
        if console.token and request.url.path != "/health":
            if not given or not secrets.compare_digest(given, console.token):
                text = "Open the console with ?token=... (the token it was started with)."
                return HTMLResponse(message_page("A token is required", text), status_code=401)
        if request.method == "POST":
            origin = request.headers.get("origin")
            if origin and origin != "null" and urlparse(origin).netloc != request.headers.get("host"):
                return HTMLResponse(message_page("Refused", "A form posted from another site."), status_code=403)
        response = await call_next(request)
        if console.token and request.query_params.get("token") == console.token:
            response.set_cookie(TOKEN_COOKIE, console.token, httponly=True, samesite="strict")
        return response


def _queue_routes(app: FastAPI, console: Console) -> None:
    lake = console.lake

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/queue", status_code=303)

    @app.get("/health", response_class=PlainTextResponse)
    def health() -> str:
        return "ok"

    @app.get("/queue", response_class=HTMLResponse)
    def queue(
        day: str | None = None,
        detector: str = "",
        status: str = "open",
        message: str | None = None,
        error: str | None = None,
    ) -> str:
        if detector and detector not in registry.names():
            error, detector = f"unknown detector {detector!r}", ""
        if status not in STATUSES:
            error, status = f"unknown status {status!r} (expected {', '.join(STATUSES)})", "open"
        with console.reading():
            days = sorted(
                (row["run_date"] for row in lake.read("findings").select("run_date").distinct().collect()),
                reverse=True,
            )
            asked = _parse_day(day)
            chosen = asked if asked in days else (days[0] if days else None)
            if day and asked not in days and not error:
                error = f"no findings on {day}: showing the latest day with findings"
            findings = day_findings(lake, chosen) if chosen else []
            verdicts = console.statuses([finding["finding_id"] for finding in findings])
        for finding in findings:
            finding["status"] = verdicts.get(finding["finding_id"], "open")
        shown = [
            finding
            for finding in findings
            if (not detector or finding["detector"] == detector) and status in ("all", finding["status"])
        ]
        names = list(registry.names())
        label = console.lake_dir
        return queue_page(chosen, days, shown, names, detector, status, console.reviewer, label, message, error)


def _finding_routes(app: FastAPI, console: Console) -> None:
    lake, settings = console.lake, console.settings

    @app.get("/finding/{finding_id}", response_class=HTMLResponse)
    def finding(finding_id: str, message: str | None = None, error: str | None = None) -> Response:
        with console.reading():
            found = lake.read("findings").where(F.col("finding_id") == finding_id).collect()
            if not found:
                text = f"No finding with id {finding_id!r} in {console.lake_dir}."
                return HTMLResponse(message_page("No such finding", text), status_code=404)
            row = found[0].asDict()
            # Shown masked (phone-number blocks by their network prefix only), as in the report.
            row["evidence"] = masked_evidence(json.loads(row["evidence"]))
            row["description"] = describe_finding(row["detector"], row["evidence"])
            row["rule"] = registry.get(row["detector"]).rule if row["detector"] in registry.names() else ""
            row["status"] = console.statuses([finding_id]).get(finding_id, "open")
            verdicts = [
                each.asDict()
                for each in lake.read("reviews")
                .where(F.col("finding_id") == finding_id)
                .withColumn("note", masked_phones(F.col("note")))
                .orderBy("reviewed_at")
                .collect()
            ]
            history, chart = _history_and_chart(lake, settings, row)
        back = "/queue?" + urlencode({"day": row["run_date"].isoformat()})
        return HTMLResponse(finding_page(row, verdicts, chart, history, console.reviewer, back, message, error))


def _history_and_chart(lake: Lake, settings: Settings, row: dict) -> tuple[dict[str, list[dict]], str]:
    """The account's findings, tier spells and blacklist rows up to the latest run, and the finding's chart."""
    day, account = row["run_date"], row["account_id"]
    try:
        view = account_view(lake, account, max(day, latest_run_day(lake)))
    except ReportError:  # a finding on an account the accounts table does not hold (never expected)
        return {"findings": [], "tiers": [], "blacklist": []}, ""
    history = {"findings": view.findings, "tiers": view.tiers, "blacklist": view.blacklist}
    title = f"new follows of {account} up to {day.isoformat()}"
    if row["detector"] == fake_follower_spike.NAME:
        spike = spike_views(lake, [row], settings)[0]
        chart = charts.follower_chart(spike["series"], day, spike["expected"], spike["band"], spike["threshold"], title)
    elif row["detector"] == fake_engagement.NAME:
        seen = report_views.engagement_views(lake, [row], settings)[0]
        measured = (
            "the top article's reads, likes, shares and comments"
            if seen["article"]
            else "reads, likes, shares and comments"
        )
        title = f"{measured} of {account} up to {day.isoformat()}"
        chart = charts.audience_chart(seen["series"], day, seen["expected"], seen["band"], seen["threshold"], title)
        chart += report_views.life_chart(row, day, seen)
    elif row["detector"] == unapproved_transfer.NAME:
        seen = report_views.transfer_views(lake, [row], settings)[0]
        title = f"operators of {account} up to {day.isoformat()}"
        chart = charts.operators_chart(seen["activity"], seen["days"], day, seen["new"], title)
    else:
        chart = charts.daily_counts_chart(follow_series(lake, account, day, FOLLOW_DAYS), day, title)
    return history, chart


def _write_routes(app: FastAPI, console: Console) -> None:
    lake, settings = console.lake, console.settings

    @app.post("/review")
    async def review(request: Request) -> RedirectResponse:
        form = _form(await request.body())
        back = _local_url(_first(form, "back"), "/queue")
        ids = [value for value in form.get("finding_id", []) if value]
        verdict, reviewer, note = _first(form, "verdict"), _first(form, "reviewer"), _first(form, "note")
        if not reviewer:
            return RedirectResponse(_with(back, error="a reviewer name is required"), status_code=303)
        if not ids:
            return RedirectResponse(_with(back, error="select at least one finding"), status_code=303)
        try:
            with (
                console.serial,
                writer_lock(console.lake_dir, f"a review by {reviewer} in the console", LOCK_WAIT_SECONDS),
            ):
                rows = record_reviews(lake, ids, verdict, reviewer, note or None, datetime.now(settings.zone))
        except (ReviewError, LakeBusyError) as refused:
            return RedirectResponse(_with(back, error=str(refused)), status_code=303)
        said = (
            f"{verdict} by {reviewer}: {len(rows)} finding(s); tiers and the blacklist take it into account at the "
            "next run"
        )
        return RedirectResponse(_with(back, message=said), status_code=303)

    @app.get("/blacklist", response_class=HTMLResponse)
    def blacklist_entries(message: str | None = None, error: str | None = None) -> str:
        with console.reading():
            rows = lake.read("blacklist").withColumn("change_reason", masked_phones(F.col("change_reason")))
            ordered = rows.orderBy("listed_on", "entity_type", "entity_id", "changed_at")
            history = [each.asDict() for each in ordered.collect()]
        active = [each for each in history if each["is_current"] and each["status"] == "active"]
        return blacklist_page(active, history, console.reviewer, message, error)

    @app.post("/blacklist/lift")
    async def lift(request: Request) -> RedirectResponse:
        form = _form(await request.body())
        entity, entity_type = _first(form, "entity"), _first(form, "entity_type") or None
        by, reason = _first(form, "by"), _first(form, "reason")
        if not reason:
            return RedirectResponse(_with("/blacklist", error="a reason for the lift is required"), status_code=303)
        try:
            with console.serial, writer_lock(console.lake_dir, f"a lift by {by} in the console", LOCK_WAIT_SECONDS):
                rows = blacklist.lift(lake, entity, by, reason, datetime.now(settings.zone), entity_type)
                blacklist.write(lake, rows)
        except (blacklist.BlacklistError, LakeBusyError) as refused:
            return RedirectResponse(_with("/blacklist", error=str(refused)), status_code=303)
        return RedirectResponse(_with("/blacklist", message=blacklist.lift_summary(rows)), status_code=303)


def create_app(lake: Lake, settings: Settings, lake_dir: str, token: str | None = None, reviewer: str = "") -> FastAPI:
    """The console's app on `lake`; with `token`, every page but /health needs it (once, then a cookie)."""
    app = FastAPI(title="accountwatch console", docs_url=None, redoc_url=None, openapi_url=None)
    console = Console(lake, settings, lake_dir, token, reviewer)
    _guarded(app, console)
    _queue_routes(app, console)
    _finding_routes(app, console)
    _write_routes(app, console)
    return app


def needs_token(host: str) -> bool:
    """Whether binding to `host` exposes the console beyond this machine (then a token is required)."""
    return host not in LOOPBACK_HOSTS
