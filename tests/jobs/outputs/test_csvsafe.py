from __future__ import annotations

import csv
import io

import pytest

from accountwatch.jobs.outputs.csvsafe import original_value, safe_csv_row, spreadsheet_safe
from accountwatch.jobs.outputs.evidence import write_csv

PAYLOAD = "=cmd|' /C calc'!A0"


@pytest.mark.parametrize(
    "value",
    [
        PAYLOAD,
        "+1+cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(1+9)*cmd|' /C calc'!A0",
        "\t=1+1",
        "\r=1+1",
        "\n=1+1",
        "=",
        "-",
    ],
)
def test_a_cell_starting_with_a_formula_character_gets_one_leading_quote(value):
    assert spreadsheet_safe(value) == "'" + value


@pytest.mark.parametrize("value", [" =1+1", "   @SUM(A1)", "\u3000=1+1", "\xa0+1+1", " -3.5"])
def test_whitespace_before_a_formula_character_does_not_hide_it(value):
    assert spreadsheet_safe(value) == "'" + value


def test_a_cell_already_starting_with_a_quote_gets_another_so_the_quote_stays_reversible():
    assert spreadsheet_safe("'=1+1") == "''=1+1"
    assert spreadsheet_safe("'quoted name'") == "''quoted name'"


@pytest.mark.parametrize(
    "value", ["pa_00042", "张三的公众号", "a=b", "1-2", "user@example.org", "50%", "", "   ", '{"z": -3.5}']
)
def test_a_cell_not_starting_with_a_formula_character_is_written_as_it_is(value):
    assert spreadsheet_safe(value) == value


@pytest.mark.parametrize("value", ["-3.5", "+2", "-0", "-1.5e-3", "+.5", "-12.", "4.25"])
def test_a_plain_decimal_number_is_kept_as_a_number(value):
    assert spreadsheet_safe(value) == value


@pytest.mark.parametrize("value", ["-3.5x", "-inf", "-nan", "-1_000", "- 3", "-0x1f", "+1e", "-3.5 "])
def test_a_signed_cell_that_is_not_a_plain_number_gets_the_quote(value):
    assert spreadsheet_safe(value) == "'" + value


@pytest.mark.parametrize("value", [None, -3.5, 0, True, 7])
def test_values_that_are_not_strings_pass_through_unchanged(value):
    assert spreadsheet_safe(value) is value


def test_dropping_the_one_added_quote_gives_back_every_original_value():
    values = [PAYLOAD, "'=1+1", "''", "'", "-3.5", "-3.5x", " =1", "pa_1", "", "\t", "it's"]
    assert [original_value(cell) for cell in safe_csv_row(values)] == values


@pytest.mark.parametrize(
    ("value", "line"),
    [
        # OWASP's CSV Injection page: a separator or quote inside the value cannot open a new cell.
        ('=1+2";=1+2', '"\'=1+2"";=1+2"'),
        ("=1+2'\" ;,=1+2", '"\'=1+2\'"" ;,=1+2"'),
    ],
)
def test_csv_writer_keeps_rfc_4180_quoting_around_the_marked_cell(value, line):
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(safe_csv_row([value]))
    assert buffer.getvalue() == line + "\n"


def test_write_csv_marks_formula_cells_and_keeps_header_ids_numbers_and_empties(tmp_path):
    columns = ["account_id", "account_name", "score", "subject_id"]
    rows = [("pa_1", PAYLOAD, "-3.5", None), ("@pa_2", 'name, with "quotes"', "2.0", "s_1")]
    entry = write_csv(tmp_path / "accounts.csv", columns, rows)

    text = (tmp_path / "accounts.csv").read_text(encoding="utf-8")
    assert text == (
        "account_id,account_name,score,subject_id\n"
        "pa_1,'=cmd|' /C calc'!A0,-3.5,\n"
        '\'@pa_2,"name, with ""quotes""",2.0,s_1\n'
    )
    assert entry["rows"] == 2
    parsed = list(csv.reader(io.StringIO(text)))
    assert [[original_value(cell) for cell in row] for row in parsed[1:]] == [
        ["pa_1", PAYLOAD, "-3.5", ""],
        ["@pa_2", 'name, with "quotes"', "2.0", "s_1"],
    ]


def test_write_csv_gives_the_same_bytes_for_the_same_rows(tmp_path):
    rows = [("pa_1", PAYLOAD, "-3.5"), ("pa_2", "+86 block", " @x")]
    first = write_csv(tmp_path / "a" / "accounts.csv", ["account_id", "account_name", "score"], rows)
    second = write_csv(tmp_path / "b" / "accounts.csv", ["account_id", "account_name", "score"], rows)
    assert first == second
    assert (tmp_path / "a" / "accounts.csv").read_bytes() == (tmp_path / "b" / "accounts.csv").read_bytes()
