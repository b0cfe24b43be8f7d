"""Where each indicator lives in the flat state vector, computed from the params.

The state of a whole :class:`~aion.tables.indicators.indicator_set.IndicatorSet` is
one ``float64`` vector: a two-slot header (bars applied, ticks applied) followed by
one block per indicator, each block laid out by its own module. :func:`build`
returns the block offsets plus the two small arrays the compiled kernel reads:
``lay`` (``int64``: offsets and integer periods, at the ``L_*`` indices below, then
the variable-length EMA / SMA / crossover tables) and ``fp`` (``float64``: the
real-valued parameters at the ``F_*`` indices). The layout is a pure function of the
params, so a serialized state can be checked against the params it is loaded with.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

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
from aion.tables.indicators.params import IndicatorParams

# Header slots of the state vector.
H_BARS = 0
H_TICKS = 1
HEADER = 2

# Fixed positions in ``lay``.
L_EMA_N, L_EMA_BASE, L_SMA_N, L_SMA_BASE, L_CROSS_N, L_CROSS_BASE = range(6)
(
    L_MACD, L_MACD_FAST, L_MACD_SLOW, L_MACD_SIGNAL,
    L_ADX, L_ADX_P, L_AROON, L_AROON_P, L_SAR, L_RSI, L_RSI_P,
    L_STOCH, L_STOCH_FK, L_STOCH_SK, L_STOCH_SD, L_WILLR, L_WILLR_P,
    L_CCI, L_CCI_P, L_ROC, L_ROC_P, L_BB, L_BB_P, L_ATR, L_ATR_P,
    L_KELT, L_KELT_EMA, L_KELT_ATR, L_DON, L_DON_P, L_OBV, L_AD,
    L_CMF, L_CMF_P, L_MFI, L_MFI_P, L_VWAP,
) = range(6, 43)
L_FIXED = 43

# Positions in ``fp``.
F_SAR_ACC, F_SAR_MAX, F_BB_UP, F_BB_DN, F_KELT_MULT = range(5)
F_SIZE = 5


@dataclass(frozen=True)
class Layout:
    """Offsets of every block and the kernel's parameter arrays.

    Attributes:
        size: Length of the state vector.
        lay: ``int64`` offsets/periods for the kernel.
        fp: ``float64`` real parameters for the kernel.
        ema: ``(period, offset)`` per EMA, ascending period.
        sma: ``(period, offset)`` per SMA.
        cross: ``(fast, slow, offset)`` per crossover.
        off: Offset per single indicator name (``"macd"``, ``"adx"``, ...).
    """

    size: int
    lay: npt.NDArray[np.int64]
    fp: npt.NDArray[np.float64]
    ema: tuple[tuple[int, int], ...]
    sma: tuple[tuple[int, int], ...]
    cross: tuple[tuple[int, int, int], ...]
    off: dict[str, int]


def build(p: IndicatorParams) -> Layout:
    """Lay out the state vector for ``p``.

    Args:
        p: Validated params.

    Returns:
        The layout.
    """
    pos = HEADER

    def alloc(n: int) -> int:
        nonlocal pos
        start = pos
        pos += n
        return start

    emas = tuple((per, alloc(ema.SIZE)) for per in p.ema_periods)
    ema_off = dict(emas)
    smas = tuple((per, alloc(sma.size(per))) for per in p.sma_periods)
    crosses = tuple((f, s, alloc(crossover.SIZE)) for f, s in p.ema_crossovers)
    st = p.stoch
    kp = p.keltner
    off = {
        "macd": alloc(macd.SIZE),
        "adx": alloc(adx.SIZE),
        "aroon": alloc(aroon.size(p.aroon)),
        "psar": alloc(sar.SIZE),
        "rsi": alloc(rsi.SIZE),
        "stoch": alloc(stoch.size(st.fastk, st.slowk, st.slowd)),
        "williams_r": alloc(willr.size(p.williams_r)),
        "cci": alloc(cci.size(p.cci)),
        "roc": alloc(roc.size(p.roc)),
        "bollinger_bands": alloc(bbands.size(p.bollinger_bands.period)),
        "atr": alloc(atr.SIZE),
        "keltner": alloc(keltner.SIZE),
        "donchian": alloc(donchian.size(p.donchian)),
        "obv": alloc(obv.SIZE),
        "ad": alloc(ad.SIZE),
        "cmf": alloc(cmf.size(p.cmf)),
        "mfi": alloc(mfi.size(p.mfi)),
        "vwap": alloc(vwap.SIZE),
    }
    fixed = [0] * L_FIXED
    ema_base = L_FIXED
    sma_base = ema_base + 2 * len(emas)
    cross_base = sma_base + 2 * len(smas)
    fixed[L_EMA_N], fixed[L_EMA_BASE] = len(emas), ema_base
    fixed[L_SMA_N], fixed[L_SMA_BASE] = len(smas), sma_base
    fixed[L_CROSS_N], fixed[L_CROSS_BASE] = len(crosses), cross_base
    for idx, value in (
        (L_MACD, off["macd"]), (L_MACD_FAST, p.macd.fast), (L_MACD_SLOW, p.macd.slow),
        (L_MACD_SIGNAL, p.macd.signal), (L_ADX, off["adx"]), (L_ADX_P, p.adx),
        (L_AROON, off["aroon"]), (L_AROON_P, p.aroon), (L_SAR, off["psar"]),
        (L_RSI, off["rsi"]), (L_RSI_P, p.rsi), (L_STOCH, off["stoch"]),
        (L_STOCH_FK, st.fastk), (L_STOCH_SK, st.slowk), (L_STOCH_SD, st.slowd),
        (L_WILLR, off["williams_r"]), (L_WILLR_P, p.williams_r),
        (L_CCI, off["cci"]), (L_CCI_P, p.cci), (L_ROC, off["roc"]), (L_ROC_P, p.roc),
        (L_BB, off["bollinger_bands"]), (L_BB_P, p.bollinger_bands.period),
        (L_ATR, off["atr"]), (L_ATR_P, p.atr), (L_KELT, off["keltner"]),
        (L_KELT_EMA, kp.ema_period), (L_KELT_ATR, kp.atr_period),
        (L_DON, off["donchian"]), (L_DON_P, p.donchian), (L_OBV, off["obv"]),
        (L_AD, off["ad"]), (L_CMF, off["cmf"]), (L_CMF_P, p.cmf),
        (L_MFI, off["mfi"]), (L_MFI_P, p.mfi), (L_VWAP, off["vwap"]),
    ):
        fixed[idx] = value
    tables: list[int] = []
    for per, o in emas:
        tables += [o, per]
    for per, o in smas:
        tables += [o, per]
    for f, s, o in crosses:
        tables += [o, ema_off[f], ema_off[s], max(f, s)]
    lay = np.asarray(fixed + tables, dtype=np.int64)
    fp = np.zeros(F_SIZE, dtype=np.float64)
    fp[F_SAR_ACC] = p.psar.acceleration
    fp[F_SAR_MAX] = p.psar.maximum
    fp[F_BB_UP] = p.bollinger_bands.nbdev_up
    fp[F_BB_DN] = p.bollinger_bands.nbdev_dn
    fp[F_KELT_MULT] = p.keltner.multiplier
    lay.setflags(write=False)
    fp.setflags(write=False)
    return Layout(pos, lay, fp, emas, smas, crosses, off)
