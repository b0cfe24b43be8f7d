"""Candlestick shapes against TA-Lib's CDL functions.

Agreement rule: on random bar sets built so that every shape occurs often (small and
large bodies, missing, short and long shadows), our shape on bar ``i`` equals TA-Lib's
answer (non-zero, with its sign) on every bar from TA-Lib's lookback on (11 bars for
``CDLHAMMER``, whose averages read the 10 bars before; 2 for ``CDLENGULFING``, whose
lookback is 2 though it reads one previous bar). TA-Lib's engulfing answers 100 or 80
(80 when an edge is equal); the comparison is on the sign. The
bearish pin has no TA-Lib function: it is ``CDLHAMMER`` of the price-mirrored series
(``p -> -p``, which swaps highs and lows; TA-Lib only takes differences), compared the same way.
"""

from __future__ import annotations

import numpy as np
import pytest
import talib

from aion.tables.patterns.candles import bearish_pin, engulfing, hammer, rejection
from aion.tables.patterns.features import BarRow

HAMMER_LOOKBACK = 11
ENGULFING_LOOKBACK = 2


def random_bars(seed: int, n: int = 2000) -> list[BarRow]:
    """Bars on 0.05 ticks whose bodies and shadows are each often zero, short or long."""
    rng = np.random.default_rng(seed)
    out: list[BarRow] = []
    close = 1000.0
    for i in range(n):
        open_ = round(close + rng.choice([0.0, 0.0, 0.05, -0.05, 0.5, -0.5]), 2)
        body = rng.choice([0.0, 0.05, 0.2, 1.0, 3.0]) * rng.choice([-1.0, 1.0])
        close = round(open_ + body, 2)
        upper = rng.choice([0.0, 0.0, 0.05, 0.5, 3.0])
        lower = rng.choice([0.0, 0.0, 0.05, 0.5, 3.0])
        out.append(BarRow(i * 60_000, open_, round(max(open_, close) + upper, 2),
                          round(min(open_, close) - lower, 2), close, 1.0))
    return out


def arrays(bars: list[BarRow]) -> tuple[np.ndarray, ...]:
    return tuple(np.array([getattr(b, k) for b in bars], dtype=float)
                 for k in ("open", "high", "low", "close"))


def mirrored(bars: list[BarRow], c: float = 0.0) -> list[BarRow]:
    return [BarRow(b.start_ms, c - b.open, c - b.low, c - b.high, c - b.close, b.volume)
            for b in bars]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_hammer_is_talibs_cdlhammer(seed: int) -> None:
    bars = random_bars(seed)
    ref = talib.CDLHAMMER(*arrays(bars))
    ours = [hammer(bars[:i], bars[i]) for i in range(len(bars))]
    for i in range(HAMMER_LOOKBACK, len(bars)):
        assert ours[i] == (ref[i] != 0), (i, bars[i - 1:i + 1], ref[i])
    assert sum(ours) >= 10  # the comparison is not vacuous


@pytest.mark.parametrize("seed", [4, 5])
def test_bearish_pin_is_the_hammer_of_the_mirrored_series(seed: int) -> None:
    bars = random_bars(seed)
    ref = talib.CDLHAMMER(*arrays(mirrored(bars)))
    ours = [bearish_pin(bars[:i], bars[i]) for i in range(len(bars))]
    for i in range(HAMMER_LOOKBACK, len(bars)):
        assert ours[i] == (ref[i] != 0), i
    assert sum(ours) >= 10


@pytest.mark.parametrize("seed", [6, 7])
def test_engulfing_is_talibs_cdlengulfing_with_its_sign(seed: int) -> None:
    bars = random_bars(seed)
    ref = talib.CDLENGULFING(*arrays(bars))
    ours = [engulfing(bars[i - 1], bars[i]) for i in range(ENGULFING_LOOKBACK, len(bars))]
    assert ours == [int(np.sign(r)) for r in ref[ENGULFING_LOOKBACK:]]
    assert ours.count(1) >= 20 and ours.count(-1) >= 20


def test_a_textbook_hammer_and_its_near_miss() -> None:
    # Ten bars of bodies 0 and 1, range 2 (averages: body 0.5, range 2: the upper shadow
    # must stay under 0.2, the body's bottom under the prior low + 0.4).
    prior = [BarRow(i, 100.0, 101.5, 99.5, 101.0 if i % 2 else 100.0, 1.0) for i in range(10)]
    bar = BarRow(10, 99.6, 100.05, 98.0, 100.0, 1.0)  # body 0.4, lower 1.6, upper 0.05
    assert hammer(prior, bar) and rejection(prior, bar, up=True)
    wide_top = BarRow(10, 99.6, 100.3, 98.0, 100.0, 1.0)  # upper shadow 0.3 >= 0.1 x 2
    assert not hammer(prior, wide_top)
