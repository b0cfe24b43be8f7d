"""Where option liquidity sits: around the strike nearest the market, wherever it moves.

On a real day the most-traded strike follows the underlying through the day (issue 12),
and an ATM contract prints about once a second all day long: the intraday U is in the
size per print, not in the count. Packet rate and trade size therefore fall with the
distance, in strikes, between the contract and the underlying *now*.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ATM_PACKETS_PER_S", "rate_weight", "size_weight"]

ATM_PACKETS_PER_S = 0.95
"""Packets per second of an at-the-money contract (real: 55-60 per minute)."""

_RATE_DECAY_STRIKES = 5.0
_RATE_FLOOR = 0.2
# Beyond this many strikes the floor itself thins out: the chain is listed wide (so the
# market cannot run off its edge) but far wings print rarely, as on NSE.
_FLOOR_FROM_STRIKES = 10.0
_FAR_DECAY_STRIKES = 5.0
_SIZE_DECAY_STRIKES = 1.5


def _distance(strike: np.ndarray, spot: np.ndarray, step: np.ndarray) -> np.ndarray:
    """Distance between strike and spot, in strikes."""
    return np.abs(strike - spot) / step


def rate_weight(strike: np.ndarray, spot: np.ndarray, step: np.ndarray) -> np.ndarray:
    """Packet-rate weight of a contract, 1 at the money (broadcasts).

    Args:
        strike: Strikes.
        spot: Underlying level at the same instants.
        step: Strike step of each contract's underlying.

    Returns:
        Weights in ``(0, 1]``: ``_RATE_FLOOR`` or more within ``_FLOOR_FROM_STRIKES``.
    """
    d = _distance(strike, spot, step)
    floor = _RATE_FLOOR * np.exp(-np.maximum(d - _FLOOR_FROM_STRIKES, 0.0) / _FAR_DECAY_STRIKES)
    return np.maximum(np.exp(-d / _RATE_DECAY_STRIKES), floor)


def size_weight(strike: np.ndarray, spot: np.ndarray, step: np.ndarray) -> np.ndarray:
    """Trade-size weight of a contract, 1 at the money (broadcasts).

    By rank: the strike nearest the market is "the ATM" traders pile into, the next
    one out gets ``exp(-1 / _SIZE_DECAY_STRIKES)`` of its size, and so on.

    Args:
        strike: Strikes.
        spot: Underlying level at the same instants.
        step: Strike step of each contract's underlying.

    Returns:
        Weights in ``(0, 1]``.
    """
    return np.exp(-np.round(_distance(strike, spot, step)) / _SIZE_DECAY_STRIKES)
