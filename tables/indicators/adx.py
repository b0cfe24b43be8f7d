"""ADX with +DI and -DI, as TA-Lib ``ADX``, ``PLUS_DI`` and ``MINUS_DI`` compute them.

Directional movement of a bar: ``up = high - prev_high``, ``down = prev_low - low``;
-DM = down if ``down > 0 and up < down``, else +DM = up if ``up > 0 and up > down``.
TA-Lib's seeding (one shared state serves all three functions):

* bars ``1 .. period-1``: +DM, -DM and true range are *summed* (period - 1 terms);
* from bar ``period`` on, each sum takes Wilder's step ``s = s - s / period + x``,
  and +DI = 100 * (+DM / TR), -DI likewise: first DI at bar ``period``;
* DX = 100 * |(-DI) - (+DI)| / ((-DI) + (+DI)); the first ADX, at bar
  ``2 * period - 1``, is the mean of the DX of bars ``period .. 2*period-1``;
  after that ``adx = (adx * (period - 1) + dx) / period``.

Zero guards (TA-Lib's): TR == 0 gives DI 0.0 and no DX; a DX whose DI sum is zero is
skipped (the ADX keeps its previous value).

Block layout at ``off``: previous high, low, close; the three Wilder sums; the DX sum;
the ADX; and the two DI outputs.
"""

from __future__ import annotations

from numba import njit

from aion.tables.indicators.common import true_range

PREV_HIGH = 0
PREV_LOW = 1
PREV_CLOSE = 2
PLUS_DM = 3
MINUS_DM = 4
TR = 5
SUM_DX = 6
ADX = 7
PLUS_DI = 8
MINUS_DI = 9
SIZE = 10


def lookback_di(period: int) -> int:
    """First bar with +DI/-DI (TA-Lib ``PLUS_DI_Lookback``).

    Args:
        period: DI period.

    Returns:
        ``period``.
    """
    return period


def lookback_adx(period: int) -> int:
    """First bar with an ADX (TA-Lib ``ADX_Lookback``).

    Args:
        period: ADX period.

    Returns:
        ``2 * period - 1``.
    """
    return 2 * period - 1


@njit(cache=True)
def update(st, off: int, period: int, t: int, high: float, low: float, close: float) -> None:
    """Feed one bar.

    Args:
        st: State vector.
        off: Offset of the ADX block.
        period: ADX / DI period.
        t: 0-based bar index.
        high: Bar high.
        low: Bar low.
        close: Bar close.
    """
    if t == 0:
        st[off + PREV_HIGH] = high
        st[off + PREV_LOW] = low
        st[off + PREV_CLOSE] = close
        return
    diff_p = high - st[off + PREV_HIGH]
    diff_m = st[off + PREV_LOW] - low
    tr_bar = true_range(high, low, st[off + PREV_CLOSE])
    st[off + PREV_HIGH] = high
    st[off + PREV_LOW] = low
    st[off + PREV_CLOSE] = close
    pdm = st[off + PLUS_DM]
    mdm = st[off + MINUS_DM]
    tr = st[off + TR]
    if t >= period:
        pdm -= pdm / period
        mdm -= mdm / period
        tr = tr - tr / period + tr_bar
    else:
        tr += tr_bar
    if diff_m > 0.0 and diff_p < diff_m:
        mdm += diff_m
    elif diff_p > 0.0 and diff_p > diff_m:
        pdm += diff_p
    st[off + PLUS_DM] = pdm
    st[off + MINUS_DM] = mdm
    st[off + TR] = tr
    if t < period:
        return
    if tr != 0.0:
        mdi = 100.0 * (mdm / tr)
        pdi = 100.0 * (pdm / tr)
    else:
        mdi = 0.0
        pdi = 0.0
    st[off + PLUS_DI] = pdi
    st[off + MINUS_DI] = mdi
    di_sum = mdi + pdi
    has_dx = tr != 0.0 and di_sum != 0.0
    dx = 100.0 * (abs(mdi - pdi) / di_sum) if has_dx else 0.0
    if t < 2 * period - 1:
        st[off + SUM_DX] += dx
    elif t == 2 * period - 1:
        st[off + ADX] = (st[off + SUM_DX] + dx) / period
    elif has_dx:
        st[off + ADX] = ((st[off + ADX] * (period - 1)) + dx) / period
