"""Landing files in the contract's formats: mixed file types, timestamp forms, counts, names and phones."""

from __future__ import annotations

from tests.synthetic.landed import instant


def test_files_mix_csv_jsonl_and_parquet_with_some_native_timestamps(tiny):
    assert set(tiny.formats) == {".csv", ".jsonl", ".parquet"}
    assert tiny.native_timestamp_files > 0


def test_timestamps_mix_offset_utc_and_platform_time_forms(tiny):
    stamps = [row["event_ts"] for row in tiny.rows["engagement"] if row["event_ts"] and "T" in row["event_ts"]]
    assert any(stamp.endswith("+08:00") for stamp in stamps)
    assert any(stamp.endswith("Z") for stamp in stamps)
    naive = [row["event_ts"] for row in tiny.rows["subscriptions"] if row["event_ts"] and " " in row["event_ts"]]
    assert naive and all(instant(stamp) is not None for stamp in naive[:100])


def test_jsonl_count_is_sometimes_a_number_and_sometimes_text(tiny):
    counts = [row["_raw"].get("count") for row in tiny.rows["engagement"] if row["_file"].suffix == ".jsonl"]
    assert any(isinstance(count, int) for count in counts)
    assert any(isinstance(count, str) for count in counts)
    assert any(count is None for count in counts)


def test_csv_account_names_keep_commas_quotes_and_chinese(tiny):
    names = [row["account_name"] or "" for row in tiny.rows["accounts"] if row["_file"].suffix == ".csv"]
    assert any("," in name for name in names)
    assert any('"' in name for name in names)
    assert any("\u4e00" <= character <= "\u9fff" for name in names for character in name)


def test_phones_come_with_and_without_the_plus_86_prefix(tiny):
    phones = [row["phone"] for row in tiny.rows["accounts"] if row["phone"]]
    assert any(phone.startswith("+86") and len(phone) == 14 for phone in phones)
    assert any(len(phone) == 11 and phone.isdigit() for phone in phones)
