"""Anchoring a series' background volume to the intraday U at the quarter-hour scale.

Bursts, volatility regimes and the answer to recent moves make volume spike minute by
minute, but left alone a cluster of them can also lift or sink a whole quarter hour:
unanchored, the NIFTY future's share of the day in its first 15 minutes ranged from
4.4 % to 11.5 % over seeds (real 7.4 %), and a quiet midday fell to 1.2 % (real 2.2 %).
On an ordinary day the quarter-hour level of volume is set by the time of day (the
intraday U, applied separately); the bursts live inside it. So the multiplier is divided
by a power of its own slow level, the geometric mean over a centred window: minute-scale
spikes (geometric means barely see them) are kept, the quarter-hour wander is shrunk.
A cluster of bursts still lifts its window arithmetically, so the 15-minute mean is
also bounded: burst volume is capped relative to the window's expected volume.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d

__all__ = [
    "LEVEL_SHRINK",
    "LEVEL_WINDOW_S",
    "QUARTER_HOUR_RANGE",
    "anchor_volume_level",
]

LEVEL_WINDOW_S = 1_200
"""Centred window of the slow level, seconds (a little wider than the 15-min windows)."""

LEVEL_SHRINK = 0.8
"""Fraction of the slow level's log-deviation removed (1: fully anchored to the U)."""


QUARTER_HOUR_RANGE = (0.75, 1.35)
"""Bounds of any 15-minute mean of the multiplier (times the U): a three-minute burst
cluster of 15x at the open (seed 7) must not carry the whole quarter hour to 13 %."""

_QUARTER_HOUR_S = 900


def anchor_volume_level(mult: np.ndarray) -> np.ndarray:
    """Shrink the slow (quarter-hour) level of a volume multiplier towards 1.

    Args:
        mult: ``(n_steps,)`` positive per-second volume multiplier.

    Returns:
        ``(n_steps,)`` multiplier with mean 1 whose slow geometric level is shrunk and
        whose 15-minute means lie (about) within ``QUARTER_HOUR_RANGE``.
    """
    log_m = np.log(np.maximum(mult, 1e-12))
    # Reflect, not "nearest": the first second must not echo over half a window.
    slow = uniform_filter1d(log_m, LEVEL_WINDOW_S, mode="reflect")
    out = np.exp(log_m - LEVEL_SHRINK * (slow - slow.mean()))
    out /= out.mean()
    # Then bound each quarter hour's mean: scale by the clipped over the actual rolling
    # mean (smooth, so a burst keeps its shape within its window); twice, as rescaling
    # one window moves its neighbours' means a little.
    lo, hi = QUARTER_HOUR_RANGE
    for _ in range(2):
        q = uniform_filter1d(out, _QUARTER_HOUR_S, mode="reflect")
        out = out * np.clip(q, lo, hi) / q
        out /= out.mean()
    anchored: np.ndarray = out
    return anchored
