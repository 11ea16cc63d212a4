"""Tiers, the blacklist, reviews and the barring detectors, through ingest and detect on a crafted platform."""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from accountwatch.jobs.core.lake import Lake
from accountwatch.jobs.core.pii import PHONE_MASK
from accountwatch.jobs.detectors.run import detect_range
from accountwatch.jobs.ingest.landing import days_between
from accountwatch.jobs.ingest.load import ingest_range
from accountwatch.jobs.standing import blacklist
from accountwatch.jobs.standing.reviews import ReviewError, record_review
from tests.landing_files import ACCOUNT_HEADER, account, quiet_day, write_csv

KEY = b"unit-test-key-0123456789"
D1, D2, D3, D4, D5 = (date(2026, 3, day) for day in range(1, 6))
NOW = datetime(2026, 3, 6, 10, 0)
STANDING = ("findings", "account_tiers", "blacklist", "reviews", "detector_runs")


# Long: the crafted platform's days in order, each subject's story a few rows, as the docstring tells it.
def build_platform(landing: Path) -> None:
    """s_x runs five accounts (three over its limit of two); s_b batch-registers eight in a quarter hour.

    On D2 s_b registers again, and two new accounts take names like the closed "Daily News". On D4 s_x
    closes three accounts and on D5 reopens them, so its overruns are found again with the same evidence.
    """
    x_accounts = [
        account(f"x{n}", subject_id="s_x", registered_at=f"2025-01-0{n} 10:00:00", updated_at="2025-01-10 10:00:00")
        for n in range(1, 6)
    ]
    b_accounts = [
        account(
            f"b{n}",
            subject_id="s_b",
            account_name=f"Bulk Shop {n}",
            registered_at=f"2026-03-01 10:{n:02d}:00",
            updated_at=f"2026-03-01 10:{n:02d}:00",
            registration_ip="10.9.9.9",
            device_id="dev-b",
        )
        for n in range(1, 9)
    ]
    others = [
        account("pa_closed", subject_id="s_c", account_name="Daily News", status="closed", registered_at="2024-01-01"),
        account("pa_keep", subject_id="s_k", account_name="Morning Post", registered_at="2024-01-01"),
    ]
    fresh = [
        account(
            "b9",
            subject_id="s_b",
            account_name="Bulk Shop 9",
            registered_at="2026-03-02 09:00:00",
            updated_at="2026-03-02 09:00:00",
            registration_ip="10.7.7.7",
            device_id="dev-b9",
        ),
        account(
            "pa_dn2",
            subject_id="s_n",
            account_name="ＤＡＩＬＹ news 2",
            registered_at="2026-03-02 09:30:00",
            updated_at="2026-03-02 09:30:00",
            registration_ip="10.6.6.6",
            device_id="dev-n",
        ),
        account(
            "pa_dn3",
            subject_id="s_m",
            account_name="Daily Newz",
            registered_at="2026-03-02 09:40:00",
            updated_at="2026-03-02 09:40:00",
            registration_ip="10.5.5.5",
            device_id="dev-m",
        ),
        account(
            "pa_ep",
            subject_id="s_e",
            account_name="Evening Post",
            registered_at="2026-03-02 09:50:00",
            updated_at="2026-03-02 09:50:00",
            registration_ip="10.4.4.4",
            device_id="dev-e",
        ),
    ]

    def x_status(status: str, day: date) -> list[list]:
        return [
            account(
                f"x{n}",
                subject_id="s_x",
                status=status,
                registered_at=f"2025-01-0{n} 10:00:00",
                updated_at=f"{day.isoformat()} 08:00:00",
            )
            for n in (1, 2, 3)
        ]

    changes = {D1: x_accounts + b_accounts + others, D2: fresh, D4: x_status("closed", D4), D5: x_status("active", D5)}
    for day in days_between(D1, D5):
        write_csv(landing, "accounts", day, ACCOUNT_HEADER, changes.get(day, []))
        quiet_day(landing, day, account_id="pa_keep")


@pytest.fixture(scope="module")
def platform(tmp_path_factory) -> Path:
    landing = tmp_path_factory.mktemp("standing") / "landing"
    build_platform(landing)
    return landing


@pytest.fixture(scope="module")
def loaded(spark, settings, platform, tmp_path_factory) -> Path:
    """A lake with every day loaded and none judged, which the judged lakes below start from as copies."""
    folder = tmp_path_factory.mktemp("standing-loaded") / "lake"
    ingest_range(Lake(spark, folder, settings), platform, D1, D5, settings, KEY)
    return folder


@pytest.fixture(scope="module")
def backfilled(spark, settings, loaded, tmp_path_factory) -> Lake:
    """Every day judged in one range, as a backfill judges them."""
    copy = tmp_path_factory.mktemp("standing-bulk") / "lake"
    shutil.copytree(loaded, copy)
    lake = Lake(spark, copy, settings)
    detect_range(lake, D1, D5, settings, from_current_state=False, now=NOW)
    return lake


def judge(lake: Lake, day: date, settings):
    """The detect half of a nightly run (its day is already loaded): from the current state on the last day."""
    return detect_range(lake, day, day, settings, from_current_state=day == D5, now=NOW)


@pytest.fixture
def through_d3(spark, settings, loaded, tmp_path_factory) -> Lake:
    """A lake with every day loaded and D1..D3 judged, copied for each test that changes it."""
    folder = tmp_path_factory.getbasetemp() / "standing-d3"
    if not folder.exists():
        shutil.copytree(loaded, folder / "lake")
        detect_range(Lake(spark, folder / "lake", settings), D1, D3, settings, from_current_state=False, now=NOW)
    copy = tmp_path_factory.mktemp("standing-copy") / "lake"
    shutil.copytree(folder / "lake", copy)
    return Lake(spark, copy, settings)


def findings_of(lake: Lake, detector: str) -> dict[str, list]:
    rows = lake.read("findings").where(F.col("detector") == detector).orderBy("run_date").collect()
    found: dict[str, list] = {}
    for row in rows:
        found.setdefault(row["account_id"], []).append(row)
    return found


def current_tiers(lake: Lake) -> dict[str, tuple[str, str]]:
    return {
        row["account_id"]: (row["tier"], row["rule"])
        for row in lake.read("account_tiers").where("is_current").collect()
    }


def active_entries(lake: Lake) -> dict[tuple[str, str], dict]:
    rows = lake.read("blacklist").where("is_current AND status = 'active'").collect()
    return {(row["entity_type"], row["entity_id"]): row.asDict() for row in rows}


def finding_id(lake: Lake, detector: str, account_id: str, day: date) -> str:
    [row] = (
        lake.read("findings")
        .where((F.col("detector") == detector) & (F.col("account_id") == account_id) & (F.col("run_date") == day))
        .collect()
    )
    return row["finding_id"]


def test_a_subject_with_a_quota_overrun_and_a_registration_burst_is_blacklisted_citing_them(backfilled):
    entries = active_entries(backfilled)
    assert set(entries) == {("subject", "s_b")}
    entry = entries[("subject", "s_b")]
    assert entry["listed_on"] == D1
    assert entry["rules"] == ["quota_overrun_with_batch_registration"]
    cited = backfilled.read("findings").where(F.col("finding_id").isin(*entry["finding_ids"])).collect()
    assert len(cited) == len(entry["finding_ids"])
    assert {row["detector"] for row in cited} == {"quota_overrun", "batch_registration"}
    assert {row["account_id"] for row in cited if row["detector"] == "batch_registration"} == {
        f"b{n}" for n in range(1, 9)
    }


def test_findings_carry_the_measure_the_rules_suggest(backfilled):
    quota = findings_of(backfilled, "quota_overrun")
    assert [row["recommended_action"] for row in quota["x3"]] == ["limit_functions", "limit_functions"]
    assert quota["x5"][0]["severity"] == "high" and quota["x5"][0]["recommended_action"] == "close_account"
    # The findings that put s_b on the list on D1 suggest blacklisting; b9's later overrun does not.
    assert {row["recommended_action"] for n in range(3, 9) for row in quota[f"b{n}"]} == {"blacklist"}
    assert quota["b9"][0]["run_date"] == D2 and quota["b9"][0]["recommended_action"] == "close_account"
    assert {rows[0]["recommended_action"] for rows in findings_of(backfilled, "batch_registration").values()} == {
        "blacklist"
    }


def test_a_blacklisted_subject_registering_again_is_flagged_on_the_registration_day(backfilled):
    found = findings_of(backfilled, "blacklisted_subject_registration")
    assert set(found) == {"b9"}
    [row] = found["b9"]
    assert (row["run_date"], row["severity"], row["recommended_action"]) == (D2, "high", "bar_re_registration")
    evidence = json.loads(row["evidence"])
    assert evidence["subject_id"] == "s_b"
    assert [entry["listed_on"] for entry in evidence["blacklist_entries"]] == ["2026-03-01"]


def test_names_like_a_closed_account_are_flagged_exact_or_near_and_others_are_not(backfilled):
    found = findings_of(backfilled, "closed_name_reregistration")
    assert set(found) == {"pa_dn2", "pa_dn3"}
    assert found["pa_dn2"][0]["severity"] == "high"
    assert found["pa_dn3"][0]["severity"] == "medium"
    matches = json.loads(found["pa_dn3"][0]["evidence"])["matches"]
    assert [(m["account_id"], m["why"], m["edits"]) for m in matches] == [("pa_closed", "closed", 1)]


def test_each_public_account_has_one_current_tier_by_the_default_policy(backfilled):
    tiers = current_tiers(backfilled)
    rows = backfilled.read("account_tiers").where("is_current").groupBy("account_id").count().collect()
    assert {row["count"] for row in rows} == {1}
    assert tiers["b1"] == ("D", "blacklisted") and tiers["b9"] == ("D", "blacklisted")
    assert tiers["x5"] == ("D", "high_severity_finding")
    assert tiers["x3"] == ("D", "medium_severity_findings")  # found on D1 and again on D5
    assert tiers["pa_dn3"] == ("C", "recent_finding")
    assert tiers["pa_keep"] == ("A", "trusted")
    assert (
        tiers["x1"] == ("B", "normal") and tiers["pa_closed"] == ("B", "normal") and tiers["pa_ep"] == ("B", "normal")
    )
    assert {row["policy_version"] for row in backfilled.read("account_tiers").collect()} == {"credit_tiers/1"}


def test_tier_history_keeps_each_change_with_its_reasons(backfilled):
    history = backfilled.read("account_tiers").where("account_id = 'x3'").orderBy("valid_from").collect()
    assert [(row["tier"], row["valid_from"], row["valid_to"], row["is_current"]) for row in history] == [
        ("C", D1, D5, False),
        ("D", D5, None, True),
    ]
    assert history[1]["reasons"] == sorted(
        [finding_id(backfilled, "quota_overrun", "x3", D1), finding_id(backfilled, "quota_overrun", "x3", D5)]
    )


def test_nightly_runs_give_the_same_tiers_and_blacklist_as_the_backfill(through_d3, platform, settings, backfilled):
    lake = through_d3
    for day in (D4, D5):
        judge(lake, day, settings)
    for name in ("findings", "account_tiers"):
        assert_df_equality(lake.read(name), backfilled.read(name), ignore_row_order=True, ignore_nullable=True)
    assert_df_equality(
        lake.read("blacklist").drop("changed_at"),
        backfilled.read("blacklist").drop("changed_at"),
        ignore_row_order=True,
        ignore_nullable=True,
    )


def test_a_dismissal_stops_counting_at_the_next_run_and_the_same_evidence_is_not_raised_again(
    through_d3, platform, settings
):
    lake = through_d3
    x5 = finding_id(lake, "quota_overrun", "x5", D1)
    x4 = finding_id(lake, "quota_overrun", "x4", D1)
    assert current_tiers(lake)["x5"] == ("D", "high_severity_finding")
    record_review(lake, x5, "dismissed", "li.wei", "subject holds a quota exemption", NOW)
    record_review(lake, x4, "confirmed", "li.wei", None, NOW)
    outcome = judge(lake, D4, settings)
    assert current_tiers(lake)["x5"] == ("B", "normal")
    assert current_tiers(lake)["x4"] == ("C", "recent_finding")
    history = lake.read("account_tiers").where("account_id = 'x5'").orderBy("valid_from").collect()
    assert [(row["tier"], row["valid_from"]) for row in history] == [("D", D1), ("B", D4)]
    # D5: the reopened accounts take s_x over its limit again with the same live accounts as on D1.
    outcome = judge(lake, D5, settings)
    assert outcome.standing.suppressed == 1
    quota = findings_of(lake, "quota_overrun")
    assert [row["run_date"] for row in quota["x5"]] == [D1]
    assert [row["run_date"] for row in quota["x4"]] == [D1, D5]
    assert lake.read("reviews").count() == 2


def test_a_confirmed_high_finding_lists_its_account_and_a_dismissed_cited_one_lifts_its_entry(
    through_d3, platform, settings
):
    lake = through_d3
    record_review(lake, finding_id(lake, "quota_overrun", "x5", D1), "confirmed", "li.wei", "verified", NOW)
    batch = finding_id(lake, "batch_registration", "b1", D1)
    record_review(lake, batch, "dismissed", "li.wei", "b1 registered alone", NOW)
    judge(lake, D4, settings)

    entry = active_entries(lake)[("account", "x5")]
    assert (entry["listed_on"], entry["rules"], entry["subject_id"]) == (D4, ["confirmed_high_severity"], "s_x")
    assert current_tiers(lake)["x5"] == ("D", "blacklisted")

    # s_b's listing cited b1's dismissed finding: the run lifts it, and the other findings list s_b again.
    rows = lake.read("blacklist").where("entity_id = 's_b'").orderBy("listed_on", "status").collect()
    assert [(row["listed_on"], row["status"], row["is_current"]) for row in rows] == [
        (D1, "active", False),
        (D1, "lifted", True),
        (D4, "active", True),
    ]
    assert "dismissed" in rows[1]["change_reason"] and batch in rows[1]["change_reason"]
    assert batch not in rows[2]["finding_ids"]


def test_lifting_an_entry_keeps_its_record_and_it_is_not_relisted_on_the_same_evidence(through_d3, platform, settings):
    lake = through_d3
    rows = blacklist.lift(lake, "s_b", "zhang.min", "appeal upheld", NOW)
    blacklist.write(lake, rows)
    assert ("subject", "s_b") not in active_entries(lake)
    judge(lake, D3, settings)
    history = lake.read("blacklist").where("entity_id = 's_b'").orderBy("status").collect()
    assert [(row["status"], row["is_current"]) for row in history] == [("active", False), ("lifted", True)]
    assert (history[1]["changed_by"], history[1]["change_reason"], history[1]["covers_through"]) == (
        "zhang.min",
        "appeal upheld",
        D3,
    )
    # b1 shares IP, device and phone block with its burst: its own finding is high severity.
    assert current_tiers(lake)["b1"] == ("D", "high_severity_finding")
    with pytest.raises(blacklist.BlacklistError, match="no active blacklist entry"):
        blacklist.lift(lake, "s_b", "zhang.min", "again", NOW)


def test_a_review_of_an_unknown_finding_or_with_a_bad_verdict_is_refused(through_d3):
    with pytest.raises(ReviewError, match="no finding with id"):
        record_review(through_d3, "nope", "dismissed", "li.wei", None, NOW)
    with pytest.raises(ReviewError, match="unknown verdict"):
        record_review(through_d3, finding_id(through_d3, "quota_overrun", "x5", D1), "maybe", "li.wei", None, NOW)


def test_a_phone_number_typed_into_a_review_note_is_stored_masked(through_d3):
    x5 = finding_id(through_d3, "quota_overrun", "x5", D1)
    record_review(through_d3, x5, "confirmed", "li.wei", "subject rang from +86 138-1111-0023 to confirm", NOW)
    [stored] = through_d3.read("reviews").where(F.col("finding_id") == x5).collect()
    assert stored["note"] == f"subject rang from {PHONE_MASK} to confirm"


def test_rerunning_a_past_day_leaves_the_standing_tables_identical_and_its_tipping_findings_marked(
    through_d3, settings
):
    # The listing day D1 runs again after D2 and D3 were judged, as after a run killed right after its blacklist
    # write: its entry is already there, and the later days' tier history must stay.
    lake = through_d3
    before = {name: lake.read(name).cache() for name in STANDING}
    for frame in before.values():
        frame.count()
    assert before["account_tiers"].where(F.col("valid_from") > D1).count() > 0
    actions = before["findings"].where(F.col("run_date") == D1).select("finding_id", "recommended_action").collect()
    cited = set(active_entries(lake)[("subject", "s_b")]["finding_ids"])
    assert {row["recommended_action"] for row in actions if row["finding_id"] in cited} == {"blacklist"}
    outcome = judge(lake, D1, settings)
    for name in STANDING:
        assert_df_equality(lake.read(name), before[name], ignore_row_order=True, ignore_nullable=True)
    assert outcome.standing.listed == [("subject", "s_b")]


def test_review_tiers_and_blacklist_commands_round_trip(through_d3):
    from typer.testing import CliRunner

    from accountwatch.flows.cli import app
    from accountwatch.flows.runtime import writer_lock

    lake = ["--lake", str(through_d3.root)]
    runner = CliRunner()
    x5 = finding_id(through_d3, "quota_overrun", "x5", D1)
    # While a run holds the lake's writer lock, a verdict or a lift waits for it, then fails naming it.
    impatient = through_d3.root.parent / "impatient.toml"
    impatient.write_text("[runs]\nlock_wait_seconds = 0\n")
    with writer_lock(str(through_d3.root), "the nightly run of 2026-03-04", 0):
        busy = runner.invoke(
            app, ["review", x5, "--verdict", "dismissed", "--reviewer", "li.wei", *lake, "--config", str(impatient)]
        )
        busy_lift = runner.invoke(
            app, ["blacklist", "lift", "s_b", "--by", "zhang.min", "--reason", "x", *lake, "--config", str(impatient)]
        )
    for refused in (busy, busy_lift):
        assert refused.exit_code != 0 and "the nightly run of 2026-03-04" in str(refused.exception)
    assert through_d3.read("reviews").count() == 0
    reviewed = runner.invoke(
        app, ["review", x5, "--verdict", "dismissed", "--reviewer", "li.wei", "--note", "exempt", *lake]
    )
    assert reviewed.exit_code == 0, reviewed.output
    [row] = through_d3.read("reviews").collect()
    assert (row["finding_id"], row["verdict"], row["reviewer"], row["note"]) == (x5, "dismissed", "li.wei", "exempt")

    history = runner.invoke(app, ["tiers", "--account", "x5", "--format", "json", *lake])
    assert history.exit_code == 0, history.output
    assert [(item["tier"], item["valid_from"]) for item in json.loads(history.stdout)] == [("D", "2026-03-01")]

    listed = runner.invoke(app, ["blacklist", "--active", "--format", "json", *lake])
    assert listed.exit_code == 0, listed.output
    assert [(item["entity_type"], item["entity_id"]) for item in json.loads(listed.stdout)] == [("subject", "s_b")]

    lifted = runner.invoke(
        app, ["blacklist", "lift", "s_b", "--by", "zhang.min", "--reason", "appeal upheld, rang 13811110007", *lake]
    )
    assert lifted.exit_code == 0, lifted.output
    after = runner.invoke(app, ["blacklist", "--format", "json", *lake])
    assert [(item["status"], item["is_current"], item["changed_by"]) for item in json.loads(after.stdout)] == [
        ("active", False, "accountwatch"),
        ("lifted", True, "zhang.min"),
    ]
    assert json.loads(after.stdout)[-1]["change_reason"] == "appeal upheld, rang <phone removed>"
    assert "13811110007" not in lifted.output + after.stdout
    assert json.loads(runner.invoke(app, ["blacklist", "--active", "--format", "json", *lake]).stdout) == []
    unknown = runner.invoke(app, ["tiers", "--account", "nobody", *lake])
    assert unknown.exit_code != 0 and "no tier history" in str(unknown.exception)
