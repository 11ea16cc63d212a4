"""Calendar helpers shared by the generator."""

from __future__ import annotations

from datetime import date

from accountwatch.synthetic import months_before


def test_months_before_clamps_to_the_end_of_a_shorter_month():
    assert months_before(date(2026, 8, 31), 6) == date(2026, 2, 28)
    assert months_before(date(2026, 3, 15), 6) == date(2025, 9, 15)
