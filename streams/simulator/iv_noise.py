"""Implied-volatility noise: option prices that do not sit exactly on the model surface.

Two OU parts on log implied volatility: a slow one per underlying (the whole chain's IV
level drifting apart from VIX over half hours) and a fast one per contract (quotes
wobbling around fair value for seconds). Without them every option is an exact
function of its underlying and the option/future correlation is too high.
"""

from __future__ import annotations

import numpy as np

from aion.streams.simulator.ou import ou_paths

__all__ = ["CHAIN_IV_STD", "CONTRACT_IV_STD", "iv_log_noise"]

CHAIN_IV_STD = 0.04
"""Stationary std of the chain-wide log-IV offset."""

CHAIN_IV_TAU_S = 1_800.0
"""Time constant of the chain-wide offset, seconds."""

CONTRACT_IV_STD = 0.005
"""Stationary std of the per-contract log-IV wobble."""

CONTRACT_IV_TAU_S = 20.0
"""Time constant of the per-contract wobble, seconds."""


def iv_log_noise(rng: np.random.Generator, chain_of: np.ndarray, n_steps: int) -> np.ndarray:
    """Draw the log-IV noise of a set of option contracts.

    Args:
        rng: Random source.
        chain_of: ``(n_options,)`` chain number (0..k-1) of each contract.
        n_steps: Seconds.

    Returns:
        ``(n_options, n_steps)`` additive noise on log implied volatility.
    """
    k = int(chain_of.max()) + 1 if len(chain_of) else 0
    chain = ou_paths(rng, k, n_steps, std=CHAIN_IV_STD, tau_s=CHAIN_IV_TAU_S)
    own = ou_paths(rng, len(chain_of), n_steps, std=CONTRACT_IV_STD, tau_s=CONTRACT_IV_TAU_S)
    out: np.ndarray = chain[chain_of] + own
    return out
