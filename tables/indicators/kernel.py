"""The compiled per-bar and per-tick kernels of the indicator set.

:func:`update_bar` feeds one closed bar to every indicator of the set, calling the
small per-indicator ``update`` functions (each in its own module) on their blocks of
the flat state vector; :func:`update_bars` loops it over arrays (replays); and
:func:`update_tick` feeds the tick-driven indicators (session VWAP). Offsets and
periods come from the ``lay`` / ``fp`` arrays of :mod:`~aion.tables.indicators.layout`.

The functions index plain sequences only (no numpy calls), so with
``NUMBA_DISABLE_JIT=1`` the very same code runs as plain Python on a list (the
benchmark's "is numba worth it" baseline).

``cache=True`` keeps process start-up near one second instead of several, but numba
invalidates a cached function only when *its own* file changes: after editing an
indicator module, a kernel cached from this file (or from a module calling it) can be
stale. ``tests/tables/indicators/test_indicator_set.py`` compares the compiled path
with the plain-Python path at early checkpoints and fails in that case; clear
``tables/indicators/__pycache__`` (the ``*.nbi`` / ``*.nbc`` files) to recompile.
"""

from __future__ import annotations

import math

from numba import njit

from aion.tables.indicators import (
    ad,
    adx,
    aroon,
    atr,
    bbands,
    cci,
    cmf,
    crossover,
    donchian,
    ema,
    keltner,
    macd,
    mfi,
    obv,
    roc,
    rsi,
    sar,
    sma,
    stoch,
    vwap,
    willr,
)
from aion.tables.indicators.layout import (
    F_BB_DN,
    F_BB_UP,
    F_KELT_MULT,
    F_SAR_ACC,
    F_SAR_MAX,
    H_BARS,
    H_TICKS,
    L_AD,
    L_ADX,
    L_ADX_P,
    L_AROON,
    L_AROON_P,
    L_ATR,
    L_ATR_P,
    L_BB,
    L_BB_P,
    L_CCI,
    L_CCI_P,
    L_CMF,
    L_CMF_P,
    L_CROSS_BASE,
    L_CROSS_N,
    L_DON,
    L_DON_P,
    L_EMA_BASE,
    L_EMA_N,
    L_KELT,
    L_KELT_ATR,
    L_KELT_EMA,
    L_MACD,
    L_MACD_FAST,
    L_MACD_SIGNAL,
    L_MACD_SLOW,
    L_MFI,
    L_MFI_P,
    L_OBV,
    L_ROC,
    L_ROC_P,
    L_RSI,
    L_RSI_P,
    L_SAR,
    L_SMA_BASE,
    L_SMA_N,
    L_STOCH,
    L_STOCH_FK,
    L_STOCH_SD,
    L_STOCH_SK,
    L_VWAP,
    L_WILLR,
    L_WILLR_P,
)

# Return codes of the kernels.
OK = 0
REJECT_NON_FINITE = 1
REJECT_RANGE = 2
REJECT_VOLUME = 3


@njit(cache=True)
def check_bar(o: float, h: float, l: float, c: float, v: float) -> int:  # noqa: E741
    """Validate a bar before it touches the state.

    Args:
        o: Open.
        h: High.
        l: Low.
        c: Close.
        v: Volume.

    Returns:
        ``OK`` or the ``REJECT_*`` reason.
    """
    if not (
        math.isfinite(o) and math.isfinite(h) and math.isfinite(l)
        and math.isfinite(c) and math.isfinite(v)
    ):
        return REJECT_NON_FINITE
    if l > h:
        return REJECT_RANGE
    if v < 0.0:
        return REJECT_VOLUME
    return OK


@njit(cache=True)
def update_bar(st, lay, fp, o: float, h: float, l: float, c: float, v: float) -> int:  # noqa: E741
    """Apply one closed bar to every bar-driven indicator.

    Args:
        st: State vector (modified in place).
        lay: ``int64`` layout (see :mod:`~aion.tables.indicators.layout`).
        fp: ``float64`` real parameters.
        o: Open.
        h: High.
        l: Low.
        c: Close.
        v: Volume.

    Returns:
        ``OK``, or a ``REJECT_*`` code with the state untouched.
    """
    code = check_bar(o, h, l, c, v)
    if code != OK:
        return code
    t = int(st[H_BARS])
    base = lay[L_EMA_BASE]
    for i in range(lay[L_EMA_N]):
        ema.update(st, lay[base + 2 * i], lay[base + 2 * i + 1], t, c)
    base = lay[L_SMA_BASE]
    for i in range(lay[L_SMA_N]):
        sma.update(st, lay[base + 2 * i], lay[base + 2 * i + 1], t, c)
    base = lay[L_CROSS_BASE]
    for i in range(lay[L_CROSS_N]):
        j = base + 4 * i
        if t >= lay[j + 3] - 1:
            crossover.update(st, lay[j], st[lay[j + 1]], st[lay[j + 2]])
    macd.update(st, lay[L_MACD], lay[L_MACD_FAST], lay[L_MACD_SLOW], lay[L_MACD_SIGNAL], t, c)
    adx.update(st, lay[L_ADX], lay[L_ADX_P], t, h, l, c)
    aroon.update(st, lay[L_AROON], lay[L_AROON_P], t, h, l)
    sar.update(st, lay[L_SAR], fp[F_SAR_ACC], fp[F_SAR_MAX], t, h, l)
    rsi.update(st, lay[L_RSI], lay[L_RSI_P], t, c)
    stoch.update(
        st, lay[L_STOCH], lay[L_STOCH_FK], lay[L_STOCH_SK], lay[L_STOCH_SD], t, h, l, c
    )
    willr.update(st, lay[L_WILLR], lay[L_WILLR_P], t, h, l, c)
    cci.update(st, lay[L_CCI], lay[L_CCI_P], t, h, l, c)
    roc.update(st, lay[L_ROC], lay[L_ROC_P], t, c)
    bbands.update(st, lay[L_BB], lay[L_BB_P], fp[F_BB_UP], fp[F_BB_DN], t, c)
    atr.update(st, lay[L_ATR], lay[L_ATR_P], t, h, l, c)
    keltner.update(
        st, lay[L_KELT], lay[L_KELT_EMA], lay[L_KELT_ATR], fp[F_KELT_MULT], t, h, l, c
    )
    donchian.update(st, lay[L_DON], lay[L_DON_P], t, h, l)
    obv.update(st, lay[L_OBV], t, c, v)
    ad.update(st, lay[L_AD], h, l, c, v)
    cmf.update(st, lay[L_CMF], lay[L_CMF_P], t, h, l, c, v)
    mfi.update(st, lay[L_MFI], lay[L_MFI_P], t, h, l, c, v)
    st[H_BARS] = t + 1
    return OK


@njit(cache=True)
def update_bars(st, lay, fp, o, h, l, c, v) -> int:  # noqa: E741
    """Apply a run of closed bars in order (replays, backtests).

    Args:
        st: State vector.
        lay: ``int64`` layout.
        fp: ``float64`` real parameters.
        o: Opens.
        h: Highs.
        l: Lows.
        c: Closes.
        v: Volumes.

    Returns:
        The number of bars applied; it stops before the first rejected bar.
    """
    for i in range(len(c)):
        if update_bar(st, lay, fp, o[i], h[i], l[i], c[i], v[i]) != OK:
            return i
    return len(c)


@njit(cache=True)
def update_tick(st, lay, price: float, volume: float) -> int:
    """Apply one tick to the tick-driven indicators (session VWAP).

    Args:
        st: State vector.
        lay: ``int64`` layout.
        price: Last traded price.
        volume: Volume traded since the previous tick.

    Returns:
        ``OK`` or a ``REJECT_*`` code with the state untouched.
    """
    if not (math.isfinite(price) and math.isfinite(volume)):
        return REJECT_NON_FINITE
    if volume < 0.0:
        return REJECT_VOLUME
    vwap.update(st, lay[L_VWAP], price, volume)
    st[H_TICKS] += 1.0
    return OK
