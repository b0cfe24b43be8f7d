"""Slow stochastic %K/%D, as TA-Lib ``STOCH(fastk, slowk, SMA, slowd, SMA)`` computes it.

Fast %K over the last ``fastk`` bars (first at bar ``fastk - 1``):
``((close - lowest) / (highest - lowest)) * 100`` (TA-Lib 0.8's spelling); a flat
window (range zero relative to ``|highest| + |lowest|``, TA-Lib's scaled test)
gives 0.0. Slow %K is the :mod:`~aion.tables.indicators.sma` of fast %K over
``slowk``; slow %D is the SMA of slow %K over ``slowd``. Both outputs appear
together at bar ``fastk - 1 + slowk - 1 + slowd - 1`` (TA-Lib reports them from the
same index).

Block layout at ``off``: highest/lowest and their indices, two SMA blocks, then rings
of the last ``fastk`` highs and lows.
"""

from __future__ import annotations

from numba import njit

from aion.tables.indicators import sma
from aion.tables.indicators.common import is_zero_scaled, window_max, window_min

HI = 0
HI_IDX = 1
LO = 2
LO_IDX = 3
SLOWK = 4


def slowd_off(slowk: int) -> int:
    """Offset of the slow-%D SMA block inside the stochastic block.

    Args:
        slowk: Slow %K period.

    Returns:
        Relative offset.
    """
    return SLOWK + sma.size(slowk)


def size(fastk: int, slowk: int, slowd: int) -> int:
    """Block length in floats.

    Args:
        fastk: Fast %K window.
        slowk: Slow %K smoothing.
        slowd: Slow %D smoothing.

    Returns:
        Slots needed.
    """
    return slowd_off(slowk) + sma.size(slowd) + 2 * fastk


def lookback(fastk: int, slowk: int, slowd: int) -> int:
    """First bar with both outputs (TA-Lib ``STOCH_Lookback`` with SMA smoothing).

    Args:
        fastk: Fast %K window.
        slowk: Slow %K smoothing.
        slowd: Slow %D smoothing.

    Returns:
        ``fastk - 1 + slowk - 1 + slowd - 1``.
    """
    return fastk - 1 + slowk - 1 + slowd - 1


@njit(cache=True)
def update(
    st, off: int, fastk: int, slowk: int, slowd: int, t: int,
    high: float, low: float, close: float,
) -> None:
    """Feed one bar.

    Args:
        st: State vector.
        off: Offset of the stochastic block.
        fastk: Fast %K window.
        slowk: Slow %K smoothing.
        slowd: Slow %D smoothing.
        t: 0-based bar index.
        high: Bar high.
        low: Bar low.
        close: Bar close.
    """
    # Inline arithmetic (compiled code cannot call the Python-level size helpers).
    d_off = off + SLOWK + sma.RING + slowk
    ring_h = d_off + sma.RING + slowd
    ring_l = ring_h + fastk
    st[ring_h + t % fastk] = high
    st[ring_l + t % fastk] = low
    window_max(st, off + HI, off + HI_IDX, ring_h, fastk, t, high)
    window_min(st, off + LO, off + LO_IDX, ring_l, fastk, t, low)
    if t < fastk - 1:
        return
    highest = st[off + HI]
    lowest = st[off + LO]
    rng = highest - lowest
    if not is_zero_scaled(rng, abs(highest) + abs(lowest)):
        fast_k = ((close - lowest) / rng) * 100.0
    else:
        fast_k = 0.0
    k1 = t - (fastk - 1)
    slow_k = sma.update(st, off + SLOWK, slowk, k1, fast_k)
    if k1 >= slowk - 1:
        sma.update(st, d_off, slowd, k1 - (slowk - 1), slow_k)
