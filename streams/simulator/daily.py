"""Simulated daily OHLCV history for the universe of a trading date.

Feeds ``aion baselines build`` for the sample session: the 20/55-day averages of a
simulated session come from the same liquidity model (:func:`generate.liquidity`) as its
ticks, so volume ratios in a backtest sit around 1 with the injected spikes well above.
Deterministic for a given date, seed and length.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from aion.streams.simulator.generate import liquidity
from aion.streams.simulator.universe import Role, build_universe, previous_trading_day

DAILY_COLUMNS = ("date", "symbol", "open", "high", "low", "close", "volume")


def history_dates(trading_date: date, days: int) -> list[date]:
    """The ``days`` trading days before ``trading_date``, oldest first.

    Args:
        trading_date: The session the history precedes (excluded).
        days: How many trading days.

    Returns:
        Dates, oldest first.
    """
    out: list[date] = []
    d = trading_date - timedelta(days=1)
    while len(out) < days:
        d = previous_trading_day(d)
        out.append(d)
        d -= timedelta(days=1)
    return out[::-1]


def simulate_daily_history(trading_date: date, seed: int, days: int = 60) -> list[dict]:
    """Daily bars of every traded instrument (stocks, futures, options) before a date.

    Volumes are the model's typical daily units times log-normal day noise (sigma 0.35);
    closes are a random walk ending at the instrument's previous close with a daily
    volatility of 1.5 % (stocks, futures) or 6 % (options).

    Args:
        trading_date: The session date the history leads up to.
        seed: Non-negative seed.
        days: Trading days of history.

    Returns:
        Rows with :data:`DAILY_COLUMNS`, sorted by date then symbol.
    """
    universe = build_universe(trading_date)
    _, daily_units = liquidity(universe)
    rng = np.random.default_rng([seed, trading_date.toordinal(), 7])
    dates = history_dates(trading_date, days)
    rows: list[dict] = []
    for m, units in zip(universe.members, daily_units.tolist(), strict=True):
        if m.role == Role.INDEX or units <= 0:
            continue
        inst = m.instrument
        tick = inst.tick_size or 0.05
        vol = 0.06 if m.role == Role.OPTION else 0.015
        steps = rng.normal(0.0, vol, days)
        # Walk backwards from the previous close so the last daily close is it.
        closes = m.prev_close * np.exp(-np.concatenate(([0.0], np.cumsum(steps[:0:-1]))))[::-1]
        opens = closes * np.exp(rng.normal(0.0, vol / 3, days))
        spread = np.abs(rng.normal(0.0, vol / 2, days))
        highs = np.maximum(opens, closes) * (1 + spread)
        lows = np.minimum(opens, closes) * (1 - spread)
        volumes = np.round(units * rng.lognormal(-0.06, 0.35, days)).astype(np.int64)
        symbol = inst.symbol
        for i, d in enumerate(dates):
            rows.append({
                "date": d.isoformat(), "symbol": symbol,
                "open": _tick(opens[i], tick), "high": _tick(highs[i], tick),
                "low": _tick(lows[i], tick), "close": _tick(closes[i], tick),
                "volume": int(volumes[i]),
            })
    rows.sort(key=lambda r: (r["date"], r["symbol"]))
    return rows


def _tick(price: float, tick: float) -> float:
    """Price rounded to the tick (at least one tick)."""
    return round(max(round(price / tick), 1) * tick, 2)


def write_daily_csv(rows: list[dict], path: Path) -> Path:
    """Write daily rows as CSV with :data:`DAILY_COLUMNS`.

    Args:
        rows: Rows from :func:`simulate_daily_history`.
        path: Output file.

    Returns:
        The path.
    """
    path = Path(path)
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=DAILY_COLUMNS)
        w.writeheader()
        w.writerows(rows)
    return path
