"""Risk metrics of a pattern hit: expected move, target, ATR stop, turtle size, reward/risk.

The reference's ``RiskManager.calculate_risk_metrics``, made pure and exact. Inputs are
the signal, the price it fired on, the pattern's expected move and price change (both
in percent), the ATR ``N``, the instrument's lot size and point value, and a
:class:`RiskConfig`. Definitions, in order:

* **Direction** from the signal (case and surrounding blanks ignored): ``BULLISH``,
  ``BUY``, ``LONG`` give +1; ``BEARISH``, ``SELL``, ``SHORT`` give -1; ``NEUTRAL``
  gives 0. Anything else raises ``ValueError`` (a detector emitting an unknown signal is
  a bug, not a market condition). The reference treats every non-bearish signal,
  NEUTRAL included, as bullish; we do not: a NEUTRAL hit (straddles, range days) has no
  directional target or stop, so ``target_price = stop_loss = last_price``, distances,
  amounts, ``rr_ratio`` and ``quantity`` are 0. Its risk is the premium, sized with
  :func:`capped_quantity` against ``max_risk_fraction`` by the strategy itself.
* **Expected move** (decimal ``m``, never negative): ``|normalise_expected_move(
  expected_move)|``; if that is 0, the same of ``price_change`` (the reference's
  fallback); if that is 0 too, of ``config.default_expected_move`` (0.0 by default: no
  invented target, the reference's behaviour). The direction comes from the signal and
  only the magnitude from the move, so a BEARISH hit with ``price_change = -1.2`` gets a
  target 1.2 % *below*. ``expected_move_percent = 100 * m`` (1.5 for the reference's
  example). ``move_source`` names which input gave it (``"expected_move"``,
  ``"price_change"``, ``"default"``, or ``"none"`` when all were 0).
* **Target** ``target_price = last_price * (1 + direction * m)``, floored at 0.0 (a
  bearish move of 100 % or more cannot take a price below zero).
* **Stop** ``stop_loss = last_price - direction * stop_atr_multiple * N``: below the
  price for BUY, above it for SELL (2N with the defaults, the turtle stop); a BUY stop
  is floored at 0.0. **Before ATR is known** (``atr_n`` None, NaN, 0 or negative: the
  20-bar Wilder ATR of ``tables/indicators/atr.py`` has its first value at bar index
  ``atr_period``, the 21st bar, because the first true range needs a previous close)
  the stop distance falls back to ``fallback_stop_percent`` of the price (1 % by
  default) and ``stop_basis`` says ``"fallback"`` instead of ``"atr"``.
* **Quantity** (turtle unit, only when N is known and the signal has a direction):
  ``unit = risk_per_trade * capital / (N * point_value)``, rounded *down* to a multiple
  of ``lot_size`` (F&O: NFO lots, e.g. 75 for NIFTY); ``lot_size`` 0 or 1 (indices,
  cash equity) floors to whole units. Quantities are in units as Kite counts them
  (shares, or contract units in multiples of the lot), so ``point_value`` is rupees per
  point per unit, 1.0 on NSE and NFO. If float rounding made ``quantity * N *
  point_value`` exceed the budget, one lot is taken off, so the budget always holds.
  With N unknown the quantity is 0: there is nothing to size by.
* **Amounts** ``stop_distance = |last_price - stop_loss|``, ``reward_distance =
  |target_price - last_price|``, ``risk_amount = quantity * stop_distance *
  point_value``, ``reward_amount = quantity * reward_distance * point_value`` (rupees).
  A full turtle unit stopped out at 2N loses ``stop_atr_multiple * risk_per_trade`` of
  capital (2 % with the defaults): the 1 % is per N of adverse move.
* **Reward/risk** ``rr_ratio = reward_distance / stop_distance``, 0.0 when the stop
  distance is 0. Per unit, so it is defined even when the quantity is 0 (the
  reference's ``reward_amount / risk_amount`` gives the same number whenever the
  quantity is positive).

``max_risk_fraction`` (3 % of capital) is the per-trade cap of the straddle strategies
(``kow_signal_straddle``), separate from the turtle unit: :func:`capped_quantity` with
:attr:`RiskConfig.max_risk_amount`. ``atr_period`` is the N detectors must pass in; this
module does not compute ATR.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from aion.tables.patterns.mathematics import normalise_expected_move

BULLISH_SIGNALS = frozenset({"BULLISH", "BUY", "LONG"})
BEARISH_SIGNALS = frozenset({"BEARISH", "SELL", "SHORT"})
NEUTRAL_SIGNALS = frozenset({"NEUTRAL"})

MOVE_EXPECTED = "expected_move"
MOVE_PRICE_CHANGE = "price_change"
MOVE_DEFAULT = "default"
MOVE_NONE = "none"

STOP_ATR = "atr"
STOP_FALLBACK = "fallback"
STOP_NONE = "none"


def _positive(name: str, value: float) -> None:
    if not (math.isfinite(value) and value > 0.0):
        raise ValueError(f"{name} must be a finite positive number, got {value!r}")


@dataclass(frozen=True, slots=True)
class RiskConfig:
    """Risk tunables (the ``risk:`` YAML section).

    Attributes:
        capital: Trading capital in rupees.
        risk_per_trade: Fraction of capital one turtle unit risks per N of adverse move.
        max_risk_fraction: Cap of the capital at risk per straddle trade (0.03 = 3 %).
        atr_period: Period of the Wilder ATR that is N (detectors pass N in).
        stop_atr_multiple: Stop distance in N (2.0: the turtle 2N stop).
        default_expected_move: Expected move in percent when neither the pattern's
            expected move nor its price change gives one (0.0: none).
        fallback_stop_percent: Stop distance in percent of the price while N is unknown.
    """

    capital: float = 1_000_000.0
    risk_per_trade: float = 0.01
    max_risk_fraction: float = 0.03
    atr_period: int = 20
    stop_atr_multiple: float = 2.0
    default_expected_move: float = 0.0
    fallback_stop_percent: float = 1.0

    def __post_init__(self) -> None:
        _positive("capital", self.capital)
        _positive("stop_atr_multiple", self.stop_atr_multiple)
        _positive("fallback_stop_percent", self.fallback_stop_percent)
        for name in ("risk_per_trade", "max_risk_fraction"):
            value = getattr(self, name)
            if not (math.isfinite(value) and 0.0 < value <= 1.0):
                raise ValueError(f"{name} must be a fraction in (0, 1], got {value!r}")
        if isinstance(self.atr_period, bool) or not isinstance(self.atr_period, int) \
                or self.atr_period < 1:
            raise ValueError(f"atr_period must be a positive integer, got {self.atr_period!r}")
        if not (math.isfinite(self.default_expected_move) and self.default_expected_move >= 0):
            raise ValueError(
                f"default_expected_move must be a finite number >= 0 (percent), "
                f"got {self.default_expected_move!r}"
            )

    @property
    def risk_budget(self) -> float:
        """Rupees one turtle unit risks per N: ``risk_per_trade * capital``."""
        return self.risk_per_trade * self.capital

    @property
    def max_risk_amount(self) -> float:
        """Rupees at risk allowed per straddle trade: ``max_risk_fraction * capital``."""
        return self.max_risk_fraction * self.capital

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> RiskConfig:
        """Build the config from a plain mapping, e.g. the ``risk:`` YAML section.

        Args:
            data: Any of the attribute names; missing keys keep defaults; None means all
                defaults.

        Returns:
            The config.

        Raises:
            ValueError: On unknown keys or invalid values, with the offending name.
        """
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown risk setting(s) {unknown}; known: {sorted(known)}")
        values: dict[str, Any] = {}
        for name, value in data.items():
            if name == "atr_period":
                if isinstance(value, bool) or not isinstance(value, int):
                    raise ValueError(f"atr_period must be an integer, got {value!r}")
                values[name] = value
            else:
                try:
                    values[name] = float(value)
                except (TypeError, ValueError):
                    raise ValueError(f"{name} must be a number, got {value!r}") from None
        return cls(**values)


@dataclass(frozen=True, slots=True)
class RiskMetrics:
    """Risk metrics of one pattern hit (see the module docstring for each definition).

    Attributes:
        signal: The signal, upper-cased.
        direction: +1 bullish, -1 bearish, 0 neutral.
        entry_price: The price the pattern fired on (``last_price``).
        expected_move: Expected move as a non-negative decimal (0.015 = 1.5 %).
        expected_move_percent: The same in percent (1.5).
        move_source: ``"expected_move"``, ``"price_change"``, ``"default"`` or ``"none"``.
        target_price: Direction-aware target.
        stop_loss: Stop on the side opposite the target.
        stop_basis: ``"atr"`` (N known), ``"fallback"`` (percent stop) or ``"none"``
            (neutral signal).
        atr_n: The N used, or None when unknown.
        quantity: Units to trade (a multiple of the lot for F&O); 0 when not sized.
        lot_size: The lot size rounded to (1 for indices and cash equity).
        stop_distance: ``|entry_price - stop_loss|``.
        reward_distance: ``|target_price - entry_price|``.
        risk_amount: Rupees lost at the stop.
        reward_amount: Rupees gained at the target.
        rr_ratio: ``reward_distance / stop_distance``, 0.0 when the stop distance is 0.
    """

    signal: str
    direction: int
    entry_price: float
    expected_move: float
    expected_move_percent: float
    move_source: str
    target_price: float
    stop_loss: float
    stop_basis: str
    atr_n: float | None
    quantity: int
    lot_size: int
    stop_distance: float
    reward_distance: float
    risk_amount: float
    reward_amount: float
    rr_ratio: float


def signal_direction(signal: str) -> int:
    """Trade direction of a signal.

    Args:
        signal: ``BULLISH``/``BUY``/``LONG``, ``BEARISH``/``SELL``/``SHORT`` or
            ``NEUTRAL`` (any case, blanks around ignored).

    Returns:
        +1, -1 or 0.

    Raises:
        ValueError: For any other signal.
    """
    s = str(signal).strip().upper()
    if s in BULLISH_SIGNALS:
        return 1
    if s in BEARISH_SIGNALS:
        return -1
    if s in NEUTRAL_SIGNALS:
        return 0
    known = sorted(BULLISH_SIGNALS | BEARISH_SIGNALS | NEUTRAL_SIGNALS)
    raise ValueError(f"unknown signal {signal!r}; known: {known}")


def capped_quantity(risk_per_unit: float, lot_size: int, budget: float) -> int:
    """Largest whole number of lots whose risk stays within a budget, in units.

    Args:
        risk_per_unit: Rupees one unit risks (turtle: ``N * point_value``; a straddle:
            premium collected per unit times the stop fraction).
        lot_size: Units per lot; 0 or 1 sizes in whole units.
        budget: Rupees that may be risked.

    Returns:
        ``floor(budget / risk_per_unit / lot) * lot`` units, reduced by one lot if float
        rounding put ``quantity * risk_per_unit`` above the budget; 0 when
        ``risk_per_unit`` is not a finite positive number or the budget is not positive.

    Raises:
        ValueError: If ``lot_size`` is negative.
    """
    if lot_size < 0:
        raise ValueError(f"lot_size must be >= 0, got {lot_size!r}")
    if not (math.isfinite(risk_per_unit) and risk_per_unit > 0.0):
        return 0
    if not (math.isfinite(budget) and budget > 0.0):
        return 0
    lot = max(int(lot_size), 1)
    quantity = math.floor(budget / risk_per_unit / lot) * lot
    while quantity > 0 and quantity * risk_per_unit > budget:
        quantity -= lot
    return int(quantity)


def turtle_quantity(atr_n: float | None, lot_size: int, point_value: float,
                    config: RiskConfig) -> int:
    """Turtle unit: ``risk_per_trade * capital / (N * point_value)``, rounded down to lots.

    Args:
        atr_n: N, the ``atr_period``-bar Wilder ATR; None/NaN/0 when unknown.
        lot_size: Units per lot (0 or 1: whole units).
        point_value: Rupees per point per unit (1.0 on NSE/NFO).
        config: Capital and risk fraction.

    Returns:
        Units, a multiple of the lot; 0 when N is unknown.
    """
    if atr_n is None or not (math.isfinite(atr_n) and atr_n > 0.0):
        return 0
    return capped_quantity(atr_n * point_value, lot_size, config.risk_budget)


def _move(expected_move: float | str | None, price_change: float | str | None,
          config: RiskConfig) -> tuple[float, float, str]:
    """First non-zero move: (decimal, percent, source), magnitudes only."""
    for value, source in ((expected_move, MOVE_EXPECTED), (price_change, MOVE_PRICE_CHANGE),
                          (config.default_expected_move, MOVE_DEFAULT)):
        m = abs(normalise_expected_move(value))
        if m > 0.0:
            # The percent as given (1.5 stays 1.5, not 0.015 * 100 = 1.5000000000000002).
            return m, abs(float(value)), source  # type: ignore[arg-type]
    return 0.0, 0.0, MOVE_NONE


def risk_metrics(
    signal: str,
    last_price: float,
    expected_move: float | str | None,
    price_change: float | str | None,
    atr_n: float | None,
    lot_size: int,
    point_value: float,
    config: RiskConfig,
) -> RiskMetrics:
    """Risk metrics of one pattern hit (definitions in the module docstring).

    Args:
        signal: BULLISH/BUY/LONG, BEARISH/SELL/SHORT or NEUTRAL.
        last_price: Price the pattern fired on; finite and positive.
        expected_move: The pattern's expected move in percent (1.5 = 1.5 %), or None.
        price_change: The pattern's price change in percent, the fallback, or None.
        atr_n: N (the ``atr_period``-bar Wilder ATR), None/NaN/0 while unknown.
        lot_size: Units per lot (Kite's ``lot_size``: 0 for indices, 1 for equity).
        point_value: Rupees per point per unit (1.0 on NSE/NFO); finite and positive.
        config: Risk tunables.

    Returns:
        The :class:`RiskMetrics`.

    Raises:
        ValueError: On an unknown signal, a non-positive or non-finite ``last_price`` or
            ``point_value``, or a negative ``lot_size``.
    """
    direction = signal_direction(signal)
    _positive("last_price", last_price)
    _positive("point_value", point_value)
    if lot_size < 0:
        raise ValueError(f"lot_size must be >= 0, got {lot_size!r}")
    price = float(last_price)
    n = float(atr_n) if atr_n is not None else math.nan
    n_known = math.isfinite(n) and n > 0.0
    move, move_percent, source = _move(expected_move, price_change, config)
    if direction == 0:
        target = stop = price
        basis = STOP_NONE
        quantity = 0
    else:
        target = max(price * (1.0 + direction * move), 0.0)
        if n_known:
            distance = config.stop_atr_multiple * n
            basis = STOP_ATR
        else:
            distance = price * config.fallback_stop_percent / 100.0
            basis = STOP_FALLBACK
        stop = max(price - distance, 0.0) if direction > 0 else price + distance
        quantity = turtle_quantity(n if n_known else None, lot_size, point_value, config)
    stop_distance = abs(price - stop)
    reward_distance = abs(target - price)
    return RiskMetrics(
        signal=str(signal).strip().upper(),
        direction=direction,
        entry_price=price,
        expected_move=move,
        expected_move_percent=move_percent,
        move_source=source,
        target_price=target,
        stop_loss=stop,
        stop_basis=basis,
        atr_n=n if n_known else None,
        quantity=quantity,
        lot_size=max(int(lot_size), 1),
        stop_distance=stop_distance,
        reward_distance=reward_distance,
        risk_amount=quantity * stop_distance * point_value,
        reward_amount=quantity * reward_distance * point_value,
        rr_ratio=reward_distance / stop_distance if stop_distance > 0.0 else 0.0,
    )
