"""Compliance evidence bundles: what accountwatch found and did about one account or subject, with the rows behind it.

A bundle holds the findings, their reviews, the tier history and the blacklist rows of its accounts, and the raw
rows that support each finding, read at the Delta versions the detect run that wrote the finding had read (each
run records them in its commits). `manifest.json` lists every file with its SHA-256; the data files are
written deterministically, so exporting the same scope twice gives the same bytes.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import os
import shutil
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib import metadata
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, MapType, StructType, TimestampType

from accountwatch.jobs.core.config import Settings
from accountwatch.jobs.core.lake import SOURCE_TABLES, TABLES, Lake
from accountwatch.jobs.core.pii import check_pii_key, hmac_sha256_hex, masked_phones
from accountwatch.jobs.detectors import registry
from accountwatch.jobs.detectors.base import FindingView
from accountwatch.jobs.outputs.bundle_summary import render_summary, timeline
from accountwatch.jobs.outputs.csvsafe import safe_csv_row

# What an export reads besides the source tables; all are pinned at the versions current when it starts.
EXPORT_READS = ("findings", "reviews", "account_tiers", "blacklist", *SOURCE_TABLES)
RAW_FILES = {
    "subscriptions": "raw/follow_events.csv",
    "engagement": "raw/login_publish_events.csv",
    "account_changes": "raw/registration_rows.csv",
    "accounts": "raw/accounts.csv",
}
PSEUDONYMISED = {"phone_block": "phone_block_pseudonym"}


class ExportError(ValueError):
    """An export that cannot be made: an unknown account or subject, nothing in the range, a bad folder."""


@dataclass(frozen=True)
class Scope:
    """What to export: one account or one subject, optionally limited to findings of start..end."""

    entity_type: str
    entity_id: str
    start: date | None = None
    end: date | None = None

    def describe(self) -> str:
        span = f" from {self.start.isoformat()} to {self.end.isoformat()}" if self.start and self.end else ""
        return f"{self.entity_type} {self.entity_id}{span}"

    def run_dates(self, column: str | Column = "run_date") -> Column:
        """A predicate keeping rows whose `column` falls in the range (every row when there is no range)."""
        if self.start is None or self.end is None:
            return F.lit(True)
        value = F.col(column) if isinstance(column, str) else column
        return value.between(F.lit(self.start), F.lit(self.end))


@dataclass
class Bundle:
    """What an export wrote."""

    export_id: str
    out_dir: Path
    files: list[dict] = field(default_factory=list)
    findings: int = 0
    data_sha256: str = ""
    manifest_sha256: str = ""


def as_text(frame: DataFrame) -> DataFrame:
    """Every column as a string: timestamps in ISO 8601 with the platform offset, nested values as JSON."""
    columns = []
    for column in frame.schema.fields:
        value = F.col(column.name)
        if isinstance(column.dataType, TimestampType):
            value = F.date_format(value, "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX")
        elif isinstance(column.dataType, ArrayType | MapType | StructType):
            value = F.to_json(value)
        else:
            value = value.cast("string")
        columns.append(value.alias(column.name))
    return frame.select(*columns)


def text_rows(frame: DataFrame) -> list[tuple[str | None, ...]]:
    """The frame's rows as strings, in one stable order (every column, left to right)."""
    rows = [tuple(row) for row in as_text(frame).collect()]
    return sorted(rows, key=lambda row: tuple("" if value is None else value for value in row))


def pseudonymised(frame: DataFrame, pii_key: bytes) -> DataFrame:
    """Phone-number blocks replaced by their keyed pseudonyms, in place and renamed."""
    columns = []
    for name in frame.columns:
        if name in PSEUDONYMISED:
            columns.append(hmac_sha256_hex(F.col(name), pii_key).alias(PSEUDONYMISED[name]))
        else:
            columns.append(F.col(name))
    return frame.select(*columns)


def block_pseudonym(block: str, pii_key: bytes) -> str:
    """The same keyed pseudonym of a phone-number block as `pseudonymised`, in Python."""
    return hmac.new(pii_key, block.encode(), hashlib.sha256).hexdigest()


def pseudonymised_evidence(evidence: str, pii_key: bytes) -> str:
    """A finding's evidence JSON with any phone-number block it names replaced by its pseudonym."""
    parsed = json.loads(evidence)
    keys = parsed.get("shared_keys") if isinstance(parsed, dict) else None
    if not keys or not any(key.get("key_type") == "phone_block" for key in keys):
        return evidence
    for key in keys:
        if key.get("key_type") == "phone_block":
            key["key_type"] = "phone_block_pseudonym"
            key["key_value"] = block_pseudonym(str(key["key_value"]), pii_key)
    return json.dumps(parsed, ensure_ascii=False, separators=(",", ":"))


def run_provenance(commits: Sequence[dict], run_dates: Sequence[date]) -> dict[date, dict | None]:
    """For each run date, the last detect commit of `findings` that wrote it (None when its log has expired)."""
    found: dict[date, dict | None] = {}
    for day in run_dates:
        chosen = None
        for commit in commits:
            tag = commit.get("userMetadata")
            if not tag or tag.get("run") != "detect":
                continue
            if date.fromisoformat(tag["start"]) <= day <= date.fromisoformat(tag["end"]):
                if chosen is None or commit["version"] > chosen["version"]:
                    chosen = commit
        found[day] = chosen
    return found


@dataclass
class Wants:
    """The raw rows each finding needs, by table and the version to read it at."""

    follows: list[tuple] = field(default_factory=list)  # (version, finding_id, account_id, event_date)
    uses: list[tuple] = field(default_factory=list)  # (version, finding_id, account_id, event_type, event_ts, day)
    registrations: list[tuple] = field(default_factory=list)  # (version, finding_id, account_id, first, last)
    accounts: list[tuple] = field(default_factory=list)  # (version, finding_id, key column, key value)


def evidence_wants(
    findings: Sequence[dict],
    versions_for: Callable[[date], dict[str, int]],
    groups: dict[tuple[str, date, str], list[str]],
    settings: Settings,
) -> Wants:
    """What raw rows support each finding (its detector's `raw_rows`; plain Python over the findings)."""
    wants = Wants()
    zone = ZoneInfo(settings.time_zone)
    for finding in findings:
        day, fid, account = finding["run_date"], finding["finding_id"], finding["account_id"]
        versions = versions_for(day)
        evidence = json.loads(finding["evidence"])
        if finding["detector"] not in registry.names():
            continue
        detector = registry.get(finding["detector"])
        group_value = _group_value(evidence, detector.group_path)
        group = groups.get((detector.name, day, group_value), [account]) if group_value is not None else [account]
        rows = detector.raw_rows(FindingView(fid, day, account, evidence, tuple(group), settings))
        wants.follows += [(versions["subscriptions"], fid, member, event_day) for member, event_day in rows.follows]
        wants.uses += [
            (versions["engagement"], fid, member, event_type, used_at, used_at.astimezone(zone).date())
            for member, event_type, used_at in rows.uses
        ]
        wants.registrations += [
            (versions["account_changes"], fid, member, first, last) for member, first, last in rows.registrations
        ]
        wants.accounts += [(versions["accounts"], fid, column, value) for column, value in rows.accounts]
    return wants


def _by_version(rows: Sequence[tuple]) -> dict[int, list[tuple]]:
    grouped: dict[int, list[tuple]] = {}
    for row in rows:
        grouped.setdefault(row[0], []).append(row[1:])
    return grouped


def _supporting(lake: Lake, table: str, version: int, matched: DataFrame) -> DataFrame:
    """Matched raw rows (with a finding_id) folded to one row per raw row listing the findings it supports."""
    columns = [column.name for column in TABLES[table].schema]
    return (
        matched.groupBy(*columns)
        .agg(F.array_join(F.array_sort(F.collect_set("finding_id")), " ").alias("finding_ids"))
        .select("finding_ids", F.lit(version).alias("table_version"), *columns)
    )


def raw_frames(lake: Lake, wants: Wants) -> dict[str, list[DataFrame]]:
    """The raw rows behind the findings, per table, each read at the version its finding's run read."""
    spark = lake.spark
    frames: dict[str, list[DataFrame]] = {table: [] for table in RAW_FILES}
    for version, rows in _by_version(wants.follows).items():
        wanted = spark.createDataFrame(rows, "finding_id string, account_id string, event_date date")
        days = sorted({row[2] for row in rows})
        follows = lake.read("subscriptions", version).where(
            F.col("event_date").isin(*days)
            & (F.col("action") == "follow")
            & (F.col("ingest_date") <= F.col("event_date"))
        )
        frames["subscriptions"].append(
            _supporting(lake, "subscriptions", version, follows.join(wanted, ["account_id", "event_date"]))
        )
    for version, rows in _by_version(wants.uses).items():
        wanted = spark.createDataFrame(
            rows, "finding_id string, account_id string, event_type string, event_ts timestamp, event_date date"
        )
        days = sorted({row[4] for row in rows})
        uses = lake.read("engagement", version).where(
            F.col("event_date").isin(*days) & F.col("event_type").isin("login", "publish")
        )
        matched = uses.join(wanted, ["account_id", "event_type", "event_ts", "event_date"])
        frames["engagement"].append(_supporting(lake, "engagement", version, matched))
    for version, rows in _by_version(wants.registrations).items():
        wanted = spark.createDataFrame(rows, "finding_id string, account_id string, first_day date, last_day date")
        first, last = min(row[2] for row in rows), max(row[3] for row in rows)
        changes = lake.read("account_changes", version).where(F.col("ingest_date").between(first, last))
        matched = changes.join(wanted, "account_id").where(
            F.col("ingest_date").between(F.col("first_day"), F.col("last_day"))
        )
        frames["account_changes"].append(_supporting(lake, "account_changes", version, matched))
    for version, rows in _by_version(wants.accounts).items():
        current = lake.read("accounts", version)
        for key in ("account_id", "subject_id"):
            keyed = [(fid, value) for fid, column, value in rows if column == key]
            if keyed:
                wanted = spark.createDataFrame(keyed, f"finding_id string, {key} string")
                frames["accounts"].append(_supporting(lake, "accounts", version, current.join(wanted, key)))
    return frames


def write_csv(path: Path, columns: Sequence[str], rows: Sequence[Sequence[str | None]]) -> dict:
    """Write rows as UTF-8 CSV (header first, LF line ends, formula-like cells as text); returns the manifest entry."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(safe_csv_row("" if value is None else value for value in row) for row in rows)
    data = buffer.getvalue().encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return {"rows": len(rows), "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _frame_file(frame: DataFrame, pii_key: bytes) -> tuple[list[str], list[tuple[str | None, ...]]]:
    shown = pseudonymised(frame, pii_key)
    return shown.columns, text_rows(shown)


def _scope_accounts(lake: Lake, scope: Scope) -> DataFrame:
    accounts = lake.read("accounts")
    key = "account_id" if scope.entity_type == "account" else "subject_id"
    return accounts.where(F.col(key) == scope.entity_id)


def _group_value(evidence: dict, path: str | None) -> str | None:
    """The value at a `$.key` path of a finding's evidence (None without a path or a value)."""
    if path is None:
        return None
    value = evidence.get(path.removeprefix("$."))
    return None if value is None else str(value)


def _groups(lake: Lake, findings: Sequence[dict]) -> dict[tuple[str, date, str], list[str]]:
    """Every account flagged in the same group (a detector's `group_path`, say a burst) as one of `findings`."""
    wanted = set()
    for row in findings:
        path = registry.get(row["detector"]).group_path if row["detector"] in registry.names() else None
        value = _group_value(json.loads(row["evidence"]), path)
        if path is not None and value is not None:
            wanted.add((row["detector"], row["run_date"], path, value))
    if not wanted:
        return {}
    grouped: dict[tuple[str, date, str], list[str]] = {}
    for detector, path in sorted({(detector, path) for detector, _, path, _ in wanted}):
        keys = sorted((day, value) for name, day, _, value in wanted if name == detector)
        members = (
            lake.read("findings")
            .where((F.col("detector") == detector) & F.col("run_date").isin(*{day for day, _ in keys}))
            .withColumn("group_value", F.get_json_object("evidence", path))
            .join(lake.spark.createDataFrame(keys, "run_date date, group_value string"), ["run_date", "group_value"])
            .select("run_date", "group_value", "account_id")
            .collect()
        )
        for member in members:
            grouped.setdefault((detector, member["run_date"], member["group_value"]), []).append(member["account_id"])
    return {key: sorted(value) for key, value in grouped.items()}


def _finding_rows(findings: DataFrame, pii_key: bytes) -> tuple[list[str], list[tuple[str | None, ...]]]:
    columns, rows = _frame_file(findings, pii_key)
    at = columns.index("evidence")
    return columns, [(*row[:at], pseudonymised_evidence(row[at] or "{}", pii_key), *row[at + 1 :]) for row in rows]


def _prepare_folder(out_dir: Path) -> None:
    """Refuse an --out the bundle could not be renamed into, before any work; ids never become paths."""
    if out_dir.name in ("", ".."):
        raise ExportError(f"--out {out_dir} does not name a folder of its own: give a new folder's path")
    if out_dir.is_symlink():
        raise ExportError(f"--out {out_dir} is a symbolic link: choose a new --out folder")
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"--out {out_dir} is a file, not a folder: choose a new --out folder")
    if out_dir.exists() and any(out_dir.iterdir()):
        raise ExportError(f"{out_dir} already exists and is not an empty folder: choose a new --out folder")
    # The staging folder goes next to --out, so the nearest existing parent must be a folder.
    parent = next(folder for folder in out_dir.absolute().parents if folder.exists())
    if not parent.is_dir():
        raise ExportError(f"--out {out_dir} is inside {parent}, which is a file: choose a new --out folder")


def _dicts(columns: Sequence[str], rows: Sequence[Sequence[str | None]]) -> list[dict]:
    return [dict(zip(columns, row, strict=True)) for row in rows]


def export_bundle(
    lake: Lake,
    settings: Settings,
    scope: Scope,
    exported_by: str,
    out_dir: Path,
    now: datetime,
    pii_key: bytes,
    say: Callable[[str], None] = lambda message: None,
) -> Bundle:
    """Write the evidence bundle for `scope` to `out_dir` and log it in `exports`."""
    _prepare_folder(out_dir)
    if scope.start and scope.end and scope.end < scope.start:
        raise ExportError(f"--end {scope.end.isoformat()} is before --start {scope.start.isoformat()}")
    if not lake.exists("findings"):
        raise ExportError(f"no findings table under {lake.root}: run `accountwatch run` or `backfill` first")
    check_pii_key(lake.root, pii_key)
    with lake.pinned(EXPORT_READS) as read_versions:
        say(f"reading {scope.describe()}")
        accounts = _scope_accounts(lake, scope).persist()
        try:
            return _write_bundle(
                lake, settings, scope, exported_by, out_dir, now, pii_key, say, accounts, read_versions
            )
        finally:
            accounts.unpersist()


# Long: every file of a bundle written in one place, so the manifest lists exactly what was written.
def _write_bundle(
    lake: Lake,
    settings: Settings,
    scope: Scope,
    exported_by: str,
    out_dir: Path,
    now: datetime,
    pii_key: bytes,
    say: Callable[[str], None],
    accounts: DataFrame,
    read_versions: dict[str, int],
) -> Bundle:
    """The body of `export_bundle`, with the scope's accounts cached and every table pinned."""
    account_ids = sorted(row["account_id"] for row in accounts.select("account_id").collect())
    if not account_ids:
        raise ExportError(f"unknown {scope.entity_type} {scope.entity_id!r}: no account in {lake.root} has it")
    findings = lake.read("findings").where(F.col("account_id").isin(*account_ids) & scope.run_dates())
    finding_rows = [row.asDict() for row in findings.collect()]
    finding_ids = [row["finding_id"] for row in finding_rows]
    listings = lake.read("blacklist").where(
        (
            ((F.col("entity_type") == "account") & F.col("entity_id").isin(*account_ids))
            | ((F.col("entity_type") == scope.entity_type) & (F.col("entity_id") == scope.entity_id))
            | F.arrays_overlap("finding_ids", F.array(*[F.lit(fid) for fid in finding_ids or [""]]))
        )
        & (scope.run_dates("listed_on") | scope.run_dates(F.to_date("changed_at")))
    )
    if not finding_rows and listings.isEmpty():
        raise ExportError(
            f"nothing to export for {scope.describe()}: it has no findings and no blacklist entries"
            + ("" if scope.start else " in the lake")
        )
    # Notes and lift reasons are free text; rows written before they were masked on the way in are masked here.
    reviews = (
        lake.read("reviews")
        .where(F.col("finding_id").isin(*finding_ids or [""]))
        .withColumn("note", masked_phones(F.col("note")))
    )
    tiers = lake.read("account_tiers").where(F.col("account_id").isin(*account_ids))
    if scope.start and scope.end:
        tiers = tiers.where(
            (F.col("valid_from") <= F.lit(scope.end))
            & (F.col("valid_to").isNull() | (F.col("valid_to") > F.lit(scope.start)))
        )

    say("finding the detect runs behind the findings")
    run_dates = sorted({row["run_date"] for row in finding_rows})
    provenance = run_provenance(lake.commits("findings"), run_dates)

    def versions_for(day: date) -> dict[str, int]:
        commit = provenance.get(day)
        tagged = (commit or {}).get("userMetadata") or {}
        return {**{name: read_versions.get(name, 0) for name in SOURCE_TABLES}, **tagged.get("read_versions", {})}

    say("reading the raw rows behind each finding")
    wants = evidence_wants(finding_rows, versions_for, _groups(lake, finding_rows), settings)
    frames = raw_frames(lake, wants)

    export_id = uuid.uuid4().hex
    staging = out_dir.parent / f".{out_dir.name}.partial-{export_id}"
    staging.mkdir(parents=True)
    try:
        bundle = Bundle(export_id, out_dir, findings=len(finding_rows))
        say("writing the bundle")
        outputs: list[tuple[str, str, list[str], list]] = []
        columns, rows = _finding_rows(findings, pii_key)
        outputs.append(("findings.csv", "findings of the scope (evidence as JSON)", columns, rows))
        for name, frame, what in (
            ("reviews.csv", reviews, "analysts' verdicts on those findings"),
            ("account_tiers.csv", tiers, "credit tier spells of the scope's accounts"),
            (
                "blacklist.csv",
                listings.withColumn("change_reason", masked_phones(F.col("change_reason"))),
                "blacklist listings and lifts of the scope",
            ),
            ("accounts.csv", accounts, "the scope's accounts as the lake holds them now"),
        ):
            outputs.append((name, what, *_frame_file(frame, pii_key)))
        for table, path in RAW_FILES.items():
            schema_columns = ["finding_ids", "table_version", *[column.name for column in TABLES[table].schema]]
            if frames[table]:
                union = frames[table][0]
                for frame in frames[table][1:]:
                    union = union.unionByName(frame)
                columns, rows = _frame_file(union, pii_key)
            else:
                columns = [PSEUDONYMISED.get(column, column) for column in schema_columns]
                rows = []
            outputs.append((path, f"raw {table} rows supporting the findings", columns, rows))
        for path, what, columns, rows in outputs:
            entry = write_csv(staging / path, columns, rows)
            bundle.files.append({"path": path, "describes": what, **entry})
        bundle.data_sha256 = hashlib.sha256(
            "".join(f"{entry['sha256']}  {entry['path']}\n" for entry in bundle.files).encode()
        ).hexdigest()

        manifest: dict[str, Any] = {
            "bundle": "accountwatch compliance evidence",
            "export_id": export_id,
            "scope": {
                "entity_type": scope.entity_type,
                "entity_id": scope.entity_id,
                "start": scope.start.isoformat() if scope.start else None,
                "end": scope.end.isoformat() if scope.end else None,
                "accounts": account_ids,
            },
            "exported_by": exported_by,
            "exported_at": now.isoformat(),
            "accountwatch_version": metadata.version("accountwatch"),
            "configuration": settings.provenance(),
            "tables_read": read_versions,
            "detection_runs": _runs(provenance, settings),
            "data_sha256": bundle.data_sha256,
            "pseudonyms": "phone numbers appear only as keyed HMAC-SHA256 pseudonyms (phone_pseudonym, "
            "phone_block_pseudonym); the key stays with the platform",
            "files": bundle.files,
        }
        events = timeline(
            _dicts(*_frame_file(accounts, pii_key)),
            _dicts(columns=outputs[0][2], rows=outputs[0][3]),
            _dicts(*outputs[1][2:]),
            _dicts(*outputs[2][2:]),
            _dicts(*outputs[3][2:]),
        )
        summary = render_summary(scope, manifest, events).encode("utf-8")
        (staging / "summary.html").write_bytes(summary)
        manifest["files"] = [
            *bundle.files,
            {
                "path": "summary.html",
                "describes": "a readable account, in time order, of what was found and done",
                "bytes": len(summary),
                "sha256": hashlib.sha256(summary).hexdigest(),
            },
        ]
        manifest_bytes = (json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=False) + "\n").encode()
        (staging / "manifest.json").write_bytes(manifest_bytes)
        sums = "".join(f"{entry['sha256']}  {entry['path']}\n" for entry in manifest["files"])
        (staging / "SHA256SUMS").write_text(sums)
        bundle.manifest_sha256 = hashlib.sha256(manifest_bytes).hexdigest()
        _prepare_folder(out_dir)  # again: something may have been put there while the export ran
        _log_export(lake, bundle, scope, exported_by, now, len(manifest["files"]) + 2)
        if out_dir.exists():
            out_dir.rmdir()
        os.replace(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return bundle


def _runs(provenance: dict[date, dict | None], settings: Settings) -> list[dict]:
    """The detect runs behind the findings, each with the run dates it wrote and the versions it read."""
    runs: dict[int, dict] = {}
    expired: list[str] = []
    for day, commit in sorted(provenance.items()):
        if commit is None:
            expired.append(day.isoformat())
            continue
        tag = commit["userMetadata"]
        run = runs.setdefault(
            commit["version"],
            {
                "run_dates": [],
                "findings_version": commit["version"],
                "committed_at": commit["timestamp"].astimezone(ZoneInfo(settings.time_zone)).isoformat(),
                "run": {"start": tag["start"], "end": tag["end"]},
                "read_versions": tag.get("read_versions", {}),
                "rule_versions": tag.get("rule_versions", {}),
                "credit_tier_policy": tag.get("credit_tier_policy"),
                "blacklist_rules": tag.get("blacklist_rules"),
                "config_sha256": tag.get("config_sha256"),
            },
        )
        run["run_dates"].append(day.isoformat())
    listed = [runs[version] for version in sorted(runs)]
    if expired:
        listed.append(
            {
                "run_dates": expired,
                "findings_version": None,
                "committed_at": None,
                "run": None,
                "read_versions": {},
                "note": "the Delta log of these runs is no longer kept "
                f"({settings.log_retention}): their raw rows were read at the versions current at export",
            }
        )
    return listed


def log_export(lake: Lake, row: tuple) -> None:
    """Record one export (a row of the `exports` schema): MERGE on its id."""
    lake.upsert("exports", lake.spark.createDataFrame([row], TABLES["exports"].schema), ["export_id"])


def _log_export(lake: Lake, bundle: Bundle, scope: Scope, exported_by: str, now: datetime, files: int) -> None:
    row = (
        bundle.export_id,
        now,
        exported_by,
        scope.entity_type,
        scope.entity_id,
        scope.start,
        scope.end,
        str(bundle.out_dir.absolute()),
        bundle.findings,
        files,
        bundle.data_sha256,
        bundle.manifest_sha256,
    )
    log_export(lake, row)
