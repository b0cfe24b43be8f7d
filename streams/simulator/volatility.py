"""Stochastic volatility: a bounded, mean-reverting volatility multiplier per series.

Volatility on a real day wanders: calm half hours, nervous ones, and nervous few
minutes inside them. The log of the multiplier is the sum of two OU processes
(:func:`.ou.ou_paths`), a slow one (regimes of tens of minutes) and a fast one (a few
minutes), squashed by ``c * tanh(x / c)`` so it never leaves ``(-c, c)``. The fast
part gives 1-minute returns part of their fat tails (the rest comes from the nervous
minutes of :mod:`.minute_tails`, which do not depend on where a day's log-vol happens to
wander) and, because volume follows it, part
of the minute-scale link between volume and |return| that survives removing the
time-of-day level. The bound is what keeps a single day's figures stable: an unbounded
log-normal volatility now and then draws a freak excursion (at the open, where the
intraday U already triples the variance, one such draw alone put a day's 1-minute
kurtosis at ~7 and its first quarter hour's volume share past 10 %); squashed, the
tails come from many moderate episodes, of which a day has dozens. The multiplier is
normalised so its mean square is 1, leaving the day's variance where the base
volatility puts it.
"""

from __future__ import annotations

import math

import numpy as np

from aion.streams.simulator.ou import ou_paths

__all__ = [
    "COMMON_VOL_CORR",
    "FAST_LOG_VOL_STD",
    "FAST_LOG_VOL_TAU_S",
    "LOG_VOL_BOUND",
    "SLOW_LOG_VOL_STD",
    "SLOW_LOG_VOL_TAU_S",
    "bounded_log_vol",
    "volatility_multipliers",
]

SLOW_LOG_VOL_STD = 0.15
"""Stationary std of the slow part of log volatility (before the bound)."""

SLOW_LOG_VOL_TAU_S = 1_200.0
"""Time constant of the slow part: regimes last tens of minutes."""

FAST_LOG_VOL_STD = 0.6
"""Stationary std of the fast part of log volatility (before the bound)."""

FAST_LOG_VOL_TAU_S = 120.0
"""Time constant of the fast part: two minutes, so a day holds many episodes."""

LOG_VOL_BOUND = 0.6
"""Bound ``c`` of the squashed log volatility: the multiplier stays within
``exp(+-c)`` of its median (a factor ~1.8 either way). With the fast std equal to it, the
log level spends much of the day near the bounds: calm and nervous spells, no freaks."""

COMMON_VOL_CORR = 0.8
"""Correlation of every other series' log volatility with the first (the market's):
nervous minutes are nervous for every stock, so an index's tails are not averaged away
by its members' independent calm."""

_QUAD_NODES = 64


def bounded_log_vol(x: np.ndarray) -> np.ndarray:
    """Squash a log-volatility path into ``(-LOG_VOL_BOUND, LOG_VOL_BOUND)``."""
    out: np.ndarray = LOG_VOL_BOUND * np.tanh(x / LOG_VOL_BOUND)
    return out


def _log_mean_square(std: float) -> float:
    """``log E[exp(2 bounded_log_vol(x))]`` for ``x ~ N(0, std^2)`` (Gauss-Hermite)."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(_QUAD_NODES)
    mean_square = float(weights @ np.exp(2.0 * bounded_log_vol(std * nodes)))
    return math.log(mean_square / math.sqrt(2.0 * math.pi))


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
        mean square 1 (in law); ``log_level`` is the bounded log volatility, for models
        (volume) that follow it.
    """
    slow = ou_paths(rng, n_series, n_steps, std=SLOW_LOG_VOL_STD, tau_s=SLOW_LOG_VOL_TAU_S)
    fast = ou_paths(rng, n_series, n_steps, std=FAST_LOG_VOL_STD, tau_s=FAST_LOG_VOL_TAU_S)
    raw = slow + fast
    # Series 1.. share series 0's (the market's) volatility: same law, correlation rho.
    raw[1:] = COMMON_VOL_CORR * raw[:1] + math.sqrt(1.0 - COMMON_VOL_CORR**2) * raw[1:]
    x = bounded_log_vol(raw)
    std = math.hypot(SLOW_LOG_VOL_STD, FAST_LOG_VOL_STD)
    return np.exp(x - 0.5 * _log_mean_square(std)), x
