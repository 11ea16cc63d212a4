"""The human-readable part of an evidence bundle: one sentence per finding, the time line and summary.html."""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING

from accountwatch.jobs.detectors import registry
from accountwatch.jobs.outputs import page as html

if TYPE_CHECKING:
    from accountwatch.jobs.outputs.evidence import Scope

__all__ = ["describe_finding", "render_summary", "timeline"]


def describe_finding(detector: str, evidence: dict) -> str:
    """One sentence on what a finding's evidence shows (its detector's sentence)."""
    try:
        return registry.get(detector).sentence(evidence)
    except registry.UnknownDetectorError:
        return json.dumps(evidence, ensure_ascii=False)[:200]


def timeline(
    accounts: Sequence[dict], findings: Sequence[dict], reviews: Sequence[dict], tiers: Sequence[dict], listings
) -> list[tuple[str, str, str, str]]:
    """What was found and done, in time order: (when, account or subject, what, details)."""
    events: list[tuple[str, int, str, str, str]] = []
    for account in accounts:
        if account.get("registered_at"):
            events.append(
                (account["registered_at"], 0, account["account_id"], "registered", account.get("account_name") or "")
            )
    for finding in findings:
        evidence = json.loads(finding["evidence"])
        what = f"finding: {finding['detector']} ({finding['severity']}, score {finding['score']})"
        details = (
            f"{describe_finding(finding['detector'], evidence)}; recommended: {finding['recommended_action']}; "
            f"finding {finding['finding_id']}"
        )
        events.append((finding["run_date"], 1, finding["account_id"], what, details))
    for review in reviews:
        details = f"by {review['reviewer']}" + (f": {review['note']}" if review.get("note") else "")
        events.append((review["reviewed_at"], 2, review["account_id"], f"review: {review['verdict']}", details))
    for spell in tiers:
        reasons = json.loads(spell["reasons"] or "[]")
        details = f"rule {spell['rule']}" + (f"; findings {', '.join(reasons)}" if reasons else "")
        events.append((spell["valid_from"], 3, spell["account_id"], f"tier {spell['tier']}", details))
    for entry in listings:
        who = f"{entry['entity_type']} {entry['entity_id']}"
        if entry["status"] == "active":
            events.append((entry["listed_on"], 4, who, "blacklisted", entry["reason"]))
        else:
            details = f"by {entry['changed_by']}: {entry['change_reason']}"
            events.append((entry["changed_at"], 5, who, "blacklist entry lifted", details))
    events.sort(key=lambda event: (event[0][:10], event[1], event[0], event[2], event[3]))
    return [(when, who, what, details) for when, _, who, what, details in events]


def _shown_time(value: str) -> str:
    """An ISO timestamp as `YYYY-MM-DD HH:MM:SS+08:00` (dates as they are)."""
    if "T" not in value:
        return value
    day, rest = value.split("T", 1)
    clock, offset = rest[:8], rest[8:].lstrip(".0123456789")
    return f"{day} {clock}{offset}"


def render_summary(scope: Scope, manifest: dict, events: Sequence[tuple[str, str, str, str]]) -> str:
    """summary.html: who exported what, then every event in time order, then the files and their digests."""
    runs = manifest["detection_runs"]
    files = [(entry["path"], entry["rows"], entry["sha256"]) for entry in manifest["files"]]
    body = [
        f"<h1>Evidence bundle: {escape(scope.describe())}</h1>",
        f'<p class="meta">Exported by {escape(manifest["exported_by"])} at {escape(manifest["exported_at"])} '
        f"with accountwatch {escape(manifest['accountwatch_version'])}; export {escape(manifest['export_id'])}. "
        "Phone numbers appear only as keyed pseudonyms.</p>",
        "<h2>What was found and done</h2>",
        html.table(("when", "account or subject", "what", "details"), [(_shown_time(e[0]), *e[1:]) for e in events]),
        "<h2>Detect runs the findings came from</h2>",
        '<p class="note">The raw rows under raw/ were read at these table versions.</p>',
        html.table(
            ("run dates", "findings version", "committed at", "source table versions read"),
            [
                (
                    ", ".join(run["run_dates"]),
                    run["findings_version"],
                    run["committed_at"],
                    ", ".join(f"{name} v{version}" for name, version in sorted(run["read_versions"].items())),
                )
                for run in runs
            ],
        ),
        "<h2>Files</h2>",
        html.table(("file", "rows", "SHA-256"), files, numeric=("rows",)),
    ]
    return html.page(f"accountwatch evidence: {scope.describe()}", "\n".join(body))
