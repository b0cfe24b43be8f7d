"""Hit rates of forward-validation windows and their bootstrap confidence intervals.

**Hit rate** of a set of outcomes (one per alert and window; neutral alerts, whose
success is None, are left out) is ``successes / outcomes``, None when there are none.

**Bootstrap interval** (percentile method): draw ``resamples`` samples of the ``n``
outcomes with replacement (numpy ``default_rng(seed)``, so the interval is
reproducible), take each sample's hit rate, and report the ``(1 - level) / 2`` and
``(1 + level) / 2`` quantiles (numpy's default linear interpolation) of those rates.
Defaults: 1000 resamples, 95 %. Alerts are resampled as independent draws: alerts of
the same instrument close in time are not, so the interval is if anything too narrow.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DEFAULT_RESAMPLES = 1000
DEFAULT_LEVEL = 0.95
DEFAULT_SEED = 13


def hit_rate(outcomes: Sequence[bool]) -> float | None:
    """Share of successes, None without outcomes.

    Args:
        outcomes: Success per alert.

    Returns:
        The hit rate.
    """
    return sum(1 for o in outcomes if o) / len(outcomes) if outcomes else None


def bootstrap_ci(outcomes: Sequence[bool], resamples: int = DEFAULT_RESAMPLES,
                 level: float = DEFAULT_LEVEL, seed: int = DEFAULT_SEED
                 ) -> tuple[float, float] | None:
    """Percentile bootstrap interval of the hit rate.

    Args:
        outcomes: Success per alert.
        resamples: Bootstrap samples (>= 1).
        level: Coverage, in (0, 1).
        seed: Random seed.

    Returns:
        ``(low, high)``, None without outcomes.

    Raises:
        ValueError: On ``resamples < 1`` or ``level`` outside (0, 1).
    """
    if resamples < 1 or not 0.0 < level < 1.0:
        raise ValueError(f"need resamples >= 1 and 0 < level < 1, got {resamples}, {level}")
    n = len(outcomes)
    if n == 0:
        return None
    y = np.fromiter((1.0 if o else 0.0 for o in outcomes), dtype=np.float64, count=n)
    rng = np.random.default_rng(seed)
    chunk = max(1, 2_000_000 // n)  # bounded memory for large n
    rates = np.concatenate([
        y[rng.integers(0, n, size=(min(chunk, resamples - i), n))].mean(axis=1)
        for i in range(0, resamples, chunk)])
    lo, hi = np.quantile(rates, [(1.0 - level) / 2.0, (1.0 + level) / 2.0])
    return float(lo), float(hi)
