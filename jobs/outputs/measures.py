"""The monthly record of measures for the regulator: what was found, decided and done in one calendar month.

Per detector (and the rule it enforces) the findings by severity and recommended measure with the analysts'
verdicts; every finding with its account, subject, measure and verdict; the blacklistings and lifts; the
credit-tier movements; and the account status changes the platform applied (suspensions, closures,
reactivations). CSV files plus a readable `summary.html`, `manifest.json` and `SHA256SUMS`.

Every file is written deterministically from the lake's rows, so exporting the same month again gives the same
bytes; who exported it, when, and the export id go to the `exports` table only.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import os
import shutil
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from html import escape
from pathlib import Path
from typing import Any

from pyspark.sql import Window
from pyspark.sql import functions as F

from accountwatch.jobs.core.config import Settings
from accountwatch.jobs.core.lake import Lake
from accountwatch.jobs.core.pii import masked_phones
from accountwatch.jobs.detectors import registry
from accountwatch.jobs.outputs.evidence import ExportError, _prepare_folder, log_export, text_rows, write_csv
from accountwatch.jobs.outputs.page import page, table
from accountwatch.jobs.standing.reviews import latest_verdicts

READS = ("findings", "reviews", "blacklist", "account_tiers", "account_changes")


@dataclass
class MeasuresExport:
    """What one export of a month wrote."""

    month: str
    out_dir: Path
    export_id: str = ""
    findings: int = 0
    files: list[dict] = field(default_factory=list)
    data_sha256: str = ""
    manifest_sha256: str = ""


def month_bounds(month: str) -> tuple[date, date]:
    """The first and last day of a `YYYY-MM` month; a clear error for anything else."""
    try:
        first = datetime.strptime(month, "%Y-%m").date()
    except ValueError:
        raise ExportError(f"--month {month!r} is not a month (expected YYYY-MM, such as 2026-05)") from None
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


# Long: the month's four record files (findings with verdicts, blacklist measures, tier moves, status changes), each
# a short query, built side by side so that their month bounds are read the same way.
def _month_rows(lake: Lake, first: date, last: date) -> dict[str, tuple[list[str], list[tuple[str | None, ...]]]]:
    """Each CSV file's columns and rows (`text_rows` sorts them, so the same lake gives the same bytes)."""
    in_month = F.col("run_date").between(F.lit(first), F.lit(last))
    verdicts = latest_verdicts(lake).select(
        # An analyst's note is free text: a phone number typed into it is masked, as in the quarantine.
        "finding_id",
        "verdict",
        "reviewer",
        "reviewed_at",
        masked_phones(F.col("note")).alias("note"),
    )
    findings = (
        lake.read("findings")
        .where(in_month)
        .join(verdicts, "finding_id", "left")
        .select(
            "run_date",
            "detector",
            "finding_id",
            "account_id",
            "subject_id",
            "severity",
            "recommended_action",
            F.coalesce("verdict", F.lit("unreviewed")).alias("verdict"),
            "reviewer",
            "reviewed_at",
            "note",
        )
    )
    listed = F.col("listed_on").between(F.lit(first), F.lit(last))
    changed = F.to_date("changed_at").between(F.lit(first), F.lit(last))
    blacklist = (
        lake.read("blacklist")
        .where((listed & (F.col("status") == "active")) | (changed & (F.col("status") == "lifted")))
        .select(
            F.when(F.col("status") == "active", "blacklisted").otherwise("lifted").alias("measure"),
            F.when(F.col("status") == "active", F.col("listed_on")).otherwise(F.to_date("changed_at")).alias("day"),
            "entity_type",
            "entity_id",
            "subject_id",
            F.array_join("rules", " ").alias("rules"),
            "reason",
            F.array_join("finding_ids", " ").alias("finding_ids"),
            "changed_by",
            "change_reason",
        )
    )
    spells = lake.read("account_tiers")
    previous = Window.partitionBy("account_id").orderBy("valid_from")
    tiers = (
        spells.withColumn("previous_tier", F.lag("tier").over(previous))
        .where(F.col("valid_from").between(F.lit(first), F.lit(last)))
        .select(
            F.col("valid_from").alias("day"),
            "account_id",
            "previous_tier",
            "tier",
            "rule",
            F.array_join("reasons", " ").alias("reasons"),
            "policy_version",
        )
    )
    history = Window.partitionBy("account_id").orderBy("updated_at", "ingest_date", "source_file", "source_row")
    statuses = (
        lake.read("account_changes")
        .where(F.col("ingest_date") <= F.lit(last))
        .withColumn("previous_status", F.lag("status").over(history))
        .where(
            F.col("ingest_date").between(F.lit(first), F.lit(last))
            & F.col("previous_status").isNotNull()
            & (F.col("previous_status") != F.col("status"))
        )
        .select(
            F.col("ingest_date").alias("day"),
            "account_id",
            "account_type",
            "subject_id",
            "previous_status",
            "status",
            F.date_format("updated_at", "yyyy-MM-dd HH:mm:ss").alias("changed_at"),
        )
    )
    return {
        "findings.csv": (findings.columns, text_rows(findings)),
        "blacklist.csv": (blacklist.columns, text_rows(blacklist)),
        "tier_movements.csv": (tiers.columns, text_rows(tiers)),
        "account_status_changes.csv": (statuses.columns, text_rows(statuses)),
    }


def per_detector(findings: Sequence[dict]) -> tuple[list[str], list[tuple[str | None, ...]]]:
    """Per detector, severity and recommended measure: findings, confirmed, dismissed, unreviewed; accounts."""
    counts: Counter = Counter()
    accounts: dict[tuple, set] = {}
    for row in findings:
        key = (row["detector"], row["severity"], row["recommended_action"])
        counts[(*key, row["verdict"])] += 1
        accounts.setdefault(key, set()).add(row["account_id"])
    columns = ["detector", "rule", "severity", "recommended_action", "findings", "confirmed", "dismissed"]
    columns += ["unreviewed", "accounts"]
    rows = []
    for detector, severity, action in sorted(accounts):
        verdicts = [counts[(detector, severity, action, verdict)] for verdict in ("confirmed", "dismissed")]
        unreviewed = counts[(detector, severity, action, "unreviewed")]
        total = sum(verdicts) + unreviewed
        rule = registry.get(detector).rule if detector in registry.names() else ""
        rows.append(
            (detector, rule, severity, action, *[str(value) for value in (total, *verdicts, unreviewed)])
            + (str(len(accounts[(detector, severity, action)])),)
        )
    return columns, rows


def _summary(month: str, files: dict[str, tuple[list[str], list]], provenance: dict[str, Any]) -> str:
    def dicts(name: str) -> list[dict]:
        columns, rows = files[name]
        return [dict(zip(columns, row, strict=True)) for row in rows]

    by_detector = files["measures_by_detector.csv"]
    blacklist, tiers, statuses = (
        dicts("blacklist.csv"),
        dicts("tier_movements.csv"),
        dicts("account_status_changes.csv"),
    )
    applied = Counter(f"{row['previous_status']} -> {row['status']}" for row in statuses)
    moves = Counter(f"{row['previous_tier'] or 'new'} -> {row['tier']}" for row in tiers)
    body = [
        f"<h1>Record of measures, {escape(month)}</h1>",
        f'<p class="meta">configuration {escape(str(provenance.get("config_sha256", ""))[:12])}; rule versions '
        f"{escape(', '.join(f'{k} {v}' for k, v in sorted(provenance.get('rule_versions', {}).items())))}</p>",
        "<h2>Findings and verdicts, per detector</h2>",
        table(by_detector[0], by_detector[1], numeric=("findings", "confirmed", "dismissed", "unreviewed", "accounts")),
        "<h2>Blacklist</h2>",
        table(
            ["measure", "count"],
            sorted(Counter(row["measure"] for row in blacklist).items()),
            numeric=("count",),
        ),
        "<h2>Account status changes applied</h2>",
        table(["change", "accounts"], sorted(applied.items()), numeric=("accounts",)),
        "<h2>Credit-tier movements</h2>",
        table(["movement", "accounts"], sorted(moves.items()), numeric=("accounts",)),
        '<p class="note">The CSV files beside this page list every row; manifest.json and SHA256SUMS give '
        "their SHA-256.</p>",
    ]
    return page(f"accountwatch measures {month}", "\n".join(body))


FILE_DESCRIPTIONS = {
    "measures_by_detector.csv": "per detector, severity and recommended measure: findings, verdicts, accounts",
    "findings.csv": "every finding of the month with its account, subject, recommended measure and verdict",
    "blacklist.csv": "every blacklisting and lift of the month",
    "tier_movements.csv": "every credit-tier spell that began in the month, with the tier before it",
    "account_status_changes.csv": "every suspension, closure and reactivation the platform applied in the month",
}


# Long: every file of the export written in one place, so the manifest lists exactly what was written.
def export_measures(
    lake: Lake,
    settings: Settings,
    month: str,
    out_dir: Path,
    exported_by: str,
    now: datetime,
    say: Callable[[str], None] = lambda message: None,
) -> MeasuresExport:
    """Write the month's record of measures into `out_dir` (new or empty) and log the export."""
    first, last = month_bounds(month)
    _prepare_folder(out_dir)
    export = MeasuresExport(month, out_dir, export_id=uuid.uuid4().hex)
    staging = out_dir.absolute().parent / f".{out_dir.name}.{export.export_id}.partial"
    staging.mkdir(parents=True)
    try:
        with lake.pinned(READS) as versions:
            say(f"reading the measures of {month}")
            rows_by_file = _month_rows(lake, first, last)
        columns, rows = rows_by_file["findings.csv"]
        export.findings = len(rows)
        files = {"measures_by_detector.csv": per_detector([dict(zip(columns, row, strict=True)) for row in rows])}
        files |= rows_by_file
        for name, (columns, rows) in files.items():
            entry = write_csv(staging / name, columns, rows)
            export.files.append({"path": name, "describes": FILE_DESCRIPTIONS[name], **entry})
        export.data_sha256 = hashlib.sha256(
            "".join(f"{entry['sha256']}  {entry['path']}\n" for entry in export.files).encode()
        ).hexdigest()
        provenance = settings.provenance()
        summary = _summary(month, files, provenance).encode("utf-8")
        (staging / "summary.html").write_bytes(summary)
        manifest: dict[str, Any] = {
            "bundle": "accountwatch record of measures",
            "month": month,
            "first_day": first.isoformat(),
            "last_day": last.isoformat(),
            "configuration": {key: value for key, value in provenance.items() if key != "config_source"},
            "tables_read": versions,
            "data_sha256": export.data_sha256,
            "files": [
                *export.files,
                {
                    "path": "summary.html",
                    "describes": "a readable summary of the month's findings, verdicts and measures",
                    "bytes": len(summary),
                    "sha256": hashlib.sha256(summary).hexdigest(),
                },
            ],
        }
        manifest_bytes = (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode()
        (staging / "manifest.json").write_bytes(manifest_bytes)
        (staging / "SHA256SUMS").write_text("".join(f"{e['sha256']}  {e['path']}\n" for e in manifest["files"]))
        export.manifest_sha256 = hashlib.sha256(manifest_bytes).hexdigest()
        _prepare_folder(out_dir)  # again: something may have been put there while the export ran
        row = (
            export.export_id,
            now,
            exported_by,
            "month",
            month,
            first,
            last,
            str(out_dir.absolute()),
            export.findings,
            len(manifest["files"]) + 2,
            export.data_sha256,
            export.manifest_sha256,
        )
        log_export(lake, row)
        if out_dir.exists():
            out_dir.rmdir()
        os.replace(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return export
