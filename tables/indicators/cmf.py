"""Chaikin money flow (no TA-Lib function; textbook definition).

``CMF = sum(mfv over the last period bars) / sum(volume over them)`` with the money
flow volume ``mfv = ((c - l) - (h - c)) / (h - l) * v`` (0 on a flat bar, the A/D
line's convention). First value at bar ``period - 1``. A window without volume gives
0.0 (0/0). The two sums are running totals (O(1)); a count of volume-carrying bars
in the window lets an empty window reset them to exactly 0.0, so add/subtract
rounding residue can never be divided by a zero volume.

Block layout at ``off``: the two sums, the count, output, then rings of the last
``period`` mfv and volumes.
"""

from __future__ import annotations

from numba import njit

from aion.tables.indicators.ad import money_flow_multiplier

SUM_MFV = 0
SUM_VOL = 1
NONZERO = 2
OUT = 3
RINGS = 4


def size(period: int) -> int:
    """Block length in floats.

    Args:
        period: CMF window.

    Returns:
        Slots needed.
    """
    return RINGS + 2 * period


def lookback(period: int) -> int:
    """First bar with a value.

    Args:
        period: CMF window.

    Returns:
        ``period - 1``.
    """
    return period - 1


@njit(cache=True)
def update(
    st, off: int, period: int, t: int, high: float, low: float, close: float, volume: float
) -> None:
    """Feed one bar.

    Args:
        st: State vector.
        off: Offset of the CMF block.
        period: CMF window.
        t: 0-based bar index.
        high: Bar high.
        low: Bar low.
        close: Bar close.
        volume: Bar volume.
    """
    ring_m = off + RINGS
    ring_v = ring_m + period
    pos = t % period
    if t >= period:
        # Drop the bar leaving the window (it sits in the slot we are about to reuse).
        st[off + SUM_MFV] -= st[ring_m + pos]
        st[off + SUM_VOL] -= st[ring_v + pos]
        if st[ring_v + pos] != 0.0:
            st[off + NONZERO] -= 1.0
    mfv = money_flow_multiplier(high, low, close) * volume
    st[ring_m + pos] = mfv
    st[ring_v + pos] = volume
    st[off + SUM_MFV] += mfv
    st[off + SUM_VOL] += volume
    if volume != 0.0:
        st[off + NONZERO] += 1.0
    if st[off + NONZERO] == 0.0:
        st[off + SUM_MFV] = 0.0
        st[off + SUM_VOL] = 0.0
    if t >= period - 1:
        vol = st[off + SUM_VOL]
        st[off + OUT] = st[off + SUM_MFV] / vol if vol > 0.0 else 0.0
