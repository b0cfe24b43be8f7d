"""NSE round-trip trading costs (buy + sell), as Zerodha's brokerage calculator adds them.

Source of the defaults: Zerodha's published charges (https://zerodha.com/charges) and its
brokerage calculator (https://zerodha.com/brokerage-calculator), rates as listed from
2024-10-01 (the NSE/SEBI "uniform charges" circular and the Finance Act 2024 STT change),
read in 2026-12; the 2026-04-01 STT rates are the Finance Act 2026's (Budget speech of
2026-02-01), which Zerodha applies to trades on or after that date.

For one round trip of ``quantity`` units, bought at ``B`` and sold at ``S`` (for a short,
the sale is the entry and the purchase the exit), with buy value ``b = B * quantity``,
sell value ``s = S * quantity`` and turnover ``b + s`` (for options all of these are
premium values):

* **brokerage**: per executed order, so twice: intraday equity and futures
  ``min(cap, brokerage_pct % of the order's value)`` each (Rs 20 or 0.03 %, whichever is
  lower); options a flat ``options_brokerage_per_order`` each (Rs 20);
* **STT**: on the sell value only: intraday equity 0.025 %; futures 0.0125 % before
  2024-10-01, 0.02 % from then, 0.05 % from 2026-04-01; options (on premium) 0.0625 %
  before 2024-10-01, 0.1 % from then, 0.15 % from 2026-04-01;
* **exchange transaction charges** (NSE) on turnover: equity 0.00322 % before
  2024-10-01 and 0.00297 % from then; futures 0.0019 % then 0.00173 %; options (premium)
  0.05 % then 0.03503 %;
* **SEBI turnover fee**: Rs 10 per crore (1e7) of turnover;
* **GST**: 18 % of (brokerage + exchange transaction charges + SEBI fee);
* **stamp duty**: on the buy value only: intraday equity 0.003 %, futures 0.002 %,
  options 0.003 % (unchanged since the 2020-07-01 uniform stamp duty).

The statutory rates that changed are a schedule of :class:`RateSet` periods; a trade uses
the last period whose ``effective_from`` is on or before its (IST) trade date. A date
before the first period uses the first period (the model knows no older rates).

What is not certain, and how the model resolves it:

* The pre-2024-10 transaction charges (0.00322 %, 0.0019 %, 0.05 %) are Zerodha's page of
  2024; NSE's earlier revisions (0.00325 % / 0.00345 %, 0.002 %, 0.053 %) are not modelled,
  so the first period also stands for dates before 2023-04-01, when F&O STT was also lower
  (0.01 % futures, 0.05 % options).
* NSE's Investor Protection Fund levy (Rs 10/crore on equity and futures turnover,
  Rs 50/crore on options premium) is left out; some copies of Zerodha's table fold it into
  the transaction charge (0.00307 %, 0.00183 %, 0.03553 %). It is at most 1e-4 % of
  turnover (5e-4 % for options).
* Contract notes round STT and stamp duty to the rupee; this model does not, so costs
  stay continuous in price and quantity (the difference is under Rs 1 per leg).
* Exercise/assignment STT on options held to expiry, DP charges and delivery rates are
  out of scope: the model is for intraday round trips only.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

CRORE = 10_000_000
"""Rupees in a crore (the unit of the SEBI fee)."""


class InstrumentClass(StrEnum):
    """What is traded, which decides the rates (intraday product throughout)."""

    EQUITY = "equity"
    FUTURE = "future"
    OPTION = "option"


_KITE_TYPES: dict[str, InstrumentClass] = {
    "EQ": InstrumentClass.EQUITY,
    "FUT": InstrumentClass.FUTURE,
    "CE": InstrumentClass.OPTION,
    "PE": InstrumentClass.OPTION,
}


def instrument_class_of(instrument_type: str) -> InstrumentClass:
    """The cost class of a Kite instrument type.

    Args:
        instrument_type: Kite's ``instrument_type`` (``EQ``, ``FUT``, ``CE``, ``PE``).

    Returns:
        The class.

    Raises:
        ValueError: For a type with no cost class (e.g. an index, which is not traded).
    """
    try:
        return _KITE_TYPES[instrument_type]
    except KeyError:
        raise ValueError(f"no cost class for instrument type {instrument_type!r} "
                         f"(known: {sorted(_KITE_TYPES)})") from None


@dataclass(frozen=True, slots=True)
class RateSet:
    """Statutory rates in force from a date on (all in percent of the value they apply to).

    Attributes:
        effective_from: First trade date (IST) the rates apply to.
        stt_equity_sell_pct: STT on the sell value of intraday equity.
        stt_futures_sell_pct: STT on the sell value of futures.
        stt_options_sell_pct: STT on the sell premium of options.
        txn_equity_pct: NSE transaction charge on equity turnover.
        txn_futures_pct: NSE transaction charge on futures turnover.
        txn_options_pct: NSE transaction charge on options premium turnover.
    """

    effective_from: _dt.date
    stt_equity_sell_pct: float
    stt_futures_sell_pct: float
    stt_options_sell_pct: float
    txn_equity_pct: float
    txn_futures_pct: float
    txn_options_pct: float

    def __post_init__(self) -> None:
        for f in fields(self)[1:]:
            _check_rate(f.name, getattr(self, f.name))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> RateSet:
        """Build a rate set from a mapping (one entry of the ``costs.schedule`` YAML list).

        Args:
            data: Every field of the class; ``effective_from`` as ``YYYY-MM-DD`` or a date.

        Returns:
            The rate set.

        Raises:
            ValueError: On missing, unknown or invalid fields.
        """
        names = [f.name for f in fields(cls)]
        _check_keys("costs.schedule entry", data, set(names), required=True)
        start = data["effective_from"]
        if not isinstance(start, _dt.date):
            start = _dt.date.fromisoformat(str(start))
        return cls(start, *(float(data[n]) for n in names[1:]))


def _default_schedule() -> tuple[RateSet, ...]:
    return (
        RateSet(_dt.date(2023, 4, 1), 0.025, 0.0125, 0.0625, 0.00322, 0.0019, 0.05),
        RateSet(_dt.date(2024, 10, 1), 0.025, 0.02, 0.1, 0.00297, 0.00173, 0.03503),
        RateSet(_dt.date(2026, 4, 1), 0.025, 0.05, 0.15, 0.00297, 0.00173, 0.03503),
    )


@dataclass(frozen=True, slots=True)
class CostModel:
    """Zerodha intraday charges (the ``costs:`` YAML section; see the module docstring).

    Attributes:
        brokerage_pct: Brokerage of an equity or futures order, percent of its value.
        brokerage_cap: Upper bound of that brokerage per order, rupees.
        options_brokerage_per_order: Flat brokerage of an options order, rupees.
        sebi_per_crore: SEBI turnover fee, rupees per crore of turnover.
        gst_pct: GST on brokerage + transaction charges + SEBI fee, percent.
        stamp_equity_buy_pct: Stamp duty on the buy value, intraday equity, percent.
        stamp_futures_buy_pct: Stamp duty on the buy value, futures, percent.
        stamp_options_buy_pct: Stamp duty on the buy premium, options, percent.
        schedule: Statutory rate periods, in increasing ``effective_from`` order.
    """

    brokerage_pct: float = 0.03
    brokerage_cap: float = 20.0
    options_brokerage_per_order: float = 20.0
    sebi_per_crore: float = 10.0
    gst_pct: float = 18.0
    stamp_equity_buy_pct: float = 0.003
    stamp_futures_buy_pct: float = 0.002
    stamp_options_buy_pct: float = 0.003
    schedule: tuple[RateSet, ...] = field(default_factory=_default_schedule)

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name != "schedule":
                _check_rate(f.name, getattr(self, f.name))
        if not self.schedule:
            raise ValueError("costs.schedule needs at least one rate set")
        starts = [r.effective_from for r in self.schedule]
        if any(b <= a for a, b in itertools.pairwise(starts)):
            raise ValueError(f"costs.schedule must be in strictly increasing date order, "
                             f"got {[d.isoformat() for d in starts]}")

    def rates_on(self, trade_date: _dt.date) -> RateSet:
        """The statutory rates in force on a trade date.

        Args:
            trade_date: IST trade date.

        Returns:
            The last period starting on or before the date (the first period for an
            earlier date).
        """
        chosen = self.schedule[0]
        for rates in self.schedule:
            if rates.effective_from <= trade_date:
                chosen = rates
        return chosen

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> CostModel:
        """Build the model from the ``costs:`` YAML section.

        Args:
            data: Any of the scalar fields, and ``schedule`` (a list of :class:`RateSet`
                mappings that replaces the whole default schedule); missing keys keep the
                defaults; None means all defaults.

        Returns:
            The model.

        Raises:
            ValueError: On unknown keys or invalid values.
        """
        data = dict(data or {})
        names = {f.name for f in fields(cls)}
        _check_keys("costs", data, names, required=False)
        kwargs: dict[str, Any] = {k: float(v) for k, v in data.items() if k != "schedule"}
        if data.get("schedule") is not None:
            kwargs["schedule"] = tuple(RateSet.from_mapping(r) for r in data["schedule"])
        return cls(**kwargs)


@dataclass(frozen=True, slots=True)
class CostBreakdown:
    """The charges of one round trip, in rupees.

    Attributes:
        brokerage: Brokerage of both orders.
        stt: Securities transaction tax (sell side).
        exchange: NSE transaction charges (both sides).
        sebi: SEBI turnover fee (both sides).
        gst: GST on brokerage + exchange + SEBI.
        stamp: Stamp duty (buy side).
    """

    brokerage: float
    stt: float
    exchange: float
    sebi: float
    gst: float
    stamp: float

    @property
    def total(self) -> float:
        """All charges together, rupees."""
        return self.brokerage + self.stt + self.exchange + self.sebi + self.gst + self.stamp


def round_trip_cost(instrument_class: InstrumentClass, entry_price: float, exit_price: float,
                    quantity: int, model: CostModel, *, trade_date: _dt.date,
                    direction: int = 1) -> CostBreakdown:
    """Charges of entering at one price and exiting at another, both sides included.

    Args:
        instrument_class: What is traded.
        entry_price: Entry price (premium for options), rupees per unit.
        exit_price: Exit price, rupees per unit.
        quantity: Units traded on each side (shares, or lots x lot size), >= 0.
        model: The charges.
        trade_date: IST trade date (picks the statutory rates in force).
        direction: +1 long (buy first, sell at the exit), -1 short (sell first, buy back
            at the exit). 0 is costed as +1.

    Returns:
        The charges, each >= 0.

    Raises:
        ValueError: On a negative or non-finite price or a negative quantity.
    """
    for name, value in (("entry_price", entry_price), ("exit_price", exit_price)):
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite price >= 0, got {value!r}")
    if quantity < 0:
        raise ValueError(f"quantity must be >= 0, got {quantity}")
    buy_price, sell_price = (exit_price, entry_price) if direction < 0 else (entry_price,
                                                                              exit_price)
    buy = buy_price * quantity
    sell = sell_price * quantity
    turnover = buy + sell
    rates = model.rates_on(trade_date)
    if instrument_class is InstrumentClass.OPTION:
        brokerage = 2 * model.options_brokerage_per_order if quantity > 0 else 0.0
        stt_pct, txn_pct, stamp_pct = (rates.stt_options_sell_pct, rates.txn_options_pct,
                                       model.stamp_options_buy_pct)
    else:
        per_order = model.brokerage_pct / 100
        brokerage = (min(model.brokerage_cap, buy * per_order)
                     + min(model.brokerage_cap, sell * per_order))
        if instrument_class is InstrumentClass.FUTURE:
            stt_pct, txn_pct, stamp_pct = (rates.stt_futures_sell_pct, rates.txn_futures_pct,
                                           model.stamp_futures_buy_pct)
        else:
            stt_pct, txn_pct, stamp_pct = (rates.stt_equity_sell_pct, rates.txn_equity_pct,
                                           model.stamp_equity_buy_pct)
    exchange = turnover * txn_pct / 100
    sebi = turnover * model.sebi_per_crore / CRORE
    return CostBreakdown(
        brokerage=brokerage,
        stt=sell * stt_pct / 100,
        exchange=exchange,
        sebi=sebi,
        gst=(brokerage + exchange + sebi) * model.gst_pct / 100,
        stamp=buy * stamp_pct / 100,
    )


def _check_rate(name: str, value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
        raise ValueError(f"costs: {name} must be a finite number >= 0, got {value!r}")


def _check_keys(where: str, data: Mapping[str, Any], known: set[str], *,
                required: bool) -> None:
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"unknown {where} setting(s) {unknown}; known: {sorted(known)}")
    missing = sorted(known - set(data))
    if required and missing:
        raise ValueError(f"{where} lacks {missing}")
