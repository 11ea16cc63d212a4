"""generate_platform end to end: a landing folder for every day, reproducible, the requested volume."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from accountwatch.schemas.landing import ENGAGEMENT, SUBSCRIPTIONS
from accountwatch.synthetic import SyntheticPlatformError, generate_platform
from tests.synthetic.landed import SEED, START, TINY, file_hashes, platform_day


def test_tiny_platform_has_event_folders_for_every_day_and_accounts_on_day_one(tiny):
    days = [START + timedelta(days=offset) for offset in range(TINY.days)]
    for table in (SUBSCRIPTIONS, ENGAGEMENT):
        folders = sorted(path.name for path in (tiny.landing / table.name).iterdir())
        assert folders == [f"date={day.isoformat()}" for day in days]
        assert all(any((tiny.landing / table.name / folder).iterdir()) for folder in folders)
    account_folders = {path.name for path in (tiny.landing / "accounts").iterdir()}
    assert f"date={START.isoformat()}" in account_folders
    assert account_folders <= {f"date={day.isoformat()}" for day in days}
    assert tiny.truth.end == days[-1]


def test_progress_is_reported_for_every_day_written(tiny):
    assert tiny.progress == [(done, TINY.days) for done in range(1, TINY.days + 1)]


def test_same_seed_writes_byte_identical_files_and_another_seed_does_not(tiny, tmp_path):
    generate_platform(tmp_path / "again", seed=SEED, start=START, size=TINY)
    generate_platform(tmp_path / "other", seed=SEED + 1, start=START, size=TINY)
    assert file_hashes(tmp_path / "again") == file_hashes(tiny.landing)
    assert file_hashes(tmp_path / "other") != file_hashes(tiny.landing)


def test_events_land_on_their_platform_day_or_up_to_three_days_late(tiny):
    lateness: Counter = Counter()
    for table in ("subscriptions", "engagement"):
        # The organic platform's rows: the plants write theirs on time, in files of their own.
        for row in (row for row in tiny.rows[table] if not row["_file"].name.endswith("-cases.csv")):
            day = platform_day(row["event_ts"])
            # Planted out-of-window rows (ten days early, two days ahead) are left out.
            if day is not None and -1 <= (row["_folder"] - day).days <= 7:
                lateness[(row["_folder"] - day).days] += 1
    assert set(lateness) <= {0, 1, 2, 3}
    assert 0.001 < 1 - lateness[0] / sum(lateness.values()) < 0.02


def test_event_volume_is_close_to_the_requested_size(tiny):
    # The size is the organic platform's; the transfer, hoarding and engagement plants write their own files.
    rows = tiny.rows["subscriptions"] + tiny.rows["engagement"]
    organic = [row for row in rows if not row["_file"].name.endswith("-cases.csv")]
    assert 0.9 * TINY.events < len(organic) < 1.1 * TINY.events
    assert len(organic) < len(rows)


def test_generating_into_a_landing_folder_with_tables_is_refused(tiny):
    with pytest.raises(SyntheticPlatformError, match="not empty"):
        generate_platform(tiny.landing, seed=SEED, start=START, size=TINY)
