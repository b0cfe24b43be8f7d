"""Stochastic volatility: a slowly mean-reverting volatility multiplier per series.

Volatility on a real day wanders: calm half hours, nervous ones. The log of the
multiplier is an OU process (:func:`.ou.ou_paths`); the multiplier is normalised so its
mean square is 1, leaving the day's variance where the base volatility puts it.
"""

from __future__ import annotations

import numpy as np

from aion.streams.simulator.ou import ou_paths

__all__ = ["LOG_VOL_STD", "LOG_VOL_TAU_S", "volatility_multipliers"]

LOG_VOL_STD = 0.2
"""Stationary standard deviation of log volatility (a calm hour at ~0.67x, a nervous one
at ~1.5x, two sigma either side; more would fatten 1-minute tails past the real day's)."""

LOG_VOL_TAU_S = 1_200.0
"""Time constant of log volatility: regimes last tens of minutes."""


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
        mean square 1; ``log_level`` is the OU path, for models (volume) that follow it.
    """
    x = ou_paths(rng, n_series, n_steps, std=LOG_VOL_STD, tau_s=LOG_VOL_TAU_S)
    return np.exp(x - LOG_VOL_STD**2), x
