"""Transient price deviations: the slight mean reversion of 1-minute index returns.

A real future's 1-minute returns have lag-1 autocorrelation of about -0.10 (issue 12):
part of each move is order-flow pressure that fades within a minute or two. The
observed log price is the efficient price plus an OU deviation with a ~30-second
time constant. For an OU with time constant tau the lag-1 autocorrelation of 1-minute
returns is ``-g (1 - phi)^2 / (1 + 2 g (1 - phi))`` with ``phi = exp(-60 / tau)`` and
``g`` the deviation's variance over the efficient 1-minute variance; ``g = 0.2`` gives
about -0.11, the real day's -0.10 (a day with nothing notable: the calibration measures
it outside labelled windows, whose trends are serial correlation by design).
"""

from __future__ import annotations

import math

import numpy as np

from aion.streams.simulator.ou import ou_paths

__all__ = ["TRANSIENT_TAU_S", "TRANSIENT_VARIANCE_RATIO", "transient_deviation"]

TRANSIENT_TAU_S = 30.0
"""Time constant of the deviation, seconds."""

TRANSIENT_VARIANCE_RATIO = 0.2
"""Deviation variance over the efficient price's 1-minute variance."""


def transient_deviation(rng: np.random.Generator, sigma_per_s: np.ndarray) -> np.ndarray:
    """Draw the transient log deviation of one series.

    Args:
        rng: Random source.
        sigma_per_s: ``(n_steps,)`` local per-second volatility of the efficient price
            (the deviation scales with it, so it stays a fixed share through the U).

    Returns:
        ``(n_steps,)`` log-price deviation.
    """
    unit = ou_paths(rng, 1, len(sigma_per_s), std=1.0, tau_s=TRANSIENT_TAU_S)[0]
    scale = math.sqrt(TRANSIENT_VARIANCE_RATIO * 60.0)
    return unit * sigma_per_s * scale
