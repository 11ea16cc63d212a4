"""The planted truth: written beside the landing tables, and read back the same (older files too)."""

from __future__ import annotations

import json

from accountwatch.synthetic import PlantedTruth


def test_truth_is_written_beside_the_tables_and_round_trips_through_json(tiny):
    written = PlantedTruth.from_json((tiny.landing / "truth.json").read_text(encoding="utf-8"))
    assert written == tiny.truth
    assert PlantedTruth.from_json(tiny.truth.to_json()) == tiny.truth


def test_new_truth_fields_round_trip_and_default_to_empty_for_older_truth(tiny):
    truth = PlantedTruth.from_json(tiny.truth.to_json())
    assert truth.purchases == tiny.truth.purchases and truth.batch_clusters == tiny.truth.batch_clusters
    assert truth.fake_follower_spike and truth.viral_days and truth.batch_registration
    older = json.loads(tiny.truth.to_json())
    new_fields = ("fake_follower_spike", "purchases", "fake_follower_drip", "viral_days", "batch_registration")
    for name in (*new_fields, "batch_clusters", "batch_negatives", "common_name_collisions"):
        del older[name]
    loaded = PlantedTruth.from_json(json.dumps(older))
    assert (loaded.batch_registration, loaded.purchases, loaded.fake_follower_drip) == (frozenset(), [], {})
    assert loaded.common_name_collisions == frozenset() and truth.common_name_collisions
    assert loaded.dormant_account == tiny.truth.dormant_account
