"""A single-node peer of accountwatch's core work in DuckDB, run side by side with it by the benchmark.

It ingests the landing folders with the contract's quarantine rules, finds `dormant_account` and `quota_overrun`
exactly as accountwatch defines them (same day semantics, cut-off and keys) and computes the follower baseline
`fake_follower_spike` judges against (trailing median and MAD per candidate account and day, with the new
followers' registration dates). A backfill judges a range of days from the change history; a nightly day loads
one more day and judges it from the compact state the backfill kept, as accountwatch does.

What it leaves out: Great Expectations, Delta versions and commit metadata, phone pseudonyms (a phone is kept
only as a salted digest, to tell a changed account row from a re-delivered one), the other detectors, tiers and
the blacklist.
"""

from __future__ import annotations

import csv
import os
import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from accountwatch.benchmarks.peer_detect import (
    PeerDetection,
    days_from,
    quoted,
)
from accountwatch.jobs.core.config import Settings
from accountwatch.jobs.core.pii import PHONE_PATTERN
from accountwatch.schemas.landing import (
    ACCOUNTS,
    ENGAGEMENT,
    MAX_COUNT,
    PUBLIC_ACCOUNT_REQUIRED,
    SUBSCRIPTIONS,
    LandingTable,
)

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".json": "jsonl", ".parquet": "parquet"}
PROVENANCE = "ingest_date, source_file, source_row"

SCHEMA = """
CREATE TABLE IF NOT EXISTS account_changes (
    account_id VARCHAR, account_type VARCHAR, subject_id VARCHAR, subject_type VARCHAR, account_name VARCHAR,
    registered_at TIMESTAMPTZ, registration_ip VARCHAR, device_id VARCHAR, phone_digest VARCHAR,
    content_category VARCHAR, status VARCHAR, updated_at TIMESTAMPTZ,
    ingest_date DATE, source_file VARCHAR, source_row BIGINT);
CREATE TABLE IF NOT EXISTS subscriptions (
    event_id VARCHAR, account_id VARCHAR, user_id VARCHAR, action VARCHAR, event_ts TIMESTAMPTZ, channel VARCHAR,
    event_date DATE, ingest_date DATE, source_file VARCHAR, source_row BIGINT);
CREATE TABLE IF NOT EXISTS engagement (
    event_id VARCHAR, account_id VARCHAR, actor_id VARCHAR, event_type VARCHAR, event_ts TIMESTAMPTZ, count BIGINT,
    event_date DATE, ingest_date DATE, source_file VARCHAR, source_row BIGINT);
CREATE TABLE IF NOT EXISTS accounts (
    account_id VARCHAR, account_type VARCHAR, subject_id VARCHAR, subject_type VARCHAR, account_name VARCHAR,
    registered_at TIMESTAMPTZ, status VARCHAR, updated_at TIMESTAMPTZ);
CREATE TABLE IF NOT EXISTS account_activity (
    account_id VARCHAR, last_login_at TIMESTAMPTZ, last_publish_at TIMESTAMPTZ);
CREATE TABLE IF NOT EXISTS account_daily (
    account_id VARCHAR, event_date DATE, ingest_date DATE, logins BIGINT, publishes BIGINT,
    last_login_at TIMESTAMPTZ, last_publish_at TIMESTAMPTZ, reads BIGINT, likes BIGINT, shares BIGINT,
    comments BIGINT, follows BIGINT, unfollows BIGINT);
CREATE TABLE IF NOT EXISTS quarantine (
    table_name VARCHAR, ingest_date DATE, source_file VARCHAR, source_row BIGINT, reason VARCHAR, column_name VARCHAR);
CREATE TABLE IF NOT EXISTS loaded_days (table_name VARCHAR, ingest_date DATE);
CREATE TABLE IF NOT EXISTS detector_state (detector VARCHAR, run_date DATE, account_id VARCHAR);
CREATE TABLE IF NOT EXISTS detector_runs (detector VARCHAR, run_date DATE, status VARCHAR);
CREATE TABLE IF NOT EXISTS findings (
    run_date DATE, detector VARCHAR, account_id VARCHAR, subject_id VARCHAR, severity VARCHAR, score DOUBLE);
CREATE TABLE IF NOT EXISTS follower_baselines (
    account_id VARCHAR, run_date DATE, follows BIGINT, audience BIGINT, baseline_days BIGINT,
    median_follows DOUBLE, weekday_median_follows DOUBLE, mad_follows DOUBLE, median_audience DOUBLE,
    expected_follows DOUBLE, baseline_scale DOUBLE, z DOUBLE, new_followers BIGINT, young_followers BIGINT);
"""


class PeerError(RuntimeError):
    """A landing file or day the peer cannot load; the message names it."""


@dataclass
class TableCounts:
    """What one landing table contributed to a peer ingest."""

    files: int = 0
    landed: int = 0
    loaded: int = 0
    redelivered: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)


def landing_files(landing: Path, table: str, day: date) -> list[tuple[Path, str]]:
    """The data files (path, format) of one table's folder for `day`; hidden, marker and empty files are skipped."""
    folder = Path(landing).absolute() / table / f"date={day.isoformat()}"
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith((".", "_")):
            continue
        if path.is_symlink() and not path.exists():
            raise PeerError(f"{path}: a symbolic link to {os.readlink(path)}, which does not exist")
        if not path.is_file() or path.stat().st_size == 0:
            continue
        file_format = FORMATS.get(path.suffix.lower())
        if file_format is None:
            raise PeerError(f"{path}: unknown file type {path.suffix!r} (expected .csv, .jsonl or .parquet)")
        found.append((path, file_format))
    return found


def _csv_header(path: Path) -> tuple[str, ...]:
    """The CSV file's column names; fails naming a file that is not UTF-8 or has no header row."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            header = next(csv.reader(handle), None)
    except UnicodeDecodeError as error:
        raise PeerError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from error
    if not header:
        raise PeerError(f"{path}: CSV file has no header row")
    return tuple(name.strip() for name in header)


def _blank(column: str) -> str:
    return f"({column} IS NULL OR trim({column}) = '')"


def _in_set(values: frozenset[str]) -> str:
    return ", ".join(quoted(value) for value in sorted(values))


def _problem_checks(table: LandingTable, max_late_days: int) -> list[tuple[str, str]]:
    """(condition, label) in accountwatch's order of judging: a row's first problem is its quarantine reason."""
    checks = [("malformed", "malformed_record")]
    checks += [(_blank(name), f"missing_required:{name}") for name in table.required]
    if table is ACCOUNTS:
        checks += [
            (f"account_type = 'public' AND {_blank(name)}", f"missing_required:{name}")
            for name in PUBLIC_ACCOUNT_REQUIRED
        ]
    for name, allowed in sorted(table.allowed.items()):
        checks.append((f"NOT {_blank(name)} AND {name} NOT IN ({_in_set(allowed)})", f"invalid_value:{name}"))
    if table is ACCOUNTS:
        pattern = quoted(PHONE_PATTERN)
        checks.append((f"NOT {_blank('phone')} AND NOT regexp_matches(trim(phone), {pattern})", "invalid_value:phone"))
    checks += [
        (f"NOT {_blank(name)} AND _{name} IS NULL", f"unparseable_timestamp:{name}") for name in table.timestamps
    ]
    if table is ENGAGEMENT:
        checks.append((f"_count IS NULL OR _count NOT BETWEEN 1 AND {MAX_COUNT}", "invalid_count:count"))
    after_next_day = "CAST(ingest_date + 2 AS TIMESTAMPTZ)"
    if table.is_event_table:
        earliest = f"CAST(ingest_date - {int(max_late_days)} AS TIMESTAMPTZ)"
        checks.append((f"_event_ts < {earliest} OR _event_ts >= {after_next_day}", "event_ts_out_of_window:event_ts"))
    else:
        checks += [(f"_{name} >= {after_next_day}", f"timestamp_out_of_window:{name}") for name in table.timestamps]
    return checks


def _stored_values(table: LandingTable, salt: str) -> dict[str, str]:
    """Per landing table, a judged row's values as the peer stores them (accountwatch's stored values)."""
    if table is ACCOUNTS:
        national = r"regexp_replace(trim(phone), '^\+86', '')"
        return {
            "account_id": "account_id",
            "account_type": "account_type",
            "subject_id": "CASE WHEN account_type = 'public' THEN subject_id END",
            "subject_type": "CASE WHEN account_type = 'public' THEN subject_type END",
            "account_name": "account_name",
            "registered_at": "_registered_at",
            "registration_ip": "nullif(trim(registration_ip), '')",
            "device_id": "nullif(trim(device_id), '')",
            "phone_digest": (
                f"CASE WHEN nullif({national}, '') IS NOT NULL THEN sha256({quoted(salt)} || {national}) END"
            ),
            "content_category": "nullif(trim(content_category), '')",
            "status": "status",
            "updated_at": "_updated_at",
        }
    if table is SUBSCRIPTIONS:
        return {
            "event_id": "event_id",
            "account_id": "account_id",
            "user_id": "user_id",
            "action": "action",
            "event_ts": "_event_ts",
            "channel": "nullif(trim(channel), '')",
            "event_date": "CAST(_event_ts AS DATE)",
        }
    return {
        "event_id": "event_id",
        "account_id": "account_id",
        "actor_id": "nullif(trim(actor_id), '')",
        "event_type": "event_type",
        "event_ts": "_event_ts",
        "count": "_count",
        "event_date": "CAST(_event_ts AS DATE)",
    }


class Peer(PeerDetection):
    """accountwatch's ingest, dormant and quota detection and follower baseline, in one DuckDB database."""

    def __init__(self, landing: Path | str, settings: Settings | None = None, database: str = ":memory:") -> None:
        self.landing = Path(landing).absolute()
        self.settings = settings or Settings()
        self.db = duckdb.connect(database)
        self.db.execute(f"SET TimeZone = {quoted(self.settings.time_zone)}")
        self.db.execute(SCHEMA)
        # The phone digest only tells two deliveries of one account apart; its salt never leaves the process.
        self.salt = secrets.token_hex(16)

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    def backfill(self, start: date, end: date) -> dict[str, TableCounts]:
        """Ingest every day from start to end and judge them all from the change history."""
        loaded = self.ingest(start, end)
        self.detect(start, end, from_current_state=False)
        return loaded

    def nightly(self, day: date) -> dict[str, TableCounts]:
        """Ingest one day and judge it from the current account state and detector state kept so far."""
        loaded = self.ingest(day, day)
        self.detect(day, day, from_current_state=True)
        return loaded

    # ---- ingest

    def ingest(self, start: date, end: date) -> dict[str, TableCounts]:
        """Load the landing folders of start..end; every check runs before anything is written."""
        days = days_from(start, end)
        counts: dict[str, TableCounts] = {}
        breaches: list[str] = []
        for table in (ACCOUNTS, SUBSCRIPTIONS, ENGAGEMENT):
            files = self._files(table, days)
            counts[table.name] = TableCounts(files=len(files))
            self._read_raw(table, files)
            self._judge(table, start, end)
            breaches += self._count(table, days, counts[table.name])
        if breaches:
            raise PeerError("; ".join(breaches))
        self._write(start, end, days)
        return counts

    def _files(self, table: LandingTable, days: list[date]) -> list[tuple[Path, str, date]]:
        files = []
        for day in days:
            day_files = landing_files(self.landing, table.name, day)
            if table.is_event_table and not day_files:
                raise PeerError(f"no {table.name} files for {day.isoformat()} under {self.landing / table.name}")
            files += [(path, file_format, day) for path, file_format in day_files]
        return files

    def _read_raw(self, table: LandingTable, files: list[tuple[Path, str, date]]) -> None:
        """raw_<table>: every landed row as strings, with malformed, source_file, source_row and ingest_date."""
        columns = ", ".join(f"{name} VARCHAR" for name in table.columns)
        self.db.execute(
            f"CREATE OR REPLACE TEMP TABLE raw_{table.name} ({columns}, malformed BOOLEAN, source_file VARCHAR, "
            "source_row BIGINT, ingest_date DATE)"
        )
        self.db.execute("CREATE OR REPLACE TEMP TABLE file_days (filename VARCHAR, ingest_date DATE)")
        if files:
            self.db.executemany("INSERT INTO file_days VALUES (?, ?)", [(str(path), day) for path, _, day in files])
        # Files of one layout are read in one scan: the per-file cost would otherwise dominate a backfill.
        csv_groups: dict[tuple[str, ...], list[Path]] = {}
        parquet_groups: dict[tuple[str, ...], list[Path]] = {}
        for path, file_format, _ in files:
            if file_format == "csv":
                csv_groups.setdefault(_csv_header(path), []).append(path)
            elif file_format == "parquet":
                try:
                    schema = pq.read_schema(path)
                except (OSError, ValueError) as error:
                    raise PeerError(f"{path}: cannot be read ({error})") from error
                parquet_groups.setdefault(
                    tuple(f"{name}:{schema.field(name).type}" for name in schema.names), []
                ).append(path)
        for header, paths in csv_groups.items():
            self._read_csv(table, list(header), paths)
        for paths in parquet_groups.values():
            self._read_parquet(table, paths)
        jsonl = [(path, day) for path, file_format, day in files if file_format == "jsonl"]
        if jsonl:
            self._read_jsonl(table, jsonl)

    def _failing(self, paths: list[Path], error: duckdb.Error) -> PeerError:
        name = str(paths[0]) if len(paths) == 1 else f"one of {len(paths)} files from {paths[0]}"
        return PeerError(f"{name}: cannot be read ({error})")

    def _read_csv(self, table: LandingTable, names: list[str], paths: list[Path]) -> None:
        column_types = "{" + ", ".join(f"{quoted(name)}: 'VARCHAR'" for name in names) + "}"
        values = ", ".join(f'"{name}"' if name in names else "NULL" for name in table.columns)
        file_list = "[" + ", ".join(quoted(str(path)) for path in paths) + "]"
        # A row with too few or too many fields is a malformed record; the reader sets it aside with its line.
        try:
            self.db.execute(
                f"""
                INSERT INTO raw_{table.name}
                SELECT {values}, false, filename,
                       ordinality - min(ordinality) OVER (PARTITION BY filename) + 1, d.ingest_date
                FROM read_csv({file_list}, header = true, delim = ',', quote = '"', escape = '"',
                              columns = {column_types}, auto_detect = false, ignore_errors = true,
                              store_rejects = true, rejects_table = 'csv_rejects',
                              rejects_scan = 'csv_reject_scans', null_padding = false, filename = true)
                     WITH ORDINALITY
                JOIN file_days d USING (filename)
                """
            )
            rejects = self.db.execute(
                "SELECT DISTINCT s.file_path, e.line FROM csv_rejects e "
                "JOIN csv_reject_scans s USING (scan_id, file_id) ORDER BY ALL"
            ).fetchall()
        except duckdb.Error as error:
            raise self._failing(paths, error) from error
        finally:
            self.db.execute("DROP TABLE IF EXISTS csv_rejects; DROP TABLE IF EXISTS csv_reject_scans")
        rejected: dict[str, list[int]] = {}
        for file_path, line in rejects:
            rejected.setdefault(file_path, []).append(line - 1)
        for file_path, rows in rejected.items():
            self._number_around(table, file_path, rows)

    def _number_around(self, table: LandingTable, path: str, rejected: list[int]) -> None:
        """Add the file's rejected rows and number its loaded rows around them."""
        # The reader gives a rejected row's line, not its row: exact unless a quoted value spans lines before it.
        file_name = quoted(path)
        (loaded,) = self.db.execute(
            f"SELECT count(*) FROM raw_{table.name} WHERE source_file = {file_name} AND NOT malformed"
        ).fetchone() or (0,)
        skipped = set(rejected)
        free: list[int] = []
        number = 0
        while len(free) < loaded:
            number += 1
            if number not in skipped:
                free.append(number)
        self.db.execute("CREATE OR REPLACE TEMP TABLE csv_numbers (ordinality BIGINT, source_row BIGINT)")
        self.db.executemany("INSERT INTO csv_numbers VALUES (?, ?)", list(enumerate(free, start=1)))
        self.db.execute(
            f"UPDATE raw_{table.name} r SET source_row = n.source_row FROM csv_numbers n "
            f"WHERE r.source_file = {file_name} AND r.source_row = n.ordinality"
        )
        nulls = ", ".join("NULL" for _ in table.columns)
        self.db.executemany(
            f"INSERT INTO raw_{table.name} SELECT {nulls}, true, {file_name}, ?, ingest_date "
            f"FROM file_days WHERE filename = {file_name}",
            [(row,) for row in rejected],
        )

    def _read_parquet(self, table: LandingTable, paths: list[Path]) -> None:
        file_list = "[" + ", ".join(quoted(str(path)) for path in paths) + "]"
        try:
            layout = dict(
                self.db.execute(
                    f"SELECT column_name, column_type FROM (DESCRIBE FROM read_parquet({quoted(str(paths[0]))}))"
                ).fetchall()
            )
            values = []
            for name in table.columns:
                kind = layout.get(name)
                if kind is None:
                    values.append("NULL")
                elif kind.startswith("TIMESTAMP_NS") or kind in ("TIMESTAMP_MS", "TIMESTAMP_S"):
                    # A timestamp without zone is platform wall time, as a string without offset is.
                    values.append(f'CAST(CAST("{name}" AS TIMESTAMP) AS VARCHAR)')
                else:
                    values.append(f'CAST("{name}" AS VARCHAR)')
            self.db.execute(
                f"INSERT INTO raw_{table.name} SELECT {', '.join(values)}, false, filename, file_row_number + 1, "
                f"d.ingest_date FROM read_parquet({file_list}, file_row_number = true, filename = true) "
                "JOIN file_days d USING (filename)"
            )
        except duckdb.Error as error:
            raise self._failing(paths, error) from error

    def _read_jsonl(self, table: LandingTable, files: list[tuple[Path, date]]) -> None:
        """JSON Lines line by line: a line holding one object is a row, any other non-blank line a malformed one."""
        paths = "[" + ", ".join(quoted(str(path)) for path, _ in files) + "]"
        json_paths = "[" + ", ".join(quoted(f"$.{name}") for name in table.columns) + "]"
        fields = ", ".join(
            f"CASE WHEN is_object THEN fields[{index}] END" for index in range(1, len(table.columns) + 1)
        )
        try:
            self.db.execute(
                f"""
                INSERT INTO raw_{table.name}
                WITH lines AS (
                    SELECT filename, string_split(replace(content, chr(13) || chr(10), chr(10)), chr(10)) AS parts
                    FROM read_text({paths})
                ), numbered AS (
                    SELECT filename, unnest(parts) AS line, unnest(range(1, len(parts) + 1)) AS line_no, len(parts) AS n
                    FROM lines
                ), judged AS (
                    SELECT filename, line_no,
                           regexp_matches(line, '^\\s*\\{{') AND json_valid(line) AND json_type(line) = 'OBJECT'
                               AS is_object,
                           line
                    FROM (SELECT filename, line_no, n,
                                 CASE WHEN line_no = 1 THEN ltrim(line, chr(65279)) ELSE line END AS line
                          FROM numbered)
                    -- A file ending in a newline has no line after it; a blank line is numbered, not loaded.
                    WHERE NOT (line_no = n AND line = '') AND trim(line, ' ' || chr(9)) <> ''
                )
                SELECT {fields}, NOT is_object, filename, line_no, d.ingest_date
                FROM (SELECT *, CASE WHEN is_object THEN json_extract_string(line, {json_paths}) END AS fields
                      FROM judged) JOIN file_days d USING (filename)
                """
            )
        except duckdb.Error as error:
            raise PeerError(
                f"{table.name} JSON Lines files of {files[0][1]}..{files[-1][1]}: cannot be read ({error})"
            ) from error

    # Long: one SQL statement with a CASE branch per quarantine reason of the contract, in its order.
    def _judge(self, table: LandingTable, start: date, end: date) -> None:
        """judged_<table>: typed values, the first problem and whether the row is a re-delivery."""
        typed = [f"TRY_CAST(trim({name}) AS TIMESTAMPTZ) AS _{name}" for name in table.timestamps]
        if table is ENGAGEMENT:
            typed.append(
                "CASE WHEN count IS NULL OR trim(count) = '' THEN 1 "
                "WHEN regexp_matches(trim(count), '^[+-]?[0-9]+$') THEN TRY_CAST(trim(count) AS BIGINT) END AS _count"
            )
        problems = ", ".join(
            f"CASE WHEN {condition} THEN {quoted(label)} END"
            for condition, label in _problem_checks(table, self.settings.max_late_days)
        )
        values = _stored_values(table, self.salt)
        content = "struct_pack(" + ", ".join(f"{name} := {expression}" for name, expression in values.items()) + ")"
        self.db.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE typed_{table.name} AS
            SELECT *, coalesce({problems}) AS problem, {content} AS content
            FROM (SELECT *, {", ".join(typed)} FROM raw_{table.name})
            """
        )
        in_range = f"ingest_date BETWEEN DATE '{start}' AND DATE '{end}'"
        stored = ", ".join(values)
        if table.is_event_table:
            window_start = start - timedelta(days=self.settings.max_late_days)
            loaded = (
                f"SELECT event_id, struct_pack({stored}) AS content FROM {table.name} "
                f"WHERE event_date BETWEEN DATE '{window_start}' AND DATE '{end + timedelta(days=1)}' "
                f"AND NOT ({in_range})"
            )
            self.db.execute(
                f"""
                CREATE OR REPLACE TEMP TABLE judged_{table.name} AS
                WITH loaded AS ({loaded}),
                ranked AS (
                    SELECT t.*, row_number() OVER batch AS batch_rank, first(content) OVER batch AS first_content
                    FROM typed_{table.name} t
                    WINDOW batch AS (PARTITION BY event_id, problem IS NULL ORDER BY {PROVENANCE})
                ),
                known AS (
                    SELECT r.*,
                        EXISTS (SELECT 1 FROM loaded l WHERE l.event_id = r.event_id) AS known,
                        EXISTS (SELECT 1 FROM loaded l WHERE l.event_id = r.event_id
                                AND l.content IS NOT DISTINCT FROM r.content) AS same_as_loaded
                    FROM ranked r
                )
                SELECT * EXCLUDE (problem, batch_rank, first_content, known, same_as_loaded),
                    problem IS NULL AND CASE WHEN known THEN same_as_loaded
                        ELSE batch_rank > 1 AND content IS NOT DISTINCT FROM first_content END AS redelivered,
                    CASE WHEN problem IS NULL AND CASE WHEN known THEN NOT same_as_loaded
                        ELSE batch_rank > 1 AND content IS DISTINCT FROM first_content END
                        THEN 'duplicate_event_id:event_id' ELSE problem END AS problem
                FROM known
                """
            )
        else:
            self.db.execute(
                f"""
                CREATE OR REPLACE TEMP TABLE judged_{table.name} AS
                WITH ranked AS (
                    SELECT t.*, row_number() OVER same_content AS batch_rank
                    FROM typed_{table.name} t
                    WINDOW same_content AS (PARTITION BY content, problem IS NULL ORDER BY {PROVENANCE})
                )
                SELECT * EXCLUDE (batch_rank),
                    problem IS NULL AND (batch_rank > 1 OR EXISTS (
                        SELECT 1 FROM account_changes a
                        WHERE a.account_id = r.content.account_id AND a.updated_at = r.content.updated_at
                          AND NOT (a.{in_range})
                          AND struct_pack({stored}) IS NOT DISTINCT FROM r.content)) AS redelivered
                FROM ranked r
                """
            )

    def _count(self, table: LandingTable, days: list[date], counts: TableCounts) -> list[str]:
        """Fill `counts` from judged_<table>; the table-days whose quarantined share is above the limit."""
        rows = self.db.execute(
            f"SELECT ingest_date, redelivered, split_part(problem, ':', 1) AS reason, count(*) "
            f"FROM judged_{table.name} GROUP BY ALL"
        ).fetchall()
        landed = dict.fromkeys(days, 0)
        bad: dict[date, dict[str, int]] = {}
        for day, redelivered, reason, number in rows:
            landed[day] += number
            if redelivered:
                counts.redelivered += number
            elif reason:
                bad.setdefault(day, {})[reason] = bad.get(day, {}).get(reason, 0) + number
                counts.quarantined[reason] = counts.quarantined.get(reason, 0) + number
        counts.landed = sum(landed.values())
        counts.loaded = counts.landed - counts.redelivered - sum(counts.quarantined.values())
        limit = self.settings.max_quarantine_share
        breaches = []
        for day, total in sorted(landed.items()):
            quarantined = sum(bad.get(day, {}).values())
            if total and quarantined / total > limit:
                detail = ", ".join(f"{reason} {n}" for reason, n in sorted(bad[day].items()))
                breaches.append(
                    f"{table.name} {day}: {quarantined} of {total} rows quarantined "
                    f"({quarantined / total:.1%}, limit {limit:.0%}): {detail}"
                )
        return breaches

    def _write(self, start: date, end: date, days: list[date]) -> None:
        """Replace the range's rows in one transaction: a failed ingest leaves nothing of it behind."""
        in_range = f"ingest_date BETWEEN DATE '{start}' AND DATE '{end}'"
        self.db.execute("BEGIN TRANSACTION")
        try:
            for table in (ACCOUNTS, SUBSCRIPTIONS, ENGAGEMENT):
                name = "account_changes" if table is ACCOUNTS else table.name
                stored = ", ".join(f"content.{column}" for column in _stored_values(table, self.salt))
                self.db.execute(f"DELETE FROM {name} WHERE {in_range}")
                self.db.execute(
                    f"INSERT INTO {name} SELECT {stored}, {PROVENANCE} FROM judged_{table.name} "
                    "WHERE problem IS NULL AND NOT redelivered"
                )
                self.db.execute(f"DELETE FROM quarantine WHERE table_name = '{table.name}' AND {in_range}")
                self.db.execute(
                    f"INSERT INTO quarantine SELECT '{table.name}', {PROVENANCE}, split_part(problem, ':', 1), "
                    f"nullif(split_part(problem, ':', 2), '') FROM judged_{table.name} "
                    "WHERE problem IS NOT NULL AND NOT redelivered"
                )
            self._update_state(start, end)
            self.db.execute(f"DELETE FROM loaded_days WHERE {in_range}")
            self.db.executemany(
                "INSERT INTO loaded_days VALUES (?, ?)",
                [(table, day) for table in ("accounts", "subscriptions", "engagement") for day in days],
            )
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def _update_state(self, start: date, end: date) -> None:
        """The compact state a nightly day reads: current accounts, latest use, and daily counts per account."""
        in_range = f"ingest_date BETWEEN DATE '{start}' AND DATE '{end}'"
        self.db.execute(
            f"""
            CREATE OR REPLACE TABLE accounts AS
            SELECT * EXCLUDE (batch) FROM (
                SELECT *, false AS batch FROM accounts
                UNION ALL
                SELECT account_id, account_type, subject_id, subject_type, account_name, registered_at, status,
                       updated_at, true
                FROM account_changes WHERE {in_range}
                QUALIFY row_number() OVER (PARTITION BY account_id
                    ORDER BY updated_at DESC, ingest_date DESC, source_file DESC, source_row DESC) = 1)
            -- An update as old as the current row still wins: the later delivery is the platform's last word.
            QUALIFY row_number() OVER (PARTITION BY account_id ORDER BY updated_at DESC, batch DESC) = 1
            """
        )
        self.db.execute(
            f"""
            CREATE OR REPLACE TABLE account_activity AS
            SELECT account_id, max(last_login_at) AS last_login_at, max(last_publish_at) AS last_publish_at
            FROM (SELECT * FROM account_activity
                  UNION ALL
                  SELECT account_id, max(event_ts) FILTER (WHERE event_type = 'login'),
                         max(event_ts) FILTER (WHERE event_type = 'publish')
                  FROM engagement WHERE {in_range} AND event_type IN ('login', 'publish') GROUP BY account_id)
            GROUP BY account_id
            """
        )
        self.db.execute(f"DELETE FROM account_daily WHERE {in_range}")
        self.db.execute(
            f"""
            INSERT INTO account_daily
            SELECT account_id, event_date, ingest_date,
                sum(CASE WHEN kind = 'login' THEN n ELSE 0 END), sum(CASE WHEN kind = 'publish' THEN n ELSE 0 END),
                max(CASE WHEN kind = 'login' THEN event_ts END), max(CASE WHEN kind = 'publish' THEN event_ts END),
                sum(CASE WHEN kind = 'read' THEN n ELSE 0 END), sum(CASE WHEN kind = 'like' THEN n ELSE 0 END),
                sum(CASE WHEN kind = 'share' THEN n ELSE 0 END), sum(CASE WHEN kind = 'comment' THEN n ELSE 0 END),
                sum(CASE WHEN kind = 'follow' THEN n ELSE 0 END), sum(CASE WHEN kind = 'unfollow' THEN n ELSE 0 END)
            FROM (SELECT account_id, event_date, ingest_date, event_type AS kind, count AS n, event_ts
                  FROM engagement WHERE {in_range}
                  UNION ALL
                  SELECT account_id, event_date, ingest_date, action, 1, event_ts
                  FROM subscriptions WHERE {in_range})
            GROUP BY account_id, event_date, ingest_date
            """
        )
