"""Indicators of the engine on simulated-session bars equal TA-Lib over the same bars.

The direct driver runs the bundled sample session; for every instrument, the indicator
values its analytics hold at the end are checked against TA-Lib's batch functions over
that instrument's closed 1-minute bars (the oracle, rule 3).
"""

from __future__ import annotations

import numpy as np
import pytest
import talib

from aion.agents.backtest import instruments_csv_for
from aion.agents.direct import run_direct
from aion.streams.instruments import InstrumentMaster
from aion.streams.sample import sample_session_path


@pytest.fixture(scope="module")
def direct():
    path = sample_session_path()
    master = InstrumentMaster.from_csv(instruments_csv_for(path))
    return run_direct(path, master, partitions=4, bundle_packets=2000)


def close(ours: float, ref: float) -> bool:
    return abs(ours - ref) <= 1e-9 * max(abs(ref), 1e-6)


def test_indicators_equal_talib_on_simulated_bars(direct) -> None:
    bars: dict[int, list] = {}
    for b in direct.bars:
        bars.setdefault(b.token, []).append(b)
    checked = 0
    for token, bs in bars.items():
        bs.sort(key=lambda b: b.start_ns)
        h, lo, c = (np.array([getattr(b, f) for b in bs]) for f in ("high", "low", "close"))
        v = np.array([float(b.volume) for b in bs])
        values = direct.states[token].analytics.indicators.values()
        ref = {
            "ema_5": talib.EMA(c, 5)[-1], "ema_20": talib.EMA(c, 20)[-1],
            "sma_20": talib.SMA(c, 20)[-1], "rsi": talib.RSI(c, 14)[-1],
            "atr": talib.ATR(h, lo, c, 14)[-1], "cci": talib.CCI(h, lo, c, 20)[-1],
            "williams_r": talib.WILLR(h, lo, c, 14)[-1], "roc": talib.ROC(c, 10)[-1],
            "obv": talib.OBV(c, v)[-1], "ad": talib.AD(h, lo, c, v)[-1],
            "mfi": talib.MFI(h, lo, c, v, 14)[-1], "adx": talib.ADX(h, lo, c, 14)[-1],
            "psar": talib.SAR(h, lo, 0.02, 0.2)[-1],
        }
        macd, signal, hist = talib.MACD(c, 12, 26, 9)
        up, mid, low_b = talib.BBANDS(c, 20, 2.0, 2.0)
        for name, want in ref.items():
            if np.isnan(want):
                assert name not in values, (token, name)
                continue
            assert close(values[name], want), (token, name, values[name], want)
            checked += 1
        if not np.isnan(macd[-1]):
            assert close(values["macd"]["macd"], macd[-1])
            assert close(values["macd"]["signal"], signal[-1])
            assert abs(values["macd"]["histogram"] - hist[-1]) <= 1e-9 * abs(macd[-1])
        if not np.isnan(up[-1]):
            assert close(values["bollinger_bands"]["upper"], up[-1])
            assert close(values["bollinger_bands"]["lower"], low_b[-1])
            assert close(values["bollinger_bands"]["middle"], mid[-1])
    # Every instrument of the sample trades (wide option chains: count from its master).
    n = len(InstrumentMaster.from_csv(instruments_csv_for(sample_session_path())))
    assert len(bars) == n and checked > 5 * n
