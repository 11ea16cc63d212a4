from __future__ import annotations

from datetime import date

import pytest

from accountwatch.jobs.ingest.landing import CORRUPT, LandingError, list_day_files, read_landing
from accountwatch.schemas.landing import SUBSCRIPTIONS
from tests.landing_files import folder, write_jsonl

DAY = date(2026, 3, 10)


def follow(event_id: str) -> dict:
    return {
        "event_id": event_id,
        "account_id": "pa_1",
        "user_id": "u_1",
        "action": "follow",
        "event_ts": "2026-03-10T09:00:00+08:00",
    }


def test_dangling_symlink_in_a_day_folder_fails_naming_the_link(tmp_path):
    day_folder = folder(tmp_path, "subscriptions", DAY)
    (day_folder / "late.jsonl").symlink_to(tmp_path / "nowhere" / "late.jsonl")
    with pytest.raises(LandingError, match=r"late\.jsonl.*does not exist"):
        list_day_files(tmp_path, "subscriptions", DAY)


def test_symlink_to_a_file_is_read_like_the_file(tmp_path):
    target = write_jsonl(tmp_path / "elsewhere", "subscriptions", DAY, [follow("a")])
    (folder(tmp_path, "subscriptions", DAY) / "linked.jsonl").symlink_to(target)
    assert [found.path.name for found in list_day_files(tmp_path, "subscriptions", DAY)] == ["linked.jsonl"]


def test_jsonl_rows_carry_physical_line_numbers_across_blank_lines(spark, tmp_path):
    path = write_jsonl(tmp_path, "subscriptions", DAY, [follow("a"), "", "   ", follow("b"), "{broken", follow("c")])
    rows = read_landing(spark, SUBSCRIPTIONS, list_day_files(tmp_path, "subscriptions", DAY)).collect()
    assert {row["source_row"]: (row["event_id"], row[CORRUPT]) for row in rows} == {
        1: ("a", None),
        4: ("b", None),
        5: (None, "{broken"),
        6: ("c", None),
    }
    assert {row["source_file"] for row in rows} == {str(path)}


def test_jsonl_line_holding_an_array_or_a_scalar_is_one_malformed_record(spark, tmp_path):
    write_jsonl(tmp_path, "subscriptions", DAY, [follow("a"), '[{"event_id": "x"}, {"event_id": "y"}]', "42", '"b"'])
    rows = read_landing(spark, SUBSCRIPTIONS, list_day_files(tmp_path, "subscriptions", DAY)).collect()
    assert sorted((row["source_row"], row["event_id"], row[CORRUPT]) for row in rows) == [
        (1, "a", None),
        (2, None, '[{"event_id": "x"}, {"event_id": "y"}]'),
        (3, None, "42"),
        (4, None, '"b"'),
    ]
