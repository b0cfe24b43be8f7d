"""Stochastic volatility: a mean-reverting volatility multiplier per series.

Volatility on a real day wanders: calm half hours, nervous ones, and nervous few
minutes inside them. The log of the multiplier is the sum of two OU processes
(:func:`.ou.ou_paths`), a slow one (regimes of tens of minutes) and a fast one (a few
minutes). The fast one is what gives 1-minute returns their fat tails (excess kurtosis
``3 (exp(4 s^2) - 1)`` for a log-volatility std ``s``) and, because volume follows it,
part of the minute-scale link between volume and |return| that survives removing the
time-of-day level. The multiplier is normalised so its mean square is 1, leaving the
day's variance where the base volatility puts it.
"""

from __future__ import annotations

import numpy as np

from aion.streams.simulator.ou import ou_paths

__all__ = [
    "FAST_LOG_VOL_STD",
    "FAST_LOG_VOL_TAU_S",
    "SLOW_LOG_VOL_STD",
    "SLOW_LOG_VOL_TAU_S",
    "volatility_multipliers",
]

SLOW_LOG_VOL_STD = 0.15
"""Stationary std of the slow part of log volatility."""

SLOW_LOG_VOL_TAU_S = 1_200.0
"""Time constant of the slow part: regimes last tens of minutes."""

FAST_LOG_VOL_STD = 0.27
"""Stationary std of the fast part of log volatility (with the slow part and the
intraday U: 1-minute excess kurtosis of about 1.2, the real day's)."""

FAST_LOG_VOL_TAU_S = 300.0
"""Time constant of the fast part: a few minutes."""


def volatility_multipliers(
    rng: np.random.Generator, n_series: int, n_steps: int
) -> tuple[np.ndarray, np.ndarray]:
    """Draw per-second volatility multipliers and their log level.

    Args:
        rng: Random source.
        n_series: Independent series (market, bank sector, each stock).
        n_steps: Seconds.

    Returns:
        ``(multiplier, log_level)``, both ``(n_series, n_steps)``: ``multiplier`` has
        mean square 1; ``log_level`` is the summed OU path, for models (volume) that
        follow it.
    """
    slow = ou_paths(rng, n_series, n_steps, std=SLOW_LOG_VOL_STD, tau_s=SLOW_LOG_VOL_TAU_S)
    fast = ou_paths(rng, n_series, n_steps, std=FAST_LOG_VOL_STD, tau_s=FAST_LOG_VOL_TAU_S)
    x = slow + fast
    var = SLOW_LOG_VOL_STD**2 + FAST_LOG_VOL_STD**2
    return np.exp(x - var), x
