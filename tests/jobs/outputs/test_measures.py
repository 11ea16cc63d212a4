from __future__ import annotations

import csv
import json
from datetime import date, datetime

import pytest

from accountwatch.jobs.core.lake import TABLES, local_rows
from accountwatch.jobs.outputs.evidence import ExportError
from accountwatch.jobs.outputs.measures import export_measures, month_bounds

NOW = datetime(2026, 6, 2, 9)


def rows_of(path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# Long: the month's literal rows of every table the record reads, each table a few lines, in one place.
@pytest.fixture
def month_lake(spark, lake):
    def write(table: str, rows: list[tuple]) -> None:
        lake.replace(table, local_rows(spark, rows, TABLES[table].schema), "true")

    def finding(finding_id: str, day: date, detector: str, account: str, severity: str, action: str) -> tuple:
        return (finding_id, day, detector, account, "s_1", severity, 1.0, "{}", f"{detector}/1", action, "key")

    write(
        "findings",
        [
            finding("f1", date(2026, 5, 3), "quota_overrun", "pa_1", "high", "close_account"),
            finding("f2", date(2026, 5, 9), "quota_overrun", "pa_2", "high", "close_account"),
            finding("f3", date(2026, 5, 9), "unapproved_transfer", "pa_3", "medium", "suspend_updates"),
            finding("f4", date(2026, 4, 30), "quota_overrun", "pa_4", "high", "close_account"),
        ],
    )
    write(
        "reviews",
        [
            ("r1", "f1", date(2026, 5, 3), "quota_overrun", "pa_1", "key", "dismissed", "ann", None, NOW),
            (
                "r2",
                "f1",
                date(2026, 5, 3),
                "quota_overrun",
                "pa_1",
                "key",
                "confirmed",
                "bo",
                "on reflection",
                datetime(2026, 6, 3),
            ),
            (
                "r3",
                "f3",
                date(2026, 5, 9),
                "unapproved_transfer",
                "pa_3",
                "key",
                "dismissed",
                "ann",
                "approved late, call 138 1234 5678",
                NOW,
            ),
        ],
    )
    write(
        "blacklist",
        [
            (
                "e1",
                "subject",
                "s_1",
                "s_1",
                ["quota"],
                "over quota",
                ["f1"],
                date(2026, 5, 3),
                "blacklist/1",
                "active",
                "accountwatch",
                datetime(2026, 5, 3),
                "listed",
                None,
                False,
            ),
            (
                "e1",
                "subject",
                "s_1",
                "s_1",
                ["quota"],
                "over quota",
                ["f1"],
                date(2026, 5, 3),
                "blacklist/1",
                "lifted",
                "bo",
                datetime(2026, 5, 20),
                "appeal upheld",
                None,
                True,
            ),
        ],
    )
    write(
        "account_tiers",
        [
            ("pa_1", "B", "normal", [], "credit_tiers/1", date(2026, 1, 1), date(2026, 5, 3), False),
            ("pa_1", "D", "restricted", ["f1"], "credit_tiers/1", date(2026, 5, 3), None, True),
        ],
    )

    def change(status: str, day: date) -> tuple:
        stamp = datetime.combine(day, datetime.min.time())
        return (
            "pa_2",
            "public",
            "s_1",
            "individual",
            "n",
            datetime(2025, 1, 1),
            None,
            None,
            None,
            None,
            None,
            status,
            stamp,
            day,
            "a.csv",
            1,
        )

    write("account_changes", [change("active", date(2026, 1, 1)), change("closed", date(2026, 5, 12))])
    return lake


def test_the_month_is_recorded_per_detector_with_verdicts_measures_tiers_and_status_changes(
    month_lake, settings, tmp_path
):
    export = export_measures(month_lake, settings, "2026-05", tmp_path / "m", "compliance", NOW)
    out = tmp_path / "m"
    assert export.findings == 3
    by_detector = {(row["detector"], row["severity"]): row for row in rows_of(out / "measures_by_detector.csv")}
    quota = by_detector[("quota_overrun", "high")]
    assert (quota["findings"], quota["confirmed"], quota["dismissed"], quota["unreviewed"]) == ("2", "1", "0", "1")
    assert quota["recommended_action"] == "close_account" and quota["rule"].startswith("cap the public accounts")
    assert by_detector[("unapproved_transfer", "medium")]["dismissed"] == "1"
    notes = [row["note"] for row in rows_of(out / "findings.csv") if row["note"]]
    assert notes and not any("5678" in note for note in notes)
    assert [row["measure"] for row in rows_of(out / "blacklist.csv")] == ["blacklisted", "lifted"]
    assert [(row["previous_tier"], row["tier"]) for row in rows_of(out / "tier_movements.csv")] == [("B", "D")]
    assert [(row["previous_status"], row["status"]) for row in rows_of(out / "account_status_changes.csv")] == [
        ("active", "closed")
    ]
    manifest = json.loads((out / "manifest.json").read_text())
    listed = {entry["path"] for entry in manifest["files"]}
    assert listed == {path.name for path in out.iterdir()} - {"manifest.json", "SHA256SUMS"}
    assert "Record of measures, 2026-05" in (out / "summary.html").read_text()
    logged = month_lake.read("exports").collect()
    assert [(row["entity_type"], row["entity_id"], row["findings"]) for row in logged] == [("month", "2026-05", 3)]


def test_exporting_the_same_month_again_gives_the_same_bytes_and_a_second_log_row(month_lake, settings, tmp_path):
    export_measures(month_lake, settings, "2026-05", tmp_path / "first", "compliance", NOW)
    export_measures(month_lake, settings, "2026-05", tmp_path / "second", "auditor", datetime(2026, 6, 9))
    first = {path.name: path.read_bytes() for path in (tmp_path / "first").iterdir()}
    second = {path.name: path.read_bytes() for path in (tmp_path / "second").iterdir()}
    assert first == second
    assert month_lake.read("exports").count() == 2


def test_a_bad_month_or_a_used_folder_is_refused_before_anything_is_written(month_lake, settings, tmp_path):
    with pytest.raises(ExportError, match="not a month"):
        month_bounds("2026-13")
    used = tmp_path / "used"
    used.mkdir()
    (used / "notes.txt").write_text("mine")
    with pytest.raises(ExportError, match="not an empty folder"):
        export_measures(month_lake, settings, "2026-05", used, "compliance", NOW)
    assert not month_lake.exists("exports")
    assert month_bounds("2024-02") == (date(2024, 2, 1), date(2024, 2, 29))
