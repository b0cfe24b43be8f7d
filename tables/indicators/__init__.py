"""Incremental technical indicators, exact against TA-Lib, one flat state per instrument.

One module per indicator holds its update rule (a small ``@njit`` function over a
block of the flat state vector) and documents its seeding convention;
:mod:`~aion.tables.indicators.kernel` composes them into one compiled per-bar kernel
and :class:`~aion.tables.indicators.indicator_set.IndicatorSet` is the Python face.
Pure: no clock, no I/O; same inputs, same state byte for byte.
"""

from aion.tables.indicators.indicator_set import IndicatorSet
from aion.tables.indicators.params import (
    BollingerParams,
    IndicatorParams,
    KeltnerParams,
    MacdParams,
    PsarParams,
    StochParams,
)

__all__ = [
    "BollingerParams",
    "IndicatorParams",
    "IndicatorSet",
    "KeltnerParams",
    "MacdParams",
    "PsarParams",
    "StochParams",
]
