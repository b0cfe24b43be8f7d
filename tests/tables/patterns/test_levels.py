"""Liquidity pools (equal highs/lows of confirmed swings) and stop-hunt zones, by hand."""

from __future__ import annotations

from aion.tables.patterns.levels import Level, pools, stop_hunt_zone
from aion.tables.patterns.swings import HIGH, LOW

SWINGS = [
    [1, HIGH, 100.0], [2, LOW, 95.0], [3, HIGH, 100.4], [4, LOW, 95.2], [5, HIGH, 103.0],
    [6, LOW, 97.0], [7, HIGH, 100.2],
]


def test_equal_highs_within_the_tolerance_make_one_level() -> None:
    assert pools(SWINGS, HIGH, 0.5) == [Level(HIGH, 100.4, 3, (1, 7, 3))]
    # Tighter than the cluster's span (0.4): the staircase 100, 100.2, 100.4 is no level.
    assert pools(SWINGS, HIGH, 0.3) == []
    assert pools(SWINGS, HIGH, 0.5, min_touches=4) == []


def test_equal_lows_price_at_the_lowest() -> None:
    assert pools(SWINGS, LOW, 0.25) == [Level(LOW, 95.0, 2, (2, 4))]
    assert pools(SWINGS, LOW, 0.1) == []


def test_stop_hunt_zone_lies_beyond_the_level_by_depth_atr() -> None:
    assert stop_hunt_zone(Level(HIGH, 100.4, 3, (1,)), 2.0, 0.5) == (100.4, 101.4)
    assert stop_hunt_zone(Level(LOW, 95.0, 2, (2,)), 2.0, 1.5) == (92.0, 95.0)
