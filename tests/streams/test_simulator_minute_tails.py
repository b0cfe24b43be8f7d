"""Nervous minutes: a per-minute normal scale mixture with the stated kurtosis."""

from __future__ import annotations

import numpy as np
from scipy.stats import kurtosis

from aion.streams.simulator.minute_tails import (
    NERVOUS_PROB,
    NERVOUS_VARIANCE,
    minute_scale,
    mixture_excess_kurtosis,
)


def test_scale_is_shared_constant_per_minute_and_has_unit_mean_square() -> None:
    s = minute_scale(np.random.default_rng(1), 3, 600_000)
    assert s.shape == (3, 600_000)
    # Market-wide: every series has the same nervous minutes.
    assert np.array_equal(s[0], s[1]) and np.array_equal(s[0], s[2])
    per_minute = s[0].reshape(-1, 60)
    assert np.all(per_minute == per_minute[:, :1])
    # Two levels whose variance ratio is the stated one, in the stated proportion.
    levels = np.unique(per_minute[:, 0])
    assert len(levels) == 2
    assert np.isclose((levels[1] / levels[0]) ** 2, NERVOUS_VARIANCE)
    share = np.mean(per_minute[:, 0] == levels[1])
    assert abs(share - NERVOUS_PROB) < 4 * np.sqrt(NERVOUS_PROB / len(per_minute))
    assert abs(np.mean(s[0] ** 2) - 1.0) < 0.02


def test_minute_returns_have_the_mixture_kurtosis() -> None:
    # Oracle: scipy's kurtosis of simulated 1-minute sums against the closed form.
    rng = np.random.default_rng(2)
    n_min = 400_000
    s = minute_scale(rng, 1, n_min * 60)[0].reshape(n_min, 60)[:, 0]
    r = s * rng.standard_normal(n_min)
    assert mixture_excess_kurtosis() > 0.5
    assert abs(kurtosis(r) - mixture_excess_kurtosis()) < 0.1
