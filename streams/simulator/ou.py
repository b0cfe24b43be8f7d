"""Ornstein-Uhlenbeck paths on the one-second grid: the simulator's one mean-reverting noise.

Stochastic volatility (:mod:`.volatility`), the transient price deviation that gives
1-minute returns their slight mean reversion (:mod:`.transient`) and implied-volatility
noise (:mod:`.iv_noise`) are all OU processes with different scales and time constants.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.signal import lfilter

__all__ = ["ou_paths"]


def ou_paths(
    rng: np.random.Generator, n_series: int, n_steps: int, *, std: float, tau_s: float
) -> np.ndarray:
    """Stationary OU paths sampled every second, started from the stationary law.

    Args:
        rng: Random source (draws ``n_series * n_steps`` normals).
        n_series: Number of independent paths.
        n_steps: Seconds per path.
        std: Stationary standard deviation.
        tau_s: Mean-reversion time constant, seconds (autocorrelation ``exp(-lag/tau)``).

    Returns:
        ``(n_series, n_steps)`` float64 array.
    """
    a = math.exp(-1.0 / tau_s)
    z = rng.standard_normal((n_series, n_steps))
    z[:, 1:] *= std * math.sqrt(1.0 - a * a)
    z[:, 0] *= std
    # x[t] = a x[t-1] + z[t], with x[0] = z[0]: an AR(1) filter along time.
    out: np.ndarray = lfilter([1.0], [1.0, -a], z, axis=1)
    return out
