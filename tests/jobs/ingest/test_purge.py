from __future__ import annotations

import hashlib
import shutil
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from chispa import assert_df_equality

from accountwatch.jobs.core.lake import TABLES, Lake
from accountwatch.jobs.ingest.purge import PURGE_FOLDER, _finish_interrupted, purge_quarantine_pii

D1 = date(2026, 3, 10)
D2 = date(2026, 3, 11)
PSEUDONYM = "ab13800000000cd" + "0" * 49
# Each number leads its raw text, so it also sits in the statistics Delta's log keeps of `raw`'s first characters.
PHONES = ("138 1111 0007", "139-2222-0008", "137.3333.0009")


def quarantine_row(day: date, row: int, raw: str) -> tuple:
    return ("subscriptions", day, "/landing/part.csv", row, "malformed_record", None, ["malformed_record"], raw)


CLEAR_D1 = quarantine_row(D1, 1, '{"record":"137.3333.0009,pa_7,u_1,follow,2026-03-10 12:00:00"}')
MASKED_D1 = quarantine_row(D1, 1, '{"record":"<phone removed>,pa_7,u_1,follow,2026-03-10 12:00:00"}')
CLEAR_D2 = [
    quarantine_row(D2, 1, '{"record":"138 1111 0007,pa_9,u_1,follow,2026-03-11 08:00:00"}'),
    quarantine_row(D2, 2, f'{{"account_id":"139-2222-0008","phone_pseudonym":"{PSEUDONYM}"}}'),
    quarantine_row(D2, 3, '{"event_id":"e1","event_ts":"2026-03-11 08:00:00","count":"3","ip":"192.168.100.200"}'),
]
MASKED_D2 = [
    quarantine_row(D2, 1, '{"record":"<phone removed>,pa_9,u_1,follow,2026-03-11 08:00:00"}'),
    quarantine_row(D2, 2, f'{{"account_id":"<phone removed>","phone_pseudonym":"{PSEUDONYM}"}}'),
    CLEAR_D2[2],
]


def day_predicate(day: date) -> str:
    return f"ingest_date = DATE'{day.isoformat()}'"


@pytest.fixture(scope="module")
def leaky_lake_template(spark, settings, tmp_path_factory) -> Path:
    """A lake whose quarantine leaked numbers: D1's rerun masked them (an old copy stays), D2's rows hold them."""
    lake = Lake(spark, tmp_path_factory.mktemp("leaky") / "lake", settings)
    quarantine = TABLES["quarantine"].schema
    lake.replace("quarantine", spark.createDataFrame([CLEAR_D1], quarantine), day_predicate(D1))
    lake.replace("quarantine", spark.createDataFrame(CLEAR_D2, quarantine), day_predicate(D2))
    lake.replace("quarantine", spark.createDataFrame([MASKED_D1], quarantine), day_predicate(D1))
    loaded = [("subscriptions", D1, 1, 10, 9, 1), ("subscriptions", D2, 1, 10, 7, 3)]
    lake.replace("loaded_days", spark.createDataFrame(loaded, TABLES["loaded_days"].schema), "true")
    return lake.root


@pytest.fixture
def leaky_lake(leaky_lake_template, spark, settings, tmp_path) -> Lake:
    shutil.copytree(leaky_lake_template, tmp_path / "lake")
    return Lake(spark, tmp_path / "lake", settings)


def files_digest(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def phones_found(folder: Path) -> dict[str, set[str]]:
    """Per number, the files under `folder` holding it: in their bytes (log, checksums) or decoded Parquet values."""
    found: dict[str, set[str]] = {phone: set() for phone in PHONES}
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        texts = [path.read_bytes()]
        if path.name.endswith(".parquet"):
            texts.append(repr(pq.ParquetFile(path).read().to_pylist()).encode())
        for phone in PHONES:
            digits = "".join(character for character in phone if character.isdigit())
            if any(form.encode() in text for form in (phone, digits) for text in texts):
                found[phone].add(path.relative_to(folder).as_posix())
    return found


def test_dry_run_counts_what_it_would_purge_and_changes_nothing(leaky_lake):
    before = files_digest(leaky_lake.root)
    report = purge_quarantine_pii(leaky_lake, dry_run=True)
    assert (report.rows, report.rows_rewritten, report.versions_removed) == (4, 2, 4)
    shown = [name for name in before if not Path(name).name.startswith(".")]
    data_files = [name for name in shown if name.startswith("quarantine/ingest_date=") and name.endswith(".parquet")]
    assert report.data_files_removed == len(data_files) >= 3
    assert report.log_files_removed == sum(1 for name in shown if name.startswith("quarantine/_delta_log/"))
    assert files_digest(leaky_lake.root) == before


def test_purge_masks_the_rows_and_leaves_no_number_in_any_file_or_log_of_the_quarantine(leaky_lake, spark):
    leaked = phones_found(leaky_lake.root / "quarantine")
    # The old copy of D1's rows, and the log's statistics, hold the numbers: what a rewrite plus VACUUM would miss.
    assert all(leaked.values()) and any("_delta_log/" in name for name in leaked["138 1111 0007"])
    others = files_digest(leaky_lake.root / "loaded_days")

    report = purge_quarantine_pii(leaky_lake)

    assert (report.rows, report.rows_rewritten, report.dry_run) == (4, 2, False)
    assert phones_found(leaky_lake.root / "quarantine") == {phone: set() for phone in PHONES}
    expected = spark.createDataFrame([MASKED_D1, *MASKED_D2], TABLES["quarantine"].schema)
    assert_df_equality(leaky_lake.read("quarantine"), expected, ignore_row_order=True, ignore_nullable=True)
    assert files_digest(leaky_lake.root / "loaded_days") == others
    assert not (leaky_lake.root / PURGE_FOLDER).exists()


def test_an_interrupted_purge_is_finished_without_losing_the_table(tmp_path):
    table = tmp_path / "lake" / "quarantine"
    work = tmp_path / "lake" / PURGE_FOLDER
    (work / "ready" / "quarantine").mkdir(parents=True)
    (work / "ready" / "quarantine" / "masked.parquet").write_text("masked")
    (work / "old" / "quarantine").mkdir(parents=True)
    (work / "old" / "quarantine" / "clear.parquet").write_text("clear")
    _finish_interrupted(table, work, lambda message: None)
    assert [path.name for path in table.iterdir()] == ["masked.parquet"] and not work.exists()


def test_a_purge_interrupted_before_the_swap_keeps_the_table_and_drops_the_rewrite(tmp_path):
    table = tmp_path / "lake" / "quarantine"
    table.mkdir(parents=True)
    (table / "current.parquet").write_text("current")
    work = tmp_path / "lake" / PURGE_FOLDER
    (work / "ready" / "quarantine").mkdir(parents=True)
    _finish_interrupted(table, work, lambda message: None)
    assert [path.name for path in table.iterdir()] == ["current.parquet"] and not work.exists()
