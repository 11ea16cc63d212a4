"""The review console's pages: the day's queue, one finding with its evidence and history, the blacklist.

Server-rendered HTML from plain rows (the routes in `flows/console.py` read the lake); no scripts. Every value
is escaped; forms post back to the console, which records verdicts and lifts through the same code as the
command line.
"""

from __future__ import annotations

import json
from datetime import date
from html import escape
from urllib.parse import urlencode

from accountwatch.jobs.outputs import charts
from accountwatch.jobs.outputs.page import RawHtml, page, table

STATUSES = ("open", "confirmed", "dismissed", "all")

CONSOLE_CSS = """
nav a { margin-right: 14px; } form.filters, form.review { margin: 8px 0; font-size: 13px; }
form.review input[type=text] { width: 220px; } .banner { padding: 6px 10px; border-radius: 4px; margin: 8px 0; }
.banner.ok { background: #e6f4ea; } .banner.error { background: #fde8e8; }
pre.evidence { background: #f5f7f9; padding: 8px; font-size: 12px; max-width: 900px; overflow-x: auto; }
"""


def _nav() -> str:
    links = [("Queue", "/queue"), ("Blacklist", "/blacklist")]
    return "<nav>" + "".join(f'<a href="{escape(href)}">{name}</a>' for name, href in links) + "</nav>"


def _banner(message: str | None, error: str | None) -> str:
    if error:
        return f'<p class="banner error" id="error">{escape(error)}</p>'
    if message:
        return f'<p class="banner ok" id="message">{escape(message)}</p>'
    return ""


def _select(name: str, options: list[tuple[str, str]], chosen: str) -> str:
    shown = "".join(
        f'<option value="{escape(value)}"{" selected" if value == chosen else ""}>{escape(label)}</option>'
        for value, label in options
    )
    return f'<select name="{name}" id="{name}">{shown}</select>'


def _review_form(hidden: list[tuple[str, str]], table_html: str, reviewer: str, suffix: str, label: str) -> str:
    """The form that posts a verdict: hidden fields, an optional table of checkboxes, reviewer, note, two buttons.

    The buttons are `confirm<suffix>` and `dismiss<suffix>`, labelled "Confirm<label>" and "Dismiss<label>".
    """
    fields = "".join(f'<input type="hidden" name="{name}" value="{escape(value)}">' for name, value in hidden)
    buttons = " ".join(
        f'<button type="submit" name="verdict" value="{verdict}" id="{word.lower()}{suffix}">{word}{label}</button>'
        for verdict, word in (("confirmed", "Confirm"), ("dismissed", "Dismiss"))
    )
    return (
        f'<form class="review" method="post" action="/review">{fields}{table_html}'
        f'<label>reviewer <input type="text" name="reviewer" id="reviewer" required value="{escape(reviewer)}">'
        f'</label> <label>note <input type="text" name="note" id="note"></label> {buttons}</form>'
    )


def queue_page(
    day: date | None,
    days: list[date],
    findings: list[dict],
    detectors: list[str],
    detector: str,
    status: str,
    reviewer: str,
    lake_label: str,
    message: str | None = None,
    error: str | None = None,
) -> str:
    """The day's findings, most severe and surest first, with filters and a form to review the selected ones."""
    title = f"accountwatch review queue: {day.isoformat() if day else 'no findings yet'}"
    filters = (
        '<form class="filters" method="get" action="/queue">'
        + "day "
        + _select("day", [(each.isoformat(), each.isoformat()) for each in days], day.isoformat() if day else "")
        + " detector "
        + _select("detector", [("", "all"), *((name, name) for name in detectors)], detector)
        + " status "
        + _select("status", [(each, each) for each in STATUSES], status)
        + ' <button type="submit" id="filter">Show</button></form>'
    )
    back = "/queue?" + urlencode({"day": day.isoformat() if day else "", "detector": detector, "status": status})
    rows = [
        (
            RawHtml(f'<input type="checkbox" name="finding_id" value="{escape(finding["finding_id"])}">'),
            RawHtml(f'<span class="{escape(finding["severity"])}">{escape(finding["severity"])}</span>'),
            round(float(finding["score"]), 2),
            finding["detector"],
            finding["account_id"],
            finding["description"],
            finding["status"],
            RawHtml(
                f'<a class="finding" href="/finding/{escape(finding["finding_id"])}">'
                f"{escape(finding['finding_id'][:12])}</a>"
            ),
        )
        for finding in findings
    ]
    columns = ["", "severity", "score", "detector", "account", "evidence", "status", "finding"]
    body = [
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">Lake {escape(lake_label)}; {len(findings)} finding(s) shown.</p>',
        _banner(message, error),
        filters,
        _review_form(
            [("back", back)],
            table(columns, rows, numeric=["score"], css_class="queue")
            if rows
            else '<p class="note">Nothing to show.</p>',
            reviewer,
            "-selected",
            " selected",
        ),
    ]
    return page(title, "\n".join([_nav(), *body]), CONSOLE_CSS)


def finding_page(
    finding: dict,
    verdicts: list[dict],
    chart: str,
    history: dict[str, list[dict]],
    reviewer: str,
    next_url: str,
    message: str | None = None,
    error: str | None = None,
) -> str:
    """One finding: its facts, the sentence and evidence, a chart, its verdicts and the account's history."""
    title = f"{finding['detector']} on {finding['account_id']}, {finding['run_date'].isoformat()}"
    facts = [
        ("finding", finding["finding_id"]),
        ("detector", finding["detector"]),
        ("rule", finding.get("rule", "")),
        ("day", finding["run_date"].isoformat()),
        ("account", finding["account_id"]),
        ("subject", finding.get("subject_id") or ""),
        ("severity", finding["severity"]),
        ("score", round(float(finding["score"]), 3)),
        ("recommended action", finding["recommended_action"]),
        ("status", finding["status"]),
    ]
    body = [
        _nav(),
        f"<h1>{escape(title)}</h1>",
        _banner(message, error),
        f'<p id="sentence">{escape(finding["description"])}</p>',
        table(["what", "value"], facts, css_class="facts"),
        _review_form([("finding_id", finding["finding_id"]), ("back", next_url)], "", reviewer, "", ""),
        f'<div class="charts">{chart}</div>',
        "<h2>Evidence</h2>",
        f'<pre class="evidence">{escape(json.dumps(finding["evidence"], ensure_ascii=False, indent=2))}</pre>',
        "<h2>Verdicts on this finding</h2>",
        _rows(verdicts, ["reviewed_at", "verdict", "reviewer", "note"], "verdicts"),
        "<h2>Findings of this account</h2>",
        _rows(history["findings"], ["run_date", "detector", "severity", "description"], "account-findings"),
        "<h2>Tier spells</h2>",
        _rows(history["tiers"], ["valid_from", "valid_to", "tier", "rule", "reasons", "is_current"], "tiers"),
        "<h2>Blacklist rows of this account and its subject</h2>",
        _rows(history["blacklist"], ["entity_type", "entity_id", "status", "listed_on", "changed_by"], "blacklist"),
    ]
    return page(f"accountwatch: {title}", "\n".join(body), CONSOLE_CSS + charts.CHART_CSS)


def _rows(rows: list[dict], columns: list[str], css_class: str) -> str:
    if not rows:
        return f'<p class="note {escape(css_class)}">None.</p>'
    return table(columns, [[row.get(column) for column in columns] for row in rows], css_class=css_class)


def blacklist_page(
    active: list[dict], history: list[dict], reviewer: str, message: str | None = None, error: str | None = None
) -> str:
    """The entries in force, each with a form to lift it, and every listing and lift in order."""
    rows = [
        (
            entry["entity_type"],
            entry["entity_id"],
            entry["listed_on"],
            entry["reason"],
            RawHtml(
                '<form class="lift" method="post" action="/blacklist/lift">'
                f'<input type="hidden" name="entity" value="{escape(entry["entity_id"])}">'
                f'<input type="hidden" name="entity_type" value="{escape(entry["entity_type"])}">'
                f'<input type="text" name="by" required placeholder="who lifts it" value="{escape(reviewer)}"> '
                '<input type="text" name="reason" required placeholder="why"> '
                '<button type="submit">Lift</button></form>'
            ),
        )
        for entry in active
    ]
    body = [
        _nav(),
        "<h1>accountwatch blacklist</h1>",
        _banner(message, error),
        f"<h2>In force ({len(active)})</h2>",
        table(["type", "id", "listed on", "reason", "lift"], rows, css_class="active")
        if rows
        else '<p class="note">No entry in force.</p>',
        f"<h2>Every listing and lift ({len(history)})</h2>",
        _rows(history, ["entity_type", "entity_id", "status", "listed_on", "changed_by", "change_reason"], "history"),
    ]
    return page("accountwatch blacklist", "\n".join(body), CONSOLE_CSS)


def message_page(title: str, text: str) -> str:
    """A page that only says something (a refusal, a missing finding)."""
    return page(title, f"{_nav()}<h1>{escape(title)}</h1><p>{escape(text)}</p>", CONSOLE_CSS)
