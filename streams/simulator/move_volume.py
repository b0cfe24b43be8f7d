"""Volume that answers the price move: the minute-scale link between volume and |return|.

On a real day, with the time of day removed, minute volume and minute |return| still
rank-correlate at 0.32-0.50 (issue 12): trading moves prices and moves draw trading.
Slow volatility regimes cannot produce that (the time-of-day baseline removes them),
and making volatility itself jumpy would fatten the return tails far beyond the real
kurtosis. So volume is made to follow the recent net move: the exponentially weighted
sum of standardised returns over about half a minute.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.signal import lfilter

__all__ = ["MOVE_TAU_S", "move_volume_multiplier"]

MOVE_TAU_S = 40.0
"""Memory of the move volume answers to, seconds."""

MOVE_ELASTICITY = 4.0
"""Volume multiplier per unit of standardised recent |move| (``1 + e * |m|``, then mean 1)."""


def move_volume_multiplier(ret: np.ndarray, sigma_per_s: np.ndarray) -> np.ndarray:
    """Volume multiplier of one series from its per-second returns.

    Args:
        ret: ``(n_steps,)`` per-second log returns.
        sigma_per_s: ``(n_steps,)`` local per-second volatility.

    Returns:
        ``(n_steps,)`` multiplier with mean 1.
    """
    d = math.exp(-1.0 / MOVE_TAU_S)
    z = ret / np.maximum(sigma_per_s, 1e-12)
    # Standardised: the EW sum of unit normals has variance 1 / (1 - d^2).
    move = np.abs(lfilter([1.0], [1.0, -d], z)) * math.sqrt(1.0 - d * d)
    mult = 1.0 + MOVE_ELASTICITY * move
    out: np.ndarray = mult / mult.mean()
    return out
