"""Chaikin accumulation/distribution line, as TA-Lib ``AD`` computes it.

``ad += (((close - low) - (high - close)) / (high - low)) * volume``, starting from
0.0; a flat bar (``high - low`` not positive) adds nothing, TA-Lib's convention.
Value from bar 0.

Block layout at ``off``: the line.
"""

from __future__ import annotations

from numba import njit

VALUE = 0
SIZE = 1


def lookback() -> int:
    """First bar with a value.

    Returns:
        0.
    """
    return 0


@njit(cache=True)
def money_flow_multiplier(high: float, low: float, close: float) -> float:
    """Close location value ``((c - l) - (h - c)) / (h - l)``, 0.0 on a flat bar.

    Args:
        high: Bar high.
        low: Bar low.
        close: Bar close.

    Returns:
        The multiplier in [-1, 1].
    """
    rng = high - low
    if rng > 0.0:
        return ((close - low) - (high - close)) / rng
    return 0.0


@njit(cache=True)
def update(st, off: int, high: float, low: float, close: float, volume: float) -> None:
    """Feed one bar.

    Args:
        st: State vector.
        off: Offset of the A/D block.
        high: Bar high.
        low: Bar low.
        close: Bar close.
        volume: Bar volume.
    """
    rng = high - low
    if rng > 0.0:
        st[off + VALUE] += (((close - low) - (high - close)) / rng) * volume
