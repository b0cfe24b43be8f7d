from datetime import date

import numpy as np

from aion.streams.simulator import build_universe
from aion.streams.simulator.daily import history_dates, simulate_daily_history
from aion.streams.simulator.generate import liquidity
from aion.streams.simulator.universe import Role, is_trading_day

DAY = date(2025, 11, 18)


def test_history_dates_are_the_trading_days_before():
    dates = history_dates(DAY, 60)
    assert len(dates) == 60 and dates == sorted(dates) and dates[-1] < DAY
    assert all(is_trading_day(d) for d in dates)
    # Every weekday in between that is not a holiday is present.
    assert dates[-1] == date(2025, 11, 17)


def test_daily_history_is_deterministic_and_consistent_with_the_intraday_model():
    rows = simulate_daily_history(DAY, 42, 30)
    assert rows == simulate_daily_history(DAY, 42, 30)
    assert rows != simulate_daily_history(DAY, 43, 30)
    universe = build_universe(DAY)
    _, units = liquidity(universe)
    by_symbol: dict[str, list[dict]] = {}
    for r in rows:
        by_symbol.setdefault(r["symbol"], []).append(r)
    traded = [m for m in universe.members if m.role != Role.INDEX]
    assert set(by_symbol) == {m.instrument.symbol for m in traded}
    for m, u in zip(universe.members, units, strict=True):
        if m.role == Role.INDEX:
            continue
        hist = by_symbol[m.instrument.symbol]
        assert len(hist) == 30
        assert all(r["low"] <= min(r["open"], r["close"]) <= max(r["open"], r["close"])
                   <= r["high"] for r in hist)
        assert abs(hist[-1]["close"] - m.prev_close) <= max(0.05, 0.001 * m.prev_close)
        mean = np.mean([r["volume"] for r in hist])
        assert 0.6 * u < mean < 1.5 * u  # log-normal noise around the model's daily units
