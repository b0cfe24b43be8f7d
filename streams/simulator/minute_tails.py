"""Nervous minutes: a per-minute variance mixture that gives 1-minute returns fat tails.

The bounded stochastic volatility (:mod:`.volatility`) makes 1-minute returns fat-tailed
only through its wander, and a day whose log-vol happens to sit near one bound for long
stretches has almost Gaussian minutes: fresh seeds showed futures kurtosis 0.2-0.4 and
options -0.1-0.2 against the real day's 1.2-1.3 and 1.3-3.2. Tails that come from the
innovations themselves do not depend on that luck. Each minute of a series is, with a
small probability, a nervous one whose variance is ``NERVOUS_VARIANCE`` times a calm
minute's (a two-point scale mixture of normals). The mixture's own excess kurtosis is
``3 (E[w^2] / E[w]^2 - 1)``, about 0.9 here; it multiplies with the volatility's
(``1 + k/3`` factors), which moves the day's figure from the 0.2-2.4 range towards the
real 1.2-1.3 without lengthening the upper tail much. A day holds about a dozen nervous
minutes, so its figure is stable (a Student-t with 4-5 degrees of freedom has
no finite fourth moment, and its one-day kurtosis would be anything). The variance is
normalised so the mean square of the scale is 1.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["NERVOUS_PROB", "NERVOUS_VARIANCE", "minute_scale", "mixture_excess_kurtosis"]

NERVOUS_PROB = 0.03
"""Probability that a minute of a series is a nervous one."""

NERVOUS_VARIANCE = 4.5
"""Variance of a nervous minute relative to a calm one (sigma ~2.1x)."""

_MINUTE_S = 60


def mixture_excess_kurtosis(prob: float = NERVOUS_PROB, var: float = NERVOUS_VARIANCE) -> float:
    """Excess kurtosis of the two-point normal scale mixture (in law)."""
    m1 = 1.0 - prob + prob * var
    m2 = 1.0 - prob + prob * var * var
    return 3.0 * (m2 / (m1 * m1) - 1.0)


def minute_scale(rng: np.random.Generator, n_series: int, n_steps: int) -> np.ndarray:
    """Draw per-second sigma multipliers constant within each minute.

    Args:
        rng: Random source.
        n_series: Series (all share the nervous minutes).
        n_steps: Seconds.

    Returns:
        ``(n_series, n_steps)`` multipliers of the per-second sigma, mean square 1.
    """
    n_min = -(-n_steps // _MINUTE_S)
    # One draw for all series: a nervous minute is nervous market-wide, so an index's
    # tails are not averaged away by its members' independent calm minutes.
    nervous = np.broadcast_to(rng.random((1, n_min)) < NERVOUS_PROB, (n_series, n_min))
    mean_var = 1.0 - NERVOUS_PROB + NERVOUS_PROB * NERVOUS_VARIANCE
    scale = np.where(nervous, math.sqrt(NERVOUS_VARIANCE), 1.0) / math.sqrt(mean_var)
    out: np.ndarray = np.repeat(scale, _MINUTE_S, axis=1)[:, :n_steps]
    return out
