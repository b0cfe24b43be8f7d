"""20- and 55-session volume and price averages, and Turtle breakout readiness.

The reference keeps, per instrument, ``avg_volume_20d``, ``avg_volume_55d``,
``avg_price_20d``, ``avg_price_55d`` and ``turtle_ready`` (README "Volume Averages"),
regenerated from daily OHLC history before the market opens. This module is the pure
computation for one symbol; reading files and writing JSON/Redis live in
``aion.agents.daily_history``.

Definitions (all windows count *sessions*, i.e. rows of the history, not calendar days,
so holidays and weekends never shrink a window):

* **Window**: the last ``N`` rows whose date is at or before the as-of day (the last row
  by default). ``N`` is 20 or 55; the numbers are part of the field names the dashboards
  read, so they are constants, not parameters.
* **avg_volume_Nd**: arithmetic mean of the daily volume over the window. Zero-volume
  sessions (a suspended or illiquid day) count as zeros: they *are* sessions the stock was
  listed for, and dropping them would overstate its liquidity.
* **avg_price_Nd**: arithmetic mean of the daily **close** over the window. Close rather
  than typical price ``(H+L+C)/3`` because consumers compare it with traded prices (LTP,
  breakout levels) and the close is a price that actually traded in size (NSE's close is
  the VWAP of the last 30 minutes), while H and L are single prints that one erroneous
  or tiny trade can move; typical price is an indicator input (CCI, pivots), not a level.
* **Fewer sessions than the window**: the average is taken over the sessions that exist
  and ``days_20d`` / ``days_55d`` say how many that was (``complete_20d`` /
  ``complete_55d`` say whether the window is full). Below ``min_days`` sessions (default
  1) the averages are ``None``. A partial average is still the best available baseline
  for a recent listing, and the counts let a consumer refuse it.
* **turtle_ready** (Turtle System 2, the 55-day breakout): with ``H55`` / ``L55`` the
  highest high / lowest low of the last 55 sessions including the as-of session (the
  channel the *next* session must pierce to trigger a System 2 entry), and ``C`` the
  as-of close::

      turtle_ready = days_available >= 55 and (
          C >= H55 * (1 - turtle_proximity)      # side "long"
          or C <= L55 * (1 + turtle_proximity))  # side "short"

  with ``turtle_proximity = 0.02`` (2 %) by default. So a symbol is "ready" when it has
  a full 55-session channel and closed within 2 % of one edge, i.e. a modest move
  tomorrow is a 55-day breakout. If both edges are within reach (a channel narrower than
  about 4 %), the nearer edge names the side; ties go long. With fewer than 55 sessions
  ``turtle_ready`` is False and ``turtle_side`` None, while ``high_55d``/``low_55d``
  still report the partial channel.

Sums use :func:`math.fsum` (correctly rounded), so results do not depend on numpy's
pairwise summation order and are the same on every platform.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from aion.tables.timeutil import day_to_iso

SHORT_WINDOW = 20
"""Sessions in the short window (``*_20d`` fields)."""
LONG_WINDOW = 55
"""Sessions in the long window (``*_55d`` fields) and the Turtle System 2 channel."""

__all__ = [
    "LONG_WINDOW",
    "SHORT_WINDOW",
    "AveragesParams",
    "DailySeries",
    "VolumeAverages",
    "compute_averages",
]


@dataclass(frozen=True, slots=True)
class AveragesParams:
    """Tunables of :func:`compute_averages`.

    Attributes:
        min_days: Fewest sessions for which averages are reported; below it they are
            ``None``. Default 1: any history gives a (flagged) partial average.
        turtle_proximity: Fraction of the 55-session high/low within which the as-of
            close counts as ready to break out (0.02 = 2 %).
    """

    min_days: int = 1
    turtle_proximity: float = 0.02

    def __post_init__(self) -> None:
        if self.min_days < 1:
            raise ValueError(f"min_days must be >= 1, got {self.min_days}")
        if not 0.0 <= self.turtle_proximity < 1.0:
            raise ValueError(f"turtle_proximity must be in [0, 1), got {self.turtle_proximity}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> AveragesParams:
        """Build params from a plain mapping (the ``volume_averages:`` YAML section).

        Args:
            data: Keys ``min_days`` and/or ``turtle_proximity``; missing keys keep their
                defaults, ``None`` means all defaults.

        Returns:
            The params.

        Raises:
            ValueError: On an unknown key (a typo would otherwise be silently ignored) or
                an out-of-range value.
        """
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(
                f"unknown volume_averages setting(s) {unknown}; known: {sorted(known)}"
            )
        kwargs: dict[str, Any] = {}
        if "min_days" in data:
            kwargs["min_days"] = int(data["min_days"])
        if "turtle_proximity" in data:
            kwargs["turtle_proximity"] = float(data["turtle_proximity"])
        return cls(**kwargs)


@dataclass(frozen=True, slots=True, eq=False)
class DailySeries:
    """One symbol's daily OHLCV history, sorted by date, one row per session.

    Attributes:
        symbol: ``EXCHANGE:TRADINGSYMBOL``.
        days: IST epoch-day numbers (see ``timeutil.ist_day``), strictly increasing.
        open: Opening prices.
        high: Session highs.
        low: Session lows.
        close: Closing prices.
        volume: Session volumes (shares/contracts), non-negative.
    """

    symbol: str
    days: npt.NDArray[np.int64]
    open: npt.NDArray[np.float64]
    high: npt.NDArray[np.float64]
    low: npt.NDArray[np.float64]
    close: npt.NDArray[np.float64]
    volume: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.days)


@dataclass(frozen=True, slots=True)
class VolumeAverages:
    """Averages of one symbol as of one session (see the module docstring).

    Attributes:
        symbol: ``EXCHANGE:TRADINGSYMBOL``.
        as_of: ISO date of the last session used.
        days_available: Sessions of history up to and including ``as_of``.
        days_20d: Sessions actually averaged for the ``*_20d`` fields (<= 20).
        days_55d: Sessions actually averaged for the ``*_55d`` fields (<= 55).
        avg_volume_20d: Mean volume over the short window, or None below ``min_days``.
        avg_volume_55d: Mean volume over the long window, or None below ``min_days``.
        avg_price_20d: Mean close over the short window, or None below ``min_days``.
        avg_price_55d: Mean close over the long window, or None below ``min_days``.
        last_close: Close of the ``as_of`` session.
        high_55d: Highest high over the long window (partial if fewer sessions).
        low_55d: Lowest low over the long window (partial if fewer sessions).
        turtle_ready: 55-day breakout readiness.
        turtle_side: ``"long"`` / ``"short"`` when ready, else None.
    """

    symbol: str
    as_of: str
    days_available: int
    days_20d: int
    days_55d: int
    avg_volume_20d: float | None
    avg_volume_55d: float | None
    avg_price_20d: float | None
    avg_price_55d: float | None
    last_close: float
    high_55d: float
    low_55d: float
    turtle_ready: bool
    turtle_side: str | None

    @property
    def complete_20d(self) -> bool:
        """Whether the short window is full (20 sessions)."""
        return self.days_20d == SHORT_WINDOW

    @property
    def complete_55d(self) -> bool:
        """Whether the long window is full (55 sessions)."""
        return self.days_55d == LONG_WINDOW

    def to_dict(self) -> dict[str, Any]:
        """The JSON entry for this symbol (without the symbol, which is the JSON key).

        Returns:
            A dict of plain JSON types, keys in sorted order.
        """
        out: dict[str, Any] = {
            "as_of": self.as_of,
            "avg_price_20d": self.avg_price_20d,
            "avg_price_55d": self.avg_price_55d,
            "avg_volume_20d": self.avg_volume_20d,
            "avg_volume_55d": self.avg_volume_55d,
            "complete_20d": self.complete_20d,
            "complete_55d": self.complete_55d,
            "days_20d": self.days_20d,
            "days_55d": self.days_55d,
            "days_available": self.days_available,
            "high_55d": self.high_55d,
            "last_close": self.last_close,
            "low_55d": self.low_55d,
            "turtle_ready": self.turtle_ready,
            "turtle_side": self.turtle_side,
        }
        return out


def _mean(values: npt.NDArray[np.float64]) -> float:
    # fsum is correctly rounded: the result is independent of summation order.
    return math.fsum(values.tolist()) / len(values)


def compute_averages(
    series: DailySeries,
    params: AveragesParams | None = None,
    *,
    as_of_day: int | None = None,
) -> VolumeAverages | None:
    """Compute one symbol's averages from its daily history.

    Args:
        series: The symbol's history, sorted by day with one row per session.
        params: Tunables; defaults if None.
        as_of_day: Use only sessions on or before this IST epoch-day (for backtests:
            pass the day *before* the simulated session to avoid look-ahead). None uses
            the whole history.

    Returns:
        The averages, or None when no session is at or before ``as_of_day``.

    Raises:
        ValueError: If days are not strictly increasing, the arrays differ in length, or
            a value is NaN/infinite, a price non-positive or a volume negative (the loader
            reports such rows with file and row; this guard keeps the function total).
    """
    params = params or AveragesParams()
    days = np.asarray(series.days, dtype=np.int64)
    n_all = len(days)
    arrays = {
        "high": np.asarray(series.high, dtype=np.float64),
        "low": np.asarray(series.low, dtype=np.float64),
        "close": np.asarray(series.close, dtype=np.float64),
        "volume": np.asarray(series.volume, dtype=np.float64),
    }
    for name, arr in arrays.items():
        if len(arr) != n_all:
            raise ValueError(f"{series.symbol}: {name} has {len(arr)} rows, days has {n_all}")
    if n_all > 1 and not bool(np.all(np.diff(days) > 0)):
        raise ValueError(f"{series.symbol}: days must be strictly increasing")

    # Rows on or before as_of_day: a prefix, since days are sorted.
    n = n_all if as_of_day is None else int(np.searchsorted(days, as_of_day, side="right"))
    if n == 0:
        return None
    long_start = max(0, n - LONG_WINDOW)
    short_start = max(0, n - SHORT_WINDOW)
    high = arrays["high"][long_start:n]
    low = arrays["low"][long_start:n]
    close = arrays["close"][long_start:n]
    volume = arrays["volume"][long_start:n]
    # Only the rows that feed the result are checked: history older than 55 sessions
    # cannot change it, so it must not be able to fail it either.
    for name, arr in (("high", high), ("low", low), ("close", close), ("volume", volume)):
        if not bool(np.all(np.isfinite(arr))):
            raise ValueError(f"{series.symbol}: non-finite {name}")
    if bool(np.any(volume < 0)):
        raise ValueError(f"{series.symbol}: negative volume")
    if bool(np.any(close <= 0)) or bool(np.any(low <= 0)):
        raise ValueError(f"{series.symbol}: non-positive price")

    days_55 = n - long_start
    days_20 = n - short_start
    short_off = short_start - long_start
    enough = n >= params.min_days
    avg_v20 = _mean(volume[short_off:]) if enough else None
    avg_v55 = _mean(volume) if enough else None
    avg_p20 = _mean(close[short_off:]) if enough else None
    avg_p55 = _mean(close) if enough else None

    last_close = float(close[-1])
    high_55 = float(high.max())
    low_55 = float(low.min())
    side: str | None = None
    if n >= LONG_WINDOW:
        near_high = last_close >= high_55 * (1.0 - params.turtle_proximity)
        near_low = last_close <= low_55 * (1.0 + params.turtle_proximity)
        if near_high and near_low:
            # Both edges within reach: the nearer one is the likelier breakout.
            side = "long" if high_55 - last_close <= last_close - low_55 else "short"
        elif near_high:
            side = "long"
        elif near_low:
            side = "short"

    return VolumeAverages(
        symbol=series.symbol,
        as_of=day_to_iso(int(days[n - 1])),
        days_available=n,
        days_20d=days_20,
        days_55d=days_55,
        avg_volume_20d=avg_v20,
        avg_volume_55d=avg_v55,
        avg_price_20d=avg_p20,
        avg_price_55d=avg_p55,
        last_close=last_close,
        high_55d=high_55,
        low_55d=low_55,
        turtle_ready=side is not None,
        turtle_side=side,
    )
