"""Session VWAP, updated per tick (no TA-Lib function; textbook definition).

``vwap = sum(price * volume_increment) / sum(volume_increment)`` over the ticks since
the last session reset. Ticks with a zero volume increment do not move it. No value
until some volume has traded. The caller resets it on a new trading date (there is
no clock here).

Block layout at ``off``: ``PV`` (sum of price * volume), ``VOLUME``, ``VALUE``.
"""

from __future__ import annotations

from numba import njit

PV = 0
VOLUME = 1
VALUE = 2
SIZE = 3


@njit(cache=True)
def update(st, off: int, price: float, volume: float) -> None:
    """Apply one tick.

    Args:
        st: State vector.
        off: Offset of the VWAP block.
        price: Traded (last) price.
        volume: Volume traded since the previous tick (>= 0).
    """
    if volume > 0.0:
        st[off + PV] += price * volume
        st[off + VOLUME] += volume
        st[off + VALUE] = st[off + PV] / st[off + VOLUME]


@njit(cache=True)
def reset(st, off: int) -> None:
    """Start a new session.

    Args:
        st: State vector.
        off: Offset of the VWAP block.
    """
    st[off + PV] = 0.0
    st[off + VOLUME] = 0.0
    st[off + VALUE] = 0.0
