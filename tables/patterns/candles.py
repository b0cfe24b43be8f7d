"""Candlestick shapes the ICT detectors read as a rejection, defined as TA-Lib defines them.

* **Hammer** (TA-Lib ``CDLHAMMER``, default candle settings) on bar ``i``: a small real
  body (below the mean real body of bars ``i-10 .. i-1``), a lower shadow longer than the
  body, an upper shadow shorter than 0.1 x the mean high-low range of bars
  ``i-10 .. i-1``, and the body's bottom at most 0.2 x the mean range of bars
  ``i-6 .. i-2`` above the previous bar's low (a body near the prior lows).
* **Bearish pin**: the hammer of the price-mirrored bars (every price negated, so highs
  and lows swap): a small body, a long upper shadow, a tiny lower shadow, the body's top
  near the previous bar's high. TA-Lib has no such function (its shooting star also asks
  for a gap), so it is tested as ``CDLHAMMER`` of the mirrored series.
* **Engulfing** (TA-Lib ``CDLENGULFING``): colours ``close >= open`` white, else black;
  a white body engulfs the previous black one when ``close >= prev.open and open <
  prev.close`` or ``close > prev.open and open <= prev.close`` (bullish), and mirrored
  for a black body over a white one (bearish).

Each reads the bar and the bars before it only, so a shape is known at the bar's close.
"""

from __future__ import annotations

from collections.abc import Sequence

from aion.tables.patterns.features import BarRow

AVG_BARS = 10
"""Bars of TA-Lib's body and range averages (BodyShort, ShadowVeryShort)."""

NEAR_BARS = 5
"""Bars of TA-Lib's Near average (ending two bars back)."""


def _mirror(b: BarRow) -> BarRow:
    return BarRow(b.start_ms, -b.open, -b.low, -b.high, -b.close, b.volume, b.multiplier)


def _body(b: BarRow) -> float:
    return abs(b.close - b.open)


def hammer(prior: Sequence[BarRow], bar: BarRow) -> bool:
    """TA-Lib's hammer (module docstring) on ``bar``.

    Args:
        prior: Bars before it, oldest first (at least :data:`AVG_BARS` for an answer).
        bar: The bar.

    Returns:
        Whether it is a hammer (False with too little history).
    """
    if len(prior) < AVG_BARS:
        return False
    back = prior[-AVG_BARS:]
    avg_body = sum(_body(b) for b in back) / AVG_BARS
    avg_range = sum(b.high - b.low for b in back) / AVG_BARS
    near = prior[-NEAR_BARS - 1:-1]
    near_range = sum(b.high - b.low for b in near) / NEAR_BARS
    body = _body(bar)
    bottom, top = min(bar.open, bar.close), max(bar.open, bar.close)
    return (body < avg_body and bottom - bar.low > body
            and bar.high - top < 0.1 * avg_range
            and bottom <= prior[-1].low + 0.2 * near_range)


def bearish_pin(prior: Sequence[BarRow], bar: BarRow) -> bool:
    """The mirrored hammer (module docstring): a rejection of higher prices."""
    return hammer([_mirror(b) for b in prior[-AVG_BARS:]], _mirror(bar))


def engulfing(prev: BarRow, bar: BarRow) -> int:
    """TA-Lib's engulfing (module docstring).

    Returns:
        ``1`` bullish, ``-1`` bearish, ``0`` none.
    """
    white, prev_white = bar.close >= bar.open, prev.close >= prev.open
    if white and not prev_white and (
            (bar.close >= prev.open and bar.open < prev.close)
            or (bar.close > prev.open and bar.open <= prev.close)):
        return 1
    if not white and prev_white and (
            (bar.open >= prev.close and bar.close < prev.open)
            or (bar.open > prev.close and bar.close <= prev.open)):
        return -1
    return 0


def rejection(prior: Sequence[BarRow], bar: BarRow, up: bool) -> bool:
    """A rejection candle: hammer or bullish engulfing, or bearish pin or bearish engulfing.

    Args:
        prior: Bars before ``bar``, oldest first.
        bar: The bar.
        up: Rejection of lower prices (True) or of higher prices.

    Returns:
        Whether the bar rejects that side.
    """
    if not prior:
        return False
    if engulfing(prior[-1], bar) == (1 if up else -1):
        return True
    return hammer(prior, bar) if up else bearish_pin(prior, bar)
