"""Self-exciting activity bursts (a discrete-time Hawkes process) with price jumps.

Real order flow clusters: a large print draws more prints, and a burst of volume comes
with a burst of volatility. Per series and second, a burst event happens with
probability ``base + b * H(t)``, where ``H`` is the exponentially decaying count of past
events (branching ratio ``b * tau``: the mean number of events each one triggers). Every
event carries a heavy-tailed (Pareto) mark that adds to an excitation ``A(t)`` decaying
with its own time constant. The generator multiplies volume by ``1 + A`` and variance by
``1 + VOL_RESPONSE * A``, and some events also jump the price, so 5-10x volume bursts and
3-5σ moves happen without any label, and volume and |return| move together.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter

__all__ = ["VOL_RESPONSE", "BurstParams", "Bursts", "simulate_bursts"]

VOL_RESPONSE = 0.25
"""Variance multiplier per unit of excitation: variance is ``1 + VOL_RESPONSE * A``."""


_JUMP_MARK_CAP = 6.0  # a freak mark excites volume, but jumps stay a few sigma


@dataclass(frozen=True, slots=True)
class BurstParams:
    """Parameters of the burst process (per series).

    Attributes:
        base_per_s: Immigrant (exogenous) event rate per second.
        branching: Mean number of events each event triggers (< 1: stationary).
        decay_s: Time constant of the self-excitation, seconds.
        mark_alpha: Pareto tail index of the marks (smaller: heavier tail).
        mark_scale: Excitation added by a mark of 1.
        activity_decay_s: Time constant of the volume/volatility excitation, seconds.
        jump_prob: Probability that an event also jumps the price.
        jump_scale: Jump size, in 1-minute sigmas, for a mark of 1.
        max_excitation: Cap on the excitation (keeps a freak cluster finite).
    """

    base_per_s: float = 1.0 / 1_500.0
    branching: float = 0.5
    decay_s: float = 40.0
    mark_alpha: float = 1.7
    mark_scale: float = 0.6
    activity_decay_s: float = 45.0
    jump_prob: float = 0.05
    jump_scale: float = 0.45
    max_excitation: float = 8.0


@dataclass(frozen=True, slots=True)
class Bursts:
    """Simulated bursts.

    Attributes:
        excitation: ``(n_series, n_steps)`` excitation ``A(t) >= 0``.
        jumps: ``(n_series, n_steps)`` price jumps in 1-minute sigmas (0 where none).
        count: Number of events per series.
    """

    excitation: np.ndarray
    jumps: np.ndarray
    count: np.ndarray


def simulate_bursts(
    rng: np.random.Generator, n_series: int, n_steps: int, params: BurstParams
) -> Bursts:
    """Simulate the burst process of independent series.

    Args:
        rng: Random source (all draws made up front, in a fixed order).
        n_series: Number of series.
        n_steps: Seconds.
        params: Process parameters.

    Returns:
        The bursts.
    """
    u = rng.random((n_series, n_steps))
    marks = rng.pareto(params.mark_alpha, (n_series, n_steps)) + 1.0
    jump_u = rng.random((n_series, n_steps))
    jump_z = rng.standard_normal((n_series, n_steps))
    d = math.exp(-1.0 / params.decay_s)
    b = params.branching * (1.0 - d)  # so that b * sum(d^k) = branching
    hit = np.zeros((n_series, n_steps), dtype=bool)
    h = np.zeros(n_series)
    # The only sequential part: whether an event happens depends on earlier events.
    for t in range(n_steps):
        now = u[:, t] < params.base_per_s + b * h
        hit[:, t] = now
        h = h * d + now
    pulses = np.where(hit, marks * params.mark_scale, 0.0)
    da = math.exp(-1.0 / params.activity_decay_s)
    excitation = np.minimum(lfilter([1.0], [1.0, -da], pulses, axis=1), params.max_excitation)
    jumps = np.where(
        hit & (jump_u < params.jump_prob),
        jump_z * params.jump_scale * np.sqrt(np.minimum(marks, _JUMP_MARK_CAP)),
        0.0,
    )
    return Bursts(excitation=excitation, jumps=jumps, count=hit.sum(axis=1))
