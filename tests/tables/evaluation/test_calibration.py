"""Calibration deciles and the Brier score against a direct formula."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from aion.tables.evaluation.calibration import bucket_of, calibrate


def test_by_hand() -> None:
    outcomes = [(0.05, False), (0.15, True), (0.15, False), (0.95, True), (1.0, True)]
    c = calibrate(outcomes)
    # Brier: (0.05-0)^2 + (0.15-1)^2 + (0.15-0)^2 + (0.95-1)^2 + (1-1)^2
    #      = 0.0025 + 0.7225 + 0.0225 + 0.0025 + 0 = 0.75, / 5 = 0.15
    assert math.isclose(c.brier or 0, 0.15)
    assert c.count == 5
    b0, b1, b9 = c.buckets[0], c.buckets[1], c.buckets[9]
    assert (b0.count, b0.success_rate) == (1, 0.0)
    assert (b1.count, b1.success_rate) == (2, 0.5)
    assert b1.mean_confidence is not None and math.isclose(b1.mean_confidence, 0.15)
    assert (b9.count, b9.success_rate) == (2, 1.0)  # 1.0 belongs to the last decile
    assert all(b.count == 0 and b.success_rate is None for b in c.buckets[2:9])


def test_empty() -> None:
    c = calibrate([])
    assert c.brier is None and c.count == 0 and len(c.buckets) == 10


def test_constant_half_scores_a_quarter() -> None:
    c = calibrate([(0.5, True), (0.5, False), (0.5, True)])
    assert math.isclose(c.brier or 0, 0.25)
    assert c.buckets[5].count == 3


def test_bucket_edges() -> None:
    assert [bucket_of(x) for x in (0.0, 0.0999, 0.1, 0.5, 0.8999, 0.9, 1.0, -0.1, 1.5)] == [
        0, 0, 1, 5, 8, 9, 9, 0, 9]


@given(st.lists(st.tuples(st.floats(0, 1), st.booleans()), min_size=1, max_size=50))
def test_against_direct_formula(outcomes: list[tuple[float, bool]]) -> None:
    c = calibrate(outcomes)
    direct = sum((p - (1.0 if y else 0.0)) ** 2 for p, y in outcomes) / len(outcomes)
    assert c.brier is not None and math.isclose(c.brier, direct, abs_tol=1e-12)
    assert sum(b.count for b in c.buckets) == len(outcomes)
    for i, b in enumerate(c.buckets):
        inside = [(p, y) for p, y in outcomes if min(int(p * 10), 9) == i]
        assert b.count == len(inside)
        if inside:
            assert b.success_rate == sum(y for _, y in inside) / len(inside)
