"""Round-trip NSE charges: hand-worked examples of Zerodha's calculator formula, properties.

Each example writes out the calculator's arithmetic (brokerage per order, STT on the sell
value, NSE transaction charge and SEBI fee on turnover, GST on brokerage + transaction +
SEBI, stamp duty on the buy value) with the rates of the module docstring.
"""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from aion.config.settings import DEFAULT_FILE
from aion.tables.validation.costs import (
    CostBreakdown,
    CostModel,
    InstrumentClass,
    RateSet,
    instrument_class_of,
    round_trip_cost,
)

AFTER = dt.date(2025, 1, 15)   # 2024-10-01 rates
BEFORE = dt.date(2024, 9, 30)  # 2023-04-01 rates
MODEL = CostModel()


def _parts(b: CostBreakdown) -> tuple[float, ...]:
    return (b.brokerage, b.stt, b.exchange, b.sebi, b.gst, b.stamp)


def test_intraday_equity_calculator_example() -> None:
    # Zerodha calculator's default intraday example: buy 1000, sell 1100, quantity 400.
    # buy value 400,000; sell value 440,000; turnover 840,000.
    b = round_trip_cost(InstrumentClass.EQUITY, 1000.0, 1100.0, 400, MODEL, trade_date=AFTER)
    brokerage = 20 + 20                   # 0.03 % = 120 and 132, both capped at Rs 20
    stt = 440_000 * 0.00025               # 110
    exchange = 840_000 * 0.0000297        # 24.948
    sebi = 840_000 * 10 / 10_000_000      # 0.84
    gst = 0.18 * (40 + 24.948 + 0.84)     # 0.18 * 65.788 = 11.84184
    stamp = 400_000 * 0.00003             # 12
    assert _parts(b) == pytest.approx((brokerage, stt, exchange, sebi, gst, stamp))
    assert b.total == pytest.approx(199.62984)  # 40 + 110 + 24.948 + 0.84 + 11.84184 + 12


def test_intraday_equity_brokerage_below_cap() -> None:
    # buy 100 x 100 = 10,000 -> 0.03 % = 3.00; sell 100 x 101 = 10,100 -> 3.03 (both < Rs 20).
    b = round_trip_cost(InstrumentClass.EQUITY, 100.0, 101.0, 100, MODEL, trade_date=AFTER)
    assert b.brokerage == pytest.approx(6.03)
    assert b.stt == pytest.approx(2.525)            # 10,100 * 0.025 %
    assert b.exchange == pytest.approx(0.59697)     # 20,100 * 0.00297 %
    assert b.sebi == pytest.approx(0.0201)          # 20,100 / 1e7 * 10
    assert b.gst == pytest.approx(1.1964726)        # 0.18 * (6.03 + 0.59697 + 0.0201)
    assert b.stamp == pytest.approx(0.3)            # 10,000 * 0.003 %
    assert b.total == pytest.approx(10.6685426)


def test_futures_after_and_before_the_2024_10_change() -> None:
    # NIFTY future, 75 units, buy 24,000 sell 24,100: buy 1,800,000, sell 1,807,500,
    # turnover 3,607,500; brokerage capped: 20 + 20.
    b = round_trip_cost(InstrumentClass.FUTURE, 24_000.0, 24_100.0, 75, MODEL, trade_date=AFTER)
    assert _parts(b) == pytest.approx((
        40.0,
        1_807_500 * 0.0002,             # STT 0.02 %: 361.5
        3_607_500 * 0.0000173,          # 0.00173 %: 62.40975
        3.6075,                         # 3,607,500 / 1e7 * 10
        0.18 * (40 + 62.40975 + 3.6075),  # 19.083105
        1_800_000 * 0.00002,            # stamp 0.002 %: 36
    ))
    assert b.total == pytest.approx(522.600355)
    old = round_trip_cost(InstrumentClass.FUTURE, 24_000.0, 24_100.0, 75, MODEL,
                          trade_date=BEFORE)
    assert old.stt == pytest.approx(225.9375)       # 1,807,500 * 0.0125 %
    assert old.exchange == pytest.approx(68.5425)   # 3,607,500 * 0.0019 %


def test_options_on_premium_each_period() -> None:
    # 75 units, premium bought at 100, sold at 110: buy 7,500, sell 8,250, turnover 15,750.
    b = round_trip_cost(InstrumentClass.OPTION, 100.0, 110.0, 75, MODEL, trade_date=AFTER)
    assert _parts(b) == pytest.approx((
        40.0,                               # flat Rs 20 per order
        8.25,                               # 8,250 * 0.1 %
        5.517225,                           # 15,750 * 0.03503 %
        0.01575,                            # 15,750 / 1e7 * 10
        0.18 * (40 + 5.517225 + 0.01575),   # 8.1959355
        0.225,                              # 7,500 * 0.003 %
    ))
    old = round_trip_cost(InstrumentClass.OPTION, 100.0, 110.0, 75, MODEL, trade_date=BEFORE)
    assert (old.stt, old.exchange) == pytest.approx((5.15625, 7.875))  # 0.0625 %, 0.05 %
    new = round_trip_cost(InstrumentClass.OPTION, 100.0, 110.0, 75, MODEL,
                          trade_date=dt.date(2026, 4, 1))
    assert new.stt == pytest.approx(12.375)         # 8,250 * 0.15 %


def test_rate_change_takes_effect_on_its_date() -> None:
    assert MODEL.rates_on(dt.date(2024, 9, 30)).stt_futures_sell_pct == 0.0125
    assert MODEL.rates_on(dt.date(2024, 10, 1)).stt_futures_sell_pct == 0.02
    assert MODEL.rates_on(dt.date(2026, 3, 31)).stt_options_sell_pct == 0.1
    assert MODEL.rates_on(dt.date(2026, 4, 1)).stt_options_sell_pct == 0.15
    # Before the first period: the first period (documented).
    assert MODEL.rates_on(dt.date(2020, 1, 1)) is MODEL.schedule[0]


def test_short_round_trip_sells_at_entry_and_buys_at_exit() -> None:
    # Short: sell at 110 (entry), buy back at 100 (exit) = the long round trip 100 -> 110.
    short = round_trip_cost(InstrumentClass.OPTION, 110.0, 100.0, 75, MODEL, trade_date=AFTER,
                            direction=-1)
    long = round_trip_cost(InstrumentClass.OPTION, 100.0, 110.0, 75, MODEL, trade_date=AFTER)
    assert short == long
    # A long losing trade 110 -> 100 pays STT on 100 x 75, not 110 x 75.
    losing = round_trip_cost(InstrumentClass.OPTION, 110.0, 100.0, 75, MODEL, trade_date=AFTER)
    assert losing.stt == pytest.approx(7.5)


def test_yaml_section_is_the_dataclass_defaults() -> None:
    section = yaml.safe_load(DEFAULT_FILE.read_text())["costs"]
    assert CostModel.from_mapping(section) == CostModel()


def test_from_mapping_overrides_and_rejects() -> None:
    assert CostModel.from_mapping({"brokerage_cap": 15}).brokerage_cap == 15.0
    assert CostModel.from_mapping(None) == CostModel()
    with pytest.raises(ValueError, match="unknown costs"):
        CostModel.from_mapping({"brokerage": 20})
    with pytest.raises(ValueError, match=">= 0"):
        CostModel.from_mapping({"gst_pct": -1})
    entry = {"effective_from": "2024-10-01", "stt_equity_sell_pct": 0.025,
             "stt_futures_sell_pct": 0.02, "stt_options_sell_pct": 0.1,
             "txn_equity_pct": 0.00297, "txn_futures_pct": 0.00173, "txn_options_pct": 0.03503}
    one = CostModel.from_mapping({"schedule": [entry]})
    assert one.schedule == (RateSet.from_mapping(entry),)
    with pytest.raises(ValueError, match="lacks"):
        RateSet.from_mapping({k: v for k, v in entry.items() if k != "txn_options_pct"})
    with pytest.raises(ValueError, match="increasing"):
        CostModel.from_mapping({"schedule": [entry, entry]})


def test_instrument_class_of_kite_types() -> None:
    assert instrument_class_of("EQ") is InstrumentClass.EQUITY
    assert instrument_class_of("FUT") is InstrumentClass.FUTURE
    assert instrument_class_of("CE") is instrument_class_of("PE") is InstrumentClass.OPTION
    with pytest.raises(ValueError):
        instrument_class_of("INDEX")


def test_rejects_bad_inputs() -> None:
    with pytest.raises(ValueError):
        round_trip_cost(InstrumentClass.EQUITY, -1.0, 1.0, 1, MODEL, trade_date=AFTER)
    with pytest.raises(ValueError):
        round_trip_cost(InstrumentClass.EQUITY, 1.0, float("nan"), 1, MODEL, trade_date=AFTER)
    with pytest.raises(ValueError):
        round_trip_cost(InstrumentClass.EQUITY, 1.0, 1.0, -1, MODEL, trade_date=AFTER)


prices = st.floats(min_value=0.05, max_value=100_000, allow_nan=False)
classes = st.sampled_from(list(InstrumentClass))
dates = st.dates(min_value=dt.date(2022, 1, 1), max_value=dt.date(2027, 12, 31))


@given(classes, prices, prices, st.integers(0, 100_000), st.integers(0, 100_000), dates,
       st.sampled_from([-1, 0, 1]))
def test_costs_nonnegative_and_monotone_in_quantity(
        cls: InstrumentClass, entry: float, exit_: float, q1: int, q2: int, day: dt.date,
        direction: int) -> None:
    lo, hi = sorted((q1, q2))
    small = round_trip_cost(cls, entry, exit_, lo, MODEL, trade_date=day, direction=direction)
    big = round_trip_cost(cls, entry, exit_, hi, MODEL, trade_date=day, direction=direction)
    assert min(_parts(small)) >= 0 and min(_parts(big)) >= 0
    for a, b in zip(_parts(small), _parts(big), strict=True):
        assert a <= b * (1 + 1e-12)
    assert small.total <= big.total * (1 + 1e-12)
    if lo == 0:
        assert small.total == 0
