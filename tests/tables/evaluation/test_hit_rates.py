"""Hit rates and bootstrap intervals: by hand, reproducibility and a coverage sanity check."""

from __future__ import annotations

import numpy as np
import pytest

from aion.tables.evaluation.hit_rates import bootstrap_ci, hit_rate


def test_hit_rate_by_hand() -> None:
    assert hit_rate([True, False, True, True]) == 3 / 4
    assert hit_rate([]) is None


def test_degenerate_and_reproducible() -> None:
    assert bootstrap_ci([True] * 20) == (1.0, 1.0)
    assert bootstrap_ci([False] * 5) == (0.0, 0.0)
    assert bootstrap_ci([]) is None
    data = [True, False, True, True, False, True]
    assert bootstrap_ci(data, seed=3) == bootstrap_ci(data, seed=3)
    lo, hi = bootstrap_ci(data) or (0, 0)
    assert lo <= 4 / 6 <= hi


def test_interval_narrows_with_more_data() -> None:
    small = bootstrap_ci([True, False] * 10) or (0, 1)
    large = bootstrap_ci([True, False] * 1000) or (0, 1)
    assert large[1] - large[0] < small[1] - small[0]
    # Normal approximation for n = 2000, p = 0.5: half-width 1.96 * sqrt(.25 / 2000) = 0.0219
    assert abs((large[1] - large[0]) / 2 - 0.0219) < 0.004


def test_coverage_near_nominal() -> None:
    """Over 300 samples of 150 Bernoulli(0.6) draws the 95 % interval holds 0.6 ~95 % of times."""
    rng = np.random.default_rng(42)
    covered = 0
    trials = 300
    for i in range(trials):
        data = (rng.random(150) < 0.6).tolist()
        lo, hi = bootstrap_ci(data, resamples=500, seed=i) or (1.0, 0.0)
        covered += lo <= 0.6 <= hi
    # Binomial(300, 0.95) has sd 3.8: 0.95 * 300 = 285; percentile intervals run a little
    # narrow at this n, so accept 270..297.
    assert 270 <= covered <= 297


def test_bad_parameters() -> None:
    with pytest.raises(ValueError):
        bootstrap_ci([True], resamples=0)
    with pytest.raises(ValueError):
        bootstrap_ci([True], level=1.0)
