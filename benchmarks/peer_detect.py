"""The peer's detection half: dormant_account and quota_overrun spells and the follower baseline, in DuckDB SQL.

`Peer` (benchmarks/peer.py) mixes it in; the ingest half fills the tables it reads.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import duckdb

from accountwatch.jobs.core.config import Settings

DORMANT = "dormant_account"
QUOTA = "quota_overrun"
SPELL_DETECTORS = (DORMANT, QUOTA)


def add_months(day: date, months: int) -> date:
    """Calendar months added to a day, clamped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def days_from(start: date, end: date) -> list[date]:
    """Every day from start to end, both included."""
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


def months_between(later: str, earlier: str) -> str:
    """Spark's months_between(later, earlier) in the session time zone, rounded to 8 digits, as SQL."""
    later_day, earlier_day = f"CAST({later} AS DATE)", f"CAST({earlier} AS DATE)"
    month_diff = f"((year({later_day}) * 12 + month({later_day})) - (year({earlier_day}) * 12 + month({earlier_day})))"
    both_month_ends = f"({later_day} = last_day({later_day}) AND {earlier_day} = last_day({earlier_day}))"
    seconds = (
        f"((day({later_day}) - day({earlier_day})) * 86400"
        f" + floor(epoch({later}) - epoch(CAST({later_day} AS TIMESTAMPTZ)))"
        f" - floor(epoch({earlier}) - epoch(CAST({earlier_day} AS TIMESTAMPTZ))))"
    )
    fraction = f"floor(({month_diff} + {seconds} / (31.0 * 86400)) * 1e8 + 0.5) / 1e8"
    return (
        f"CASE WHEN day({later_day}) = day({earlier_day}) OR {both_month_ends} "
        f"THEN CAST({month_diff} AS DOUBLE) ELSE {fraction} END"
    )


def quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class PeerDetection:
    """Judging days from the tables the ingest half filled; needs `db` and `settings`."""

    db: duckdb.DuckDBPyConnection
    settings: Settings

    def detect(self, start: date, end: date, from_current_state: bool) -> dict[str, int]:
        """Judge start..end: dormant and quota findings (once per spell) and the follower baselines."""
        days = days_from(start, end)
        self._snapshots(start, end, from_current_state)
        judged = self._judged_days(days)
        self.db.execute("BEGIN TRANSACTION")
        try:
            found = self._spells(start, end, judged)
            self._baselines(start, end, judged["baseline"])
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return found

    def _snapshots(self, start: date, end: date, from_current_state: bool) -> None:
        """Each public account's state and latest use at the end of every day of start..end."""
        if from_current_state:
            self.db.execute(
                f"""
                CREATE OR REPLACE TEMP TABLE snapshots AS
                SELECT DATE '{start}' AS run_date, a.account_id, account_type, subject_id, subject_type,
                       registered_at, status, last_login_at, last_publish_at
                FROM accounts a LEFT JOIN account_activity u USING (account_id)
                WHERE account_type = 'public'
                """
            )
            return
        until = f"DATE '{end}'"
        self.db.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE snapshots AS
            WITH calendar AS (
                SELECT CAST(range AS DATE) AS run_date FROM range(DATE '{start}', {until} + 1, INTERVAL 1 DAY)
            ), state_points AS (
                SELECT account_id, ingest_date,
                    max(struct_pack(updated_at, ingest_date, source_file, source_row, account_type, subject_id,
                                    subject_type, registered_at, status)) AS latest
                FROM account_changes WHERE ingest_date <= {until} GROUP BY account_id, ingest_date
            ), states AS (
                SELECT account_id, ingest_date,
                    max(latest) OVER (PARTITION BY account_id ORDER BY ingest_date ROWS UNBOUNDED PRECEDING) AS state,
                    lead(ingest_date) OVER (PARTITION BY account_id ORDER BY ingest_date) AS next_date
                FROM state_points
            ), use_points AS (
                SELECT account_id, ingest_date, max(last_login_at) AS login, max(last_publish_at) AS publish
                FROM account_daily WHERE ingest_date <= {until} GROUP BY account_id, ingest_date
            ), uses AS (
                SELECT account_id, ingest_date,
                    max(login) OVER so_far AS login, max(publish) OVER so_far AS publish,
                    lead(ingest_date) OVER (PARTITION BY account_id ORDER BY ingest_date) AS next_date
                FROM use_points
                WINDOW so_far AS (PARTITION BY account_id ORDER BY ingest_date ROWS UNBOUNDED PRECEDING)
            ), daily_states AS (
                SELECT c.run_date, s.account_id, s.state.account_type, s.state.subject_id, s.state.subject_type,
                       s.state.registered_at, s.state.status
                FROM states s JOIN calendar c
                  ON c.run_date >= s.ingest_date AND c.run_date < coalesce(s.next_date, {until} + 1)
                WHERE s.state.account_type = 'public'
            ), daily_uses AS (
                SELECT c.run_date, u.account_id, u.login AS last_login_at, u.publish AS last_publish_at
                FROM uses u JOIN calendar c
                  ON c.run_date >= u.ingest_date AND c.run_date < coalesce(u.next_date, {until} + 1)
            )
            SELECT * FROM daily_states LEFT JOIN daily_uses USING (run_date, account_id)
            """
        )

    def _judged_days(self, days: list[date]) -> dict[str, list[date]]:
        """Per detector the days the loaded logs let it judge (dormancy: six months; baseline: its window)."""
        loaded: dict[str, set[date]] = {}
        for table, day in self.db.execute("SELECT table_name, ingest_date FROM loaded_days").fetchall():
            loaded.setdefault(table, set()).add(day)
        engagement, subscriptions = loaded.get("engagement", set()), loaded.get("subscriptions", set())
        months, spike = self.settings.dormant_months, self.settings.spike
        dormant = [
            day
            for day in days
            if all(d in engagement for d in days_from(add_months(day, -months) + timedelta(days=1), day))
        ]
        baseline = [
            day
            for day in days
            if sum(1 for offset in range(1, spike.baseline_days + 1) if day - timedelta(days=offset) in subscriptions)
            >= spike.min_loaded_baseline_days
        ]
        return {DORMANT: dormant, QUOTA: list(days), "baseline": baseline}

    def _conditions(self) -> dict[str, str]:
        """Per spell detector: the snapshot rows in its condition, with its finding's subject, severity and score."""
        months = int(self.settings.dormant_months)
        cutoff = f"CAST(CAST(run_date - INTERVAL {months} MONTH AS DATE) + 1 AS TIMESTAMPTZ)"
        last_use = "greatest(last_login_at, last_publish_at)"
        end_of_day = "CAST(run_date + 1 AS TIMESTAMPTZ)"
        dormant = f"""
            SELECT run_date, account_id, subject_id, 'low' AS severity,
                   round({months_between(end_of_day, f"coalesce({last_use}, registered_at)")}, 2) AS score
            FROM snapshots
            WHERE account_type = 'public' AND status = 'active' AND registered_at < {cutoff}
              AND ({last_use} IS NULL OR {last_use} < {cutoff})
        """
        limits = self.settings.quota_limits
        limit = (
            "CASE subject_type "
            + " ".join(f"WHEN {quoted(name)} THEN {int(value)}" for name, value in sorted(limits.items()))
            + f" ELSE {int(limits['other'])} END"
        )
        quota = f"""
            SELECT run_date, account_id, subject_id,
                   CASE WHEN rank > 2 * quota THEN 'high' ELSE 'medium' END AS severity,
                   CAST(rank - quota AS DOUBLE) AS score
            FROM (SELECT *, {limit} AS quota FROM (
                SELECT run_date, account_id, subject_id,
                    row_number() OVER by_registration AS rank,
                    -- The subject's type is that of its first live account.
                    first(subject_type) OVER by_registration AS subject_type
                FROM snapshots
                WHERE account_type = 'public' AND status <> 'closed' AND subject_id IS NOT NULL
                WINDOW by_registration AS (PARTITION BY run_date, subject_id ORDER BY registered_at, account_id)))
            WHERE rank > quota
        """
        return {DORMANT: dormant, QUOTA: quota}

    def _spells(self, start: date, end: date, judged: dict[str, list[date]]) -> dict[str, int]:
        """Flag the accounts in a detector's condition on a judged day that were not in it on its previous one."""
        before = dict(
            self.db.execute(
                f"SELECT detector, max(run_date) FROM detector_runs WHERE run_date < DATE '{start}' AND status = 'ok' "
                "GROUP BY detector"
            ).fetchall()
        )
        pairs = []
        for detector in SPELL_DETECTORS:
            previous = before.get(detector)
            for day in judged[detector]:
                pairs.append((detector, day, previous))
                previous = day
        self.db.execute("CREATE OR REPLACE TEMP TABLE judged_days (detector VARCHAR, run_date DATE, previous DATE)")
        if pairs:
            self.db.executemany("INSERT INTO judged_days VALUES (?, ?, ?)", pairs)
        conditions = " UNION ALL ".join(
            f"SELECT {quoted(detector)} AS detector, * FROM ({query})" for detector, query in self._conditions().items()
        )
        self.db.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE in_condition AS
            SELECT c.* FROM ({conditions}) c JOIN judged_days j USING (detector, run_date)
            """
        )
        in_range = f"run_date BETWEEN DATE '{start}' AND DATE '{end}'"
        self.db.execute(f"DELETE FROM findings WHERE {in_range}")
        self.db.execute(
            f"""
            INSERT INTO findings
            SELECT c.run_date, c.detector, c.account_id, c.subject_id, c.severity, c.score
            FROM in_condition c JOIN judged_days j USING (detector, run_date)
            WHERE NOT EXISTS (
                SELECT 1 FROM (SELECT detector, run_date, account_id FROM in_condition
                               UNION ALL SELECT * FROM detector_state WHERE NOT {in_range}) p
                WHERE p.detector = c.detector AND p.account_id = c.account_id AND p.run_date = j.previous)
            """
        )
        self.db.execute(f"DELETE FROM detector_state WHERE {in_range}")
        self.db.execute("INSERT INTO detector_state SELECT detector, run_date, account_id FROM in_condition")
        self.db.execute(f"DELETE FROM detector_runs WHERE {in_range}")
        runs = [(detector, day, "ok") for detector in SPELL_DETECTORS for day in judged[detector]]
        runs += [
            (DORMANT, day, "history_too_short") for day in days_from(start, end) if day not in set(judged[DORMANT])
        ]
        if runs:
            self.db.executemany("INSERT INTO detector_runs VALUES (?, ?, ?)", runs)
        counts = dict(
            self.db.execute(f"SELECT detector, count(*) FROM findings WHERE {in_range} GROUP BY detector").fetchall()
        )
        return {detector: counts.get(detector, 0) for detector in SPELL_DETECTORS}

    # Long: one SQL statement, the baseline window, its median and MAD and the new followers' registrations.
    def _baselines(self, start: date, end: date, judged: list[date]) -> None:
        """Per candidate account and judged day: the trailing follower median and MAD, and its new followers."""
        spike = self.settings.spike
        in_range = f"run_date BETWEEN DATE '{start}' AND DATE '{end}'"
        self.db.execute(f"DELETE FROM follower_baselines WHERE {in_range}")
        if not judged:
            return
        days = ", ".join(f"DATE '{day}'" for day in judged)
        self.db.execute(
            f"""
            INSERT INTO follower_baselines
            WITH candidates AS (
                SELECT t.*, a.registered_at FROM (
                    SELECT account_id, event_date AS run_date, CAST(sum(follows) AS BIGINT) AS follows,
                           CAST(sum(reads) + sum(shares) AS BIGINT) AS audience
                    FROM account_daily
                    WHERE event_date IN ({days}) AND ingest_date <= event_date
                    GROUP BY account_id, event_date
                    HAVING sum(follows) >= {int(spike.min_follows)}) t
                JOIN accounts a ON a.account_id = t.account_id AND a.account_type = 'public'
            ), per_day AS (
                -- Days without follows count as zero; days before the account's registration not at all.
                SELECT c.account_id, c.run_date, c.run_date - CAST(back.range AS INTEGER) AS day,
                       CAST(coalesce(sum(d.follows), 0) AS BIGINT) AS day_follows,
                       CAST(coalesce(sum(d.reads + d.shares), 0) AS BIGINT) AS day_audience
                FROM candidates c CROSS JOIN range(1, {int(spike.baseline_days) + 1}) back
                LEFT JOIN account_daily d ON d.account_id = c.account_id
                    AND d.event_date = c.run_date - CAST(back.range AS INTEGER) AND d.ingest_date <= c.run_date
                WHERE c.run_date - CAST(back.range AS INTEGER) >= CAST(c.registered_at AS DATE)
                GROUP BY ALL
            ), medians AS (
                SELECT account_id, run_date, count(*) AS baseline_days,
                    median(day_follows) AS median_follows,
                    median(day_follows) FILTER (WHERE dayofweek(day) = dayofweek(run_date)) AS weekday_median_follows,
                    median(day_audience) AS median_audience
                FROM per_day GROUP BY account_id, run_date
            ), spread AS (
                SELECT p.account_id, p.run_date, median(abs(p.day_follows - m.median_follows)) AS mad_follows
                FROM per_day p JOIN medians m USING (account_id, run_date) GROUP BY ALL
            ), followers AS (
                SELECT s.account_id, s.event_date AS run_date, count(DISTINCT s.user_id) AS new_followers,
                    count(DISTINCT s.user_id) FILTER (
                        WHERE u.registered_at >= CAST(s.event_date - {int(spike.young_days) - 1} AS TIMESTAMPTZ)
                    ) AS young_followers
                FROM subscriptions s
                SEMI JOIN candidates c ON c.account_id = s.account_id AND c.run_date = s.event_date
                LEFT JOIN accounts u ON u.account_id = s.user_id
                WHERE s.action = 'follow' AND s.ingest_date <= s.event_date AND s.event_date IN ({days})
                GROUP BY ALL
            ), expected AS (
                SELECT c.account_id, c.run_date, c.follows, c.audience, coalesce(m.baseline_days, 0) AS baseline_days,
                    m.median_follows, m.weekday_median_follows, s.mad_follows, m.median_audience,
                    CAST(greatest(coalesce(m.median_follows, 0), coalesce(m.weekday_median_follows, 0)) AS DOUBLE)
                        AS expected_follows
                FROM candidates c LEFT JOIN medians m USING (account_id, run_date)
                LEFT JOIN spread s USING (account_id, run_date)
            )
            SELECT e.*, greatest(1.4826 * coalesce(mad_follows, 0), sqrt(expected_follows), 1.0) AS baseline_scale,
                (follows - expected_follows) / greatest(1.4826 * coalesce(mad_follows, 0), sqrt(expected_follows), 1.0),
                coalesce(f.new_followers, 0), coalesce(f.young_followers, 0)
            FROM expected e LEFT JOIN followers f USING (account_id, run_date)
            """
        )

    # ---- results

    def finding_keys(self, detectors: tuple[str, ...] = SPELL_DETECTORS) -> set[tuple[str, date, str]]:
        """(detector, run_date, account_id) of every finding of `detectors`."""
        names = ", ".join(quoted(name) for name in detectors)
        rows = self.db.execute(
            f"SELECT detector, run_date, account_id FROM findings WHERE detector IN ({names})"
        ).fetchall()
        return {(detector, day, account) for detector, day, account in rows}

    def follower_baselines(self) -> dict[tuple[date, str], tuple[int, int, float | None, float | None]]:
        """(run_date, account_id) -> (follows, baseline days, median follows, MAD of follows)."""
        rows = self.db.execute(
            "SELECT run_date, account_id, follows, baseline_days, median_follows, mad_follows FROM follower_baselines"
        ).fetchall()
        return {(day, account): tuple(values) for day, account, *values in rows}

    def quarantine_reasons(self) -> dict[tuple[str, str], int]:
        """(table, reason) -> quarantined rows."""
        rows = self.db.execute("SELECT table_name, reason, count(*) FROM quarantine GROUP BY ALL").fetchall()
        return {(table, reason): number for table, reason, number in rows}
