from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest

from accountwatch.jobs.core.config import NameMatchSettings
from accountwatch.jobs.detectors.barred import fresh_registrations, normalise_name, normalised_name
from accountwatch.jobs.detectors.blacklisted_subject_registration import subject_registrations
from accountwatch.jobs.detectors.closed_name_reregistration import barred_names, live_namesakes, name_reregistrations
from accountwatch.schemas.accounts import ACCOUNT_CHANGES
from accountwatch.schemas.standing import BLACKLIST

RUN_DAY = date(2026, 3, 10)
MAX_LATE_DAYS = 7
FRESH = "run_date date, account_id string, subject_id string, account_name string, registered_at timestamp"
PROTECTED = "run_date date, account_id string, account_name string, subject_id string, why string"
SNAPSHOTS = "run_date date, account_id string, account_name string, subject_id string, status string"
LIVE = (
    "run_date date, account_id string, account_name string, subject_id string, status string, registered_at timestamp"
)
LONG_AGO = datetime(2024, 5, 1, 9)


def at(day: date, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second)


def change(
    account_id: str,
    registered_at: datetime,
    ingest_date: date,
    account_type: str = "public",
    account_name: str | None = None,
    updated_at: datetime | None = None,
    source_row: int = 1,
) -> tuple:
    """An account_changes row (fields not set here are null)."""
    public = account_type == "public"
    values = {
        "account_id": account_id,
        "account_type": account_type,
        "subject_id": "s_" + account_id if public else None,
        "subject_type": "individual" if public else None,
        "account_name": account_name or account_id,
        "registered_at": registered_at,
        "status": "active",
        "updated_at": updated_at or registered_at,
        "ingest_date": ingest_date,
        "source_file": f"accounts_{ingest_date.isoformat()}.csv",
        "source_row": source_row,
    }
    return tuple(values.get(name) for name in ACCOUNT_CHANGES.fieldNames())


def entry(entry_id: str, entity_type: str, entity_id: str, listed_on: date, subject_id: str | None = None) -> tuple:
    """An active blacklist row (fields of the schema not set here are null)."""
    values = {
        "entry_id": entry_id,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "subject_id": entity_id if entity_type == "subject" else subject_id,
        "rules": ["confirmed_high_severity"],
        "reason": "a high-severity finding confirmed by an analyst",
        "finding_ids": ["f_" + entry_id],
        "listed_on": listed_on,
        "rule_version": "blacklist/1",
        "status": "active",
        "changed_by": "accountwatch",
        "changed_at": at(listed_on, 3),
        "change_reason": "listed by rule",
        "is_current": True,
    }
    return tuple(values.get(name) for name in BLACKLIST.fieldNames())


# --- normalise_name ----------------------------------------------------------------------------------------


NAME_CASES = [
    ("Ｄａｉｌｙ News 2", "dailynews"),
    ("dailynews", "dailynews"),
    ("DAILY\u3000NEWS\t", "dailynews"),
    ("Daily\u200bNe\u200dws\ufeff", "dailynews"),
    ("News２０２６", "news"),
    ("STRASSE", "strasse"),
    ("科技日报 2", "科技日报"),
    ("科技日报一", "科技日报一"),
    ("第一财经", "第一财经"),
    ("2026 ", ""),
    ("", ""),
    (None, ""),
]


@pytest.mark.parametrize(("name", "expected"), NAME_CASES)
def test_normalise_name_folds_width_and_case_and_drops_spaces_zero_widths_and_digits(name, expected):
    assert normalise_name(name) == expected


def test_the_spark_expression_normalises_names_as_the_python_function_does(spark):
    frame = spark.createDataFrame([(name,) for name, _ in NAME_CASES], "account_name string")
    rows = frame.select("account_name", normalised_name("account_name").alias("normalised")).collect()
    assert {row["account_name"]: row["normalised"] or "" for row in rows} == {
        name: expected for name, expected in NAME_CASES
    }


# --- fresh_registrations -----------------------------------------------------------------------------------


def test_fresh_registrations_are_public_accounts_first_delivered_in_the_run_with_a_recent_registration(spark):
    previous = RUN_DAY - timedelta(days=1)
    tomorrow = RUN_DAY + timedelta(days=1)
    window_start = RUN_DAY - timedelta(days=MAX_LATE_DAYS)
    changes = [
        change("pa_on_time", at(RUN_DAY, 9), RUN_DAY),
        change("pa_late_edge", at(window_start), RUN_DAY),
        change("pa_too_late", at(window_start) - timedelta(seconds=1), RUN_DAY),
        change("pa_end_of_day", at(RUN_DAY, 23, 59, 59), RUN_DAY),
        change("pa_registered_next_day", at(tomorrow), RUN_DAY),
        change("pa_old_first_delivered", datetime(2024, 6, 1, 9), tomorrow),
        change("pa_seen_before", at(previous - timedelta(days=3), 8), previous - timedelta(days=3)),
        change("pa_seen_before", at(previous - timedelta(days=3), 8), RUN_DAY, updated_at=at(RUN_DAY, 8)),
        change("pa_twice", at(RUN_DAY, 10), RUN_DAY, account_name="First Name", updated_at=at(RUN_DAY, 10)),
        change("pa_twice", at(RUN_DAY, 10), RUN_DAY, account_name="Renamed", updated_at=at(RUN_DAY, 11), source_row=2),
        change("pa_twice", at(RUN_DAY, 10), tomorrow, account_name="Later", updated_at=at(tomorrow, 9)),
        change("pa_next_day", at(tomorrow, 8), tomorrow),
        change("pa_before_start", at(previous, 8), previous),
        change("pa_after_end", at(tomorrow, 8), tomorrow + timedelta(days=1)),
        change("u_user", at(RUN_DAY, 9), RUN_DAY, account_type="user"),
    ]
    fresh = fresh_registrations(spark.createDataFrame(changes, ACCOUNT_CHANGES), RUN_DAY, tomorrow, MAX_LATE_DAYS)
    assert fresh.columns == ["run_date", "account_id", "subject_id", "account_name", "registered_at"]
    assert sorted(tuple(row) for row in fresh.collect()) == sorted(
        [
            (RUN_DAY, "pa_end_of_day", "s_pa_end_of_day", "pa_end_of_day", at(RUN_DAY, 23, 59, 59)),
            (tomorrow, "pa_next_day", "s_pa_next_day", "pa_next_day", at(tomorrow, 8)),
            (RUN_DAY, "pa_late_edge", "s_pa_late_edge", "pa_late_edge", at(window_start)),
            (RUN_DAY, "pa_on_time", "s_pa_on_time", "pa_on_time", at(RUN_DAY, 9)),
            (RUN_DAY, "pa_twice", "s_pa_twice", "Renamed", at(RUN_DAY, 10)),
        ]
    )


# --- subject_registrations ---------------------------------------------------------------------------------


def test_subject_registrations_flag_fresh_accounts_of_a_subject_listed_before_the_run_day(spark):
    fresh = spark.createDataFrame(
        [
            (RUN_DAY, "pa_bad", "s_bad", "Bad Again", at(RUN_DAY, 9)),
            (RUN_DAY, "pa_listed_today", "s_today", "Today", at(RUN_DAY, 9)),
            (RUN_DAY, "pa_account_entry_only", "s_mixed", "Mixed", at(RUN_DAY, 9)),
            (RUN_DAY, "pa_clean", "s_clean", "Clean", at(RUN_DAY, 9)),
        ],
        FRESH,
    )
    listed = spark.createDataFrame(
        [
            entry("e_bad_1", "subject", "s_bad", date(2026, 1, 5)),
            entry("e_bad_2", "subject", "s_bad", RUN_DAY - timedelta(days=1)),
            entry("e_today", "subject", "s_today", RUN_DAY),
            entry("e_account", "account", "pa_old_mixed", date(2026, 1, 5), subject_id="s_mixed"),
            entry("e_other", "subject", "s_other", date(2026, 1, 5)),
        ],
        BLACKLIST,
    )
    rows = fresh.transform(subject_registrations(listed)).collect()
    assert [row["account_id"] for row in rows] == ["pa_bad"]
    flagged = rows[0]
    assert (flagged["run_date"], flagged["subject_id"], flagged["severity"], flagged["score"]) == (
        RUN_DAY,
        "s_bad",
        "high",
        2.0,
    )
    evidence = json.loads(flagged["evidence"])
    assert evidence["subject_id"] == "s_bad"
    assert evidence["account_name"] == "Bad Again"
    assert [(item["entry_id"], item["listed_on"], item["finding_ids"]) for item in evidence["blacklist_entries"]] == [
        ("e_bad_1", "2026-01-05", ["f_e_bad_1"]),
        ("e_bad_2", "2026-03-09", ["f_e_bad_2"]),
    ]


def flagged(spark, fresh, protected, live_rows: list[tuple] | None = None, settings: NameMatchSettings | None = None):
    """name_reregistrations' rows by new account id, with `live_rows` as the day's account states."""
    snapshots = spark.createDataFrame(live_rows or [], LIVE)
    judge = name_reregistrations(protected, snapshots, settings or NameMatchSettings())
    return {row["account_id"]: row for row in fresh.transform(judge).collect()}


def live(account_id: str, name: str, subject_id: str, status: str = "active", registered_at: datetime = LONG_AGO):
    """A public account's state on the run day."""
    return (RUN_DAY, account_id, name, subject_id, status, registered_at)


# --- name_reregistrations ----------------------------------------------------------------------------------


def test_name_reregistrations_match_equal_names_high_and_one_edit_medium(spark):
    yesterday = RUN_DAY - timedelta(days=1)
    protected = spark.createDataFrame(
        [
            (RUN_DAY, "pa_old_daily", "Daily News", "s_1", "closed"),
            (RUN_DAY, "pa_old_daily_2", "Daily Newsy", "s_8", "blacklisted"),
            (RUN_DAY, "pa_old_tech", "Tech Review", "s_2", "blacklisted"),
            (RUN_DAY, "pa_short", "xyz", "s_3", "closed"),
            (RUN_DAY, "pa_abc", "abc", "s_4", "closed"),
            (yesterday, "pa_yesterday", "Morning Post", "s_5", "closed"),
            (RUN_DAY, "pa_self", "Self Name", "s_6", "closed"),
            (RUN_DAY, "pa_garden", "Garden Life", "s_7", "closed"),
            (RUN_DAY, "pa_digits", "123", "s_10", "closed"),
        ],
        PROTECTED,
    )
    fresh = spark.createDataFrame(
        [
            (RUN_DAY, "pa_copy", "s_9", "Ｄａｉｌｙ News 2", at(RUN_DAY, 9)),
            (RUN_DAY, "pa_near", "s_2", "Tech Reviews", at(RUN_DAY, 9)),
            (RUN_DAY, "pa_short_copy", "s_11", "XYZ", at(RUN_DAY, 9)),
            (RUN_DAY, "pa_short_near", "s_12", "abd", at(RUN_DAY, 9)),
            (RUN_DAY, "pa_two_edits", "s_13", "Garden Lifts", at(RUN_DAY, 9)),
            (RUN_DAY, "pa_near_other", "s_16", "Garden Lif", at(RUN_DAY, 9)),
            (RUN_DAY, "pa_other_day", "s_14", "Morning Post", at(RUN_DAY, 9)),
            (RUN_DAY, "pa_self", "s_6", "Self Name", at(RUN_DAY, 9)),
            (RUN_DAY, "pa_only_digits", "s_15", "456", at(RUN_DAY, 9)),
        ],
        FRESH,
    )
    rows = flagged(spark, fresh, protected)
    assert sorted(rows) == ["pa_copy", "pa_near", "pa_near_other", "pa_short_copy"]

    def matches(account_id: str) -> list[tuple]:
        evidence = json.loads(rows[account_id]["evidence"])
        return [(m["account_id"], m["why"], m["edits"], m["same_subject"]) for m in evidence["matches"]]

    assert rows["pa_copy"]["severity"] == "high"
    assert rows["pa_copy"]["score"] == 1.0
    assert json.loads(rows["pa_copy"]["evidence"])["normalised"] == "dailynews"
    assert matches("pa_copy") == [("pa_old_daily", "closed", 0, False), ("pa_old_daily_2", "blacklisted", 1, False)]
    # The barred account's own subject: high even one edit away.
    assert rows["pa_near"]["severity"] == "high"
    assert rows["pa_near"]["score"] == pytest.approx(1 - 1 / 11)
    assert matches("pa_near") == [("pa_old_tech", "blacklisted", 1, True)]
    assert rows["pa_near_other"]["severity"] == "medium"
    assert rows["pa_near_other"]["score"] == pytest.approx(1 - 1 / 10)
    assert matches("pa_near_other") == [("pa_garden", "closed", 1, False)]
    assert rows["pa_short_copy"]["severity"] == "high"
    assert matches("pa_short_copy") == [("pa_short", "closed", 0, False)]


def test_a_short_letters_only_name_taken_with_a_counter_is_a_common_handle_and_not_flagged(spark):
    protected = spark.createDataFrame(
        [
            (RUN_DAY, "pa_qiwei", "qiwei", "s_1", "closed"),
            (RUN_DAY, "pa_hongjie", "Hongjie", "s_2", "closed"),
            (RUN_DAY, "pa_yuwei", "yuwei", "s_3", "blacklisted"),
            (RUN_DAY, "pa_eight", "abcdefgh", "s_4", "closed"),
            (RUN_DAY, "pa_counter_barred", "liwen_77", "s_5", "closed"),
        ],
        PROTECTED,
    )
    fresh = spark.createDataFrame(
        [
            (RUN_DAY, "pa_qiwei405", "s_11", "qiwei405", at(RUN_DAY, 9)),
            (RUN_DAY, "pa_hongjie735", "s_12", "ＨＯＮＧＪＩＥ７３５", at(RUN_DAY, 9)),
            (RUN_DAY, "pa_yumei622", "s_13", "yumei622", at(RUN_DAY, 9)),
            (RUN_DAY, "pa_yufei931", "s_14", "Yufei 931", at(RUN_DAY, 9)),
            (RUN_DAY, "pa_eight_1", "s_15", "abcdefgh1", at(RUN_DAY, 9)),
            (RUN_DAY, "pa_liwen", "s_16", "liwen", at(RUN_DAY, 9)),
        ],
        FRESH,
    )
    assert flagged(spark, fresh, protected) == {}


def test_a_two_character_name_is_a_common_personal_name_and_only_its_own_subject_is_flagged(spark):
    protected = spark.createDataFrame(
        [(RUN_DAY, "pa_zhangwei", "张伟", "s_1", "closed"), (RUN_DAY, "pa_three", "张伟华", "s_2", "closed")],
        PROTECTED,
    )
    fresh = spark.createDataFrame(
        [
            (RUN_DAY, "pa_stranger", "s_11", "张伟 1", at(RUN_DAY, 9)),
            (RUN_DAY, "pa_returning", "s_1", "张伟 2", at(RUN_DAY, 9)),
            (RUN_DAY, "pa_three_copy", "s_12", "张伟华 3", at(RUN_DAY, 9)),
        ],
        FRESH,
    )
    rows = flagged(spark, fresh, protected)
    assert sorted(rows) == ["pa_returning", "pa_three_copy"]
    evidence = json.loads(rows["pa_returning"]["evidence"])
    assert evidence["name_distinctive"] is False
    assert "2 characters after normalising (fewer than 3)" in evidence["reason"]


def test_a_long_or_non_letter_name_or_one_taken_without_a_counter_is_distinctive_and_flagged(spark):
    protected = spark.createDataFrame(
        [
            (RUN_DAY, "pa_nine", "abcdefghi", "s_1", "closed"),
            (RUN_DAY, "pa_daily", "Daily News", "s_2", "closed"),
            (RUN_DAY, "pa_qiwei", "qiwei", "s_3", "closed"),
            (RUN_DAY, "pa_brand", "澜沧江文旅集团", "s_4", "closed"),
            (RUN_DAY, "pa_dotted", "wei.ming", "s_5", "closed"),
        ],
        PROTECTED,
    )
    fresh = spark.createDataFrame(
        [
            (RUN_DAY, "pa_nine_1", "s_11", "abcdefghi1", at(RUN_DAY, 9)),
            (RUN_DAY, "pa_daily_2", "s_12", "dailynews2", at(RUN_DAY, 9)),
            (RUN_DAY, "pa_plain_qiwei", "s_13", "Qi Wei", at(RUN_DAY, 9)),
            (RUN_DAY, "pa_spaced", "s_14", "澜沧江 文旅集团", at(RUN_DAY, 9)),
            (RUN_DAY, "pa_variant", "s_15", "澜沧江文旅集團", at(RUN_DAY, 9)),
            (RUN_DAY, "pa_dotted_8", "s_16", "wei.ming8", at(RUN_DAY, 9)),
        ],
        FRESH,
    )
    rows = flagged(spark, fresh, protected)
    assert {account_id: row["severity"] for account_id, row in rows.items()} == {
        "pa_nine_1": "high",
        "pa_daily_2": "high",
        "pa_plain_qiwei": "high",
        "pa_spaced": "high",
        "pa_variant": "medium",
        "pa_dotted_8": "high",
    }
    evidence = json.loads(rows["pa_nine_1"]["evidence"])
    assert (evidence["name_distinctive"], evidence["live_namesakes"]) == (True, 0)
    assert evidence["reason"].startswith("distinctive name: 9 characters")
    assert evidence["common_matches"] == []


def test_near_names_differing_in_a_whole_short_word_are_two_names_but_a_typo_in_a_long_word_is_one(spark):
    protected = spark.createDataFrame(
        [
            (RUN_DAY, "pa_hangzhou", "Daily Digest, 杭州", "s_1", "closed"),
            (RUN_DAY, "pa_herald", "Riverside Civic Herald", "s_2", "closed"),
        ],
        PROTECTED,
    )
    fresh = spark.createDataFrame(
        [
            (RUN_DAY, "pa_suzhou", "s_11", "Daily Digest, 苏州", at(RUN_DAY, 9)),
            (RUN_DAY, "pa_heralt", "s_12", "Riverside Civic Heralt", at(RUN_DAY, 9)),
            (RUN_DAY, "pa_hangzhou_back", "s_1", "Daily Digest, 苏州 2", at(RUN_DAY, 9)),
        ],
        FRESH,
    )
    rows = flagged(spark, fresh, protected)
    assert {account_id: row["severity"] for account_id, row in rows.items()} == {
        "pa_heralt": "medium",
        "pa_hangzhou_back": "high",
    }
    # The barred account's own subject under the other city's name: flagged, saying why the name alone is not.
    evidence = json.loads(rows["pa_hangzhou_back"]["evidence"])
    assert evidence["name_distinctive"] is False
    assert "differ in a whole word of fewer than 3 characters (苏州 for 杭州)" in evidence["reason"]


def test_a_name_other_subjects_live_accounts_already_bear_is_common_and_not_flagged(spark):
    protected = spark.createDataFrame(
        [(RUN_DAY, "pa_chen", "Chen Jing", "s_c", "closed"), (RUN_DAY, "pa_zw", "张伟华", "s_z", "closed")],
        PROTECTED,
    )
    fresh = spark.createDataFrame(
        [
            (RUN_DAY, "pa_new_chen", "s_n", "Chen Jing", at(RUN_DAY, 9)),
            (RUN_DAY, "pa_new_zw", "s_m", "张伟华", at(RUN_DAY, 9)),
        ],
        FRESH,
    )
    crowd = [
        live("pa_a", "chenjing", "s_a"),
        live("pa_b", "Chen Jin", "s_b", status="suspended"),
        live("pa_z1", "张伟华", "s_z1"),
        live("pa_z2", "张伟华 2", "s_z2"),
    ]
    assert flagged(spark, fresh, protected, crowd) == {}
    # One namesake fewer than `common_namesakes`: both names are distinctive again.
    rows = flagged(spark, fresh, protected, crowd[1:3])
    assert sorted(rows) == ["pa_new_chen", "pa_new_zw"]
    evidence = json.loads(rows["pa_new_chen"]["evidence"])
    assert (evidence["name_distinctive"], evidence["live_namesakes"]) == (True, 1)
    assert "fewer than 2" in evidence["reason"]


def test_live_namesakes_count_other_subjects_live_accounts_registered_before_the_day_once_each(spark):
    pairs = spark.createDataFrame(
        [(RUN_DAY, "pa_new", "s_new", "pa_closed", "s_closed", "chenjing")],
        "run_date date, account_id string, subject_id string, match_id string, match_subject string, "
        "match_normalised string",
    )
    snapshots = spark.createDataFrame(
        [
            live("pa_equal", "Chen Jing", "s_1"),
            live("pa_near", "chen jin", "s_2"),
            live("pa_same_subject_twice", "ＣＨＥＮＪＩＮＧ 3", "s_1"),
            live("pa_suspended", "Chen Jingg", "s_3", status="suspended"),
            live("pa_closed_too", "Chen Jing", "s_4", status="closed"),
            live("pa_of_barred_subject", "Chen Jing", "s_closed"),
            live("pa_of_new_subject", "Chen Jing", "s_new"),
            live("pa_new", "Chen Jing", "s_new", registered_at=at(RUN_DAY, 9)),
            live("pa_registered_today", "Chen Jing", "s_5", registered_at=at(RUN_DAY)),
            live("pa_two_edits", "Chen Ji", "s_6"),
            live("pa_other", "Wang Fang", "s_7"),
            (RUN_DAY - timedelta(days=1), "pa_yesterday_only", "Chen Jing", "s_8", "active", LONG_AGO),
        ],
        LIVE,
    )
    rows = live_namesakes(pairs, snapshots, NameMatchSettings()).collect()
    assert [tuple(row) for row in rows] == [(RUN_DAY, "pa_new", "pa_closed", 3)]


def test_the_barred_accounts_own_subject_coming_back_is_flagged_even_under_a_common_name(spark):
    protected = spark.createDataFrame(
        [(RUN_DAY, "pa_haoran", "haoran", "s_h", "closed"), (RUN_DAY, "pa_zw", "张伟", "s_z", "closed")],
        PROTECTED,
    )
    fresh = spark.createDataFrame(
        [
            (RUN_DAY, "pa_haoran88", "s_h", "haoran88", at(RUN_DAY, 9)),
            (RUN_DAY, "pa_zw_back", "s_z", "张伟", at(RUN_DAY, 9)),
            (RUN_DAY, "pa_stranger", "s_x", "haoran 12", at(RUN_DAY, 9)),
        ],
        FRESH,
    )
    crowd = [live("pa_z1", "张伟", "s_z1"), live("pa_z2", "张伟", "s_z2")]
    rows = flagged(spark, fresh, protected, crowd)
    assert sorted(rows) == ["pa_haoran88", "pa_zw_back"]
    assert {row["severity"] for row in rows.values()} == {"high"}
    evidence = json.loads(rows["pa_haoran88"]["evidence"])
    assert evidence["name_distinctive"] is False
    assert evidence["reason"].startswith("the barred account's own subject (the name alone is common: a letters-only")
    [match] = evidence["matches"]
    assert (match["account_id"], match["same_subject"], match["name_distinctive"]) == ("pa_haoran", True, False)
    evidence = json.loads(rows["pa_zw_back"]["evidence"])
    assert (evidence["name_distinctive"], evidence["live_namesakes"]) == (False, 2)
    assert "2 other subjects' live accounts already bear it" in evidence["reason"]


def test_a_common_match_is_kept_apart_from_the_distinctive_match_that_flags_the_account(spark):
    protected = spark.createDataFrame(
        [
            (RUN_DAY, "pa_brand", "Lakeview Tea", "s_1", "closed"),
            (RUN_DAY, "pa_common", "Lakeview Tee", "s_2", "closed"),
        ],
        PROTECTED,
    )
    fresh = spark.createDataFrame([(RUN_DAY, "pa_new", "s_n", "Lakeview Tea 1", at(RUN_DAY, 9))], FRESH)
    # Two subjects already bear names one edit from "lakeviewtee" but two from "lakeviewtea".
    crowd = [live("pa_x", "Lakeview Teex", "s_x"), live("pa_y", "Lakeview Tees", "s_y")]
    [row] = flagged(spark, fresh, protected, crowd).values()
    evidence = json.loads(row["evidence"])
    assert [(m["account_id"], m["name_distinctive"]) for m in evidence["matches"]] == [("pa_brand", True)]
    assert [(m["account_id"], m["live_namesakes"]) for m in evidence["common_matches"]] == [("pa_common", 2)]
    assert evidence["common_matches"][0]["reason"].startswith("common name, not counted: 2 other subjects")
    assert (row["severity"], row["score"]) == ("high", 1.0)


# --- barred_names ------------------------------------------------------------------------------------------


def test_barred_names_are_closed_accounts_and_accounts_listed_before_the_day(spark):
    previous = RUN_DAY - timedelta(days=1)
    snapshots = spark.createDataFrame(
        [
            (run_date, account_id, account_id.upper(), "s_" + account_id, status)
            for run_date in (previous, RUN_DAY)
            for account_id, status in (
                ("pa_closed", "closed"),
                ("pa_active", "active"),
                ("pa_listed", "active"),
                ("pa_subject_listed", "active"),
                ("pa_closed_listed", "closed"),
            )
        ],
        SNAPSHOTS,
    )
    listed = spark.createDataFrame(
        [
            entry("e_listed", "account", "pa_listed", previous, subject_id="s_pa_listed"),
            entry("e_subject", "subject", "s_pa_subject_listed", date(2026, 1, 5)),
            entry("e_closed", "account", "pa_closed_listed", date(2026, 1, 5), subject_id="s_pa_closed_listed"),
        ],
        BLACKLIST,
    )
    barred = barred_names(snapshots, listed)
    assert barred.columns == ["run_date", "account_id", "account_name", "subject_id", "why"]
    assert sorted(tuple(row) for row in barred.collect()) == sorted(
        [
            (previous, "pa_closed", "PA_CLOSED", "s_pa_closed", "closed"),
            (RUN_DAY, "pa_closed", "PA_CLOSED", "s_pa_closed", "closed"),
            (previous, "pa_closed_listed", "PA_CLOSED_LISTED", "s_pa_closed_listed", "closed"),
            (RUN_DAY, "pa_closed_listed", "PA_CLOSED_LISTED", "s_pa_closed_listed", "closed"),
            (previous, "pa_closed_listed", "PA_CLOSED_LISTED", "s_pa_closed_listed", "blacklisted"),
            (RUN_DAY, "pa_closed_listed", "PA_CLOSED_LISTED", "s_pa_closed_listed", "blacklisted"),
            (RUN_DAY, "pa_listed", "PA_LISTED", "s_pa_listed", "blacklisted"),
        ]
    )
