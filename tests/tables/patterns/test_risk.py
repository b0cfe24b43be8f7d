"""Risk metrics: expected move, direction-aware target, ATR stop, turtle size, reward/risk.

Expected numbers are derived by hand from the definitions (arithmetic in the comments),
not read back from the code.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from aion.config.settings import DEFAULT_FILE, Settings
from aion.tables.patterns.mathematics import bounded_confidence, protect_outliers
from aion.tables.patterns.risk import (
    MOVE_DEFAULT,
    MOVE_EXPECTED,
    MOVE_NONE,
    MOVE_PRICE_CHANGE,
    STOP_ATR,
    STOP_FALLBACK,
    STOP_NONE,
    RiskConfig,
    capped_quantity,
    risk_metrics,
    signal_direction,
    turtle_quantity,
)

CFG = RiskConfig()  # capital 1,000,000; 1 % per N -> budget 10,000; stop 2N
EPS = 1e-9


def approx(x: float) -> object:
    return pytest.approx(x, rel=1e-12, abs=EPS)


# ---- the reference's RiskManager example ------------------------------------------------

REFERENCE_PATTERN = {
    "symbol": "NSE:NIFTY 50",
    "pattern": "volume_spike",
    "signal": "BULLISH",
    "confidence": 0.85,
    "last_price": 19500.0,
    "expected_move": 1.5,  # 1.5 % expected move
    "volume_ratio": 2.5,
}


def _reference(atr_n: float | None) -> object:
    p = REFERENCE_PATTERN
    # NIFTY 50 is an index: Kite lot_size 0 -> sized in whole units; point value 1 INR.
    return risk_metrics(p["signal"], p["last_price"], p["expected_move"], None, atr_n, 0, 1.0,
                        CFG)


def test_reference_example_expected_move_and_target() -> None:
    m = _reference(atr_n=12.5)
    # The reference prints "Expected move: 1.50%" and "Target price: ₹19792.50":
    # 19500 * 1.5 / 100 = 292.50; 19500 + 292.50 = 19792.50.
    assert f"{m.expected_move_percent:.2f}" == "1.50"
    assert f"{m.target_price:.2f}" == "19792.50"
    assert m.expected_move == approx(0.015)
    assert m.move_source == MOVE_EXPECTED
    # Confidence and volume ratio of the same hit pass the mathematics unchanged.
    assert bounded_confidence(REFERENCE_PATTERN["confidence"]) == 0.85
    assert protect_outliers(REFERENCE_PATTERN["volume_ratio"]) == 2.5


def test_reference_example_with_atr_by_hand() -> None:
    m = _reference(atr_n=12.5)  # N = 12.5 index points (a 1-minute NIFTY ATR)
    assert m.direction == 1 and m.signal == "BULLISH"
    # Stop 2N below: 19500 - 2 * 12.5 = 19475.00; stop distance 25.
    assert m.stop_basis == STOP_ATR
    assert m.stop_loss == approx(19475.0)
    assert m.stop_distance == approx(25.0)
    # Turtle unit: 0.01 * 1,000,000 / (12.5 * 1) = 10,000 / 12.5 = 800 units (lot 0 -> 1).
    assert m.quantity == 800 and m.lot_size == 1
    # Risk at the stop: 800 * 25 = 20,000 (= 2N * 1 % = 2 % of capital).
    assert m.risk_amount == approx(20_000.0)
    # Reward at the target: 800 * 292.5 = 234,000.
    assert m.reward_distance == approx(292.5)
    assert m.reward_amount == approx(234_000.0)
    # Reward/risk: 292.5 / 25 = 11.7 (= 234,000 / 20,000).
    assert m.rr_ratio == approx(11.7)


def test_reference_example_before_atr_is_known() -> None:
    m = _reference(atr_n=None)
    # Fallback stop 1 % of the price: 19500 * 0.99 = 19305.00; distance 195.
    assert m.stop_basis == STOP_FALLBACK and m.atr_n is None
    assert m.stop_loss == approx(19305.0)
    # rr = 292.5 / 195 = 1.5; nothing to size by: quantity 0, amounts 0.
    assert m.rr_ratio == approx(1.5)
    assert (m.quantity, m.risk_amount, m.reward_amount) == (0, 0.0, 0.0)


# ---- stop side --------------------------------------------------------------------------


def test_buy_stop_is_below_the_price() -> None:
    # RELIANCE 2450, N = 15: stop 2450 - 2 * 15 = 2420; target 2450 * 1.02 = 2499.
    m = risk_metrics("BUY", 2450.0, 2.0, None, 15.0, 1, 1.0, CFG)
    assert m.stop_loss == approx(2420.0) and m.stop_loss < 2450.0
    assert m.target_price == approx(2499.0) and m.target_price > 2450.0
    # 10,000 / 15 = 666.67 -> 666 shares; rr = 49 / 30.
    assert m.quantity == 666
    assert m.rr_ratio == approx(49.0 / 30.0)


def test_sell_stop_is_above_the_price() -> None:
    # Same numbers short: stop 2450 + 2 * 15 = 2480; target 2450 * 0.98 = 2401.
    m = risk_metrics("SELL", 2450.0, 2.0, None, 15.0, 1, 1.0, CFG)
    assert m.direction == -1
    assert m.stop_loss == approx(2480.0) and m.stop_loss > 2450.0
    assert m.target_price == approx(2401.0) and m.target_price < 2450.0
    assert m.quantity == 666
    assert m.risk_amount == approx(666 * 30.0)   # 19,980
    assert m.reward_amount == approx(666 * 49.0)  # 32,634


def test_fallback_stop_sides_before_atr() -> None:
    # N unknown: 1 % of 2000 = 20 -> BUY 1980, SELL 2020.
    assert risk_metrics("LONG", 2000.0, 1.0, None, None, 1, 1.0, CFG).stop_loss == approx(1980.0)
    assert risk_metrics("SHORT", 2000.0, 1.0, None, None, 1, 1.0, CFG).stop_loss == approx(2020.0)


# ---- turtle sizing and lots -------------------------------------------------------------


def test_fno_quantity_is_rounded_down_to_the_lot() -> None:
    # NIFTY future, lot 50 (2022), price 17,500, N = 37:
    # unit = 10,000 / 37 = 270.27 -> 5 lots of 50 = 250 (6 lots: 300 * 37 = 11,100 > 10,000).
    m = risk_metrics("BULLISH", 17500.0, 0.5, None, 37.0, 50, 1.0, CFG)
    assert m.quantity == 250 and m.quantity % 50 == 0 and m.lot_size == 50
    assert m.quantity * 37.0 <= 10_000.0 < (m.quantity + 50) * 37.0


def test_nifty_lot_50_at_2022() -> None:
    # Price 2022 (a stock future), lot 50, N = 12: 10,000 / 12 = 833.3 -> 16 lots = 800.
    assert turtle_quantity(12.0, 50, 1.0, CFG) == 800


def test_less_than_one_lot_is_zero() -> None:
    # N = 250: 10,000 / 250 = 40 units < one lot of 50 -> 0.
    assert turtle_quantity(250.0, 50, 1.0, CFG) == 0


def test_cash_equity_floors_to_whole_shares() -> None:
    # 10,000 / 7.3 = 1369.86 -> 1369 shares (lot 1).
    assert turtle_quantity(7.3, 1, 1.0, CFG) == 1369


def test_point_value_scales_the_unit() -> None:
    # point value 25: 10,000 / (8 * 25) = 50 units.
    assert turtle_quantity(8.0, 1, 25.0, CFG) == 50


@pytest.mark.parametrize("n", [None, 0.0, -3.0, math.nan, math.inf])
def test_unknown_n_gives_zero_quantity(n: float | None) -> None:
    assert turtle_quantity(n, 50, 1.0, CFG) == 0
    m = risk_metrics("BUY", 100.0, 1.0, None, n, 50, 1.0, CFG)
    assert m.quantity == 0 and m.stop_basis == STOP_FALLBACK and m.atr_n is None


def test_float_rounding_never_exceeds_the_budget() -> None:
    # 10,000 / (10,000 / 145) evaluates to 145.0 but 145 * (10,000 / 145) = 10,000.000000000002:
    # the guard takes one unit off.
    rpu = 10_000.0 / 145
    assert 145 * rpu > 10_000.0  # the witness is real
    assert capped_quantity(rpu, 1, 10_000.0) == 144


def test_straddle_cap_with_max_risk_fraction() -> None:
    # 3 % of 1,000,000 = 30,000 at risk; stop at 100 % of a 120-rupee combined premium per unit:
    # 30,000 / 120 = 250 units -> 3 lots of 75 = 225.
    assert CFG.max_risk_amount == approx(30_000.0)
    assert capped_quantity(120.0, 75, CFG.max_risk_amount) == 225


def test_capped_quantity_refuses_negative_lot() -> None:
    with pytest.raises(ValueError, match="lot_size"):
        capped_quantity(1.0, -1, 100.0)


# ---- direction and expected move --------------------------------------------------------


@pytest.mark.parametrize(
    ("signal", "direction"),
    [("BULLISH", 1), ("BUY", 1), ("LONG", 1), ("BEARISH", -1), ("SELL", -1), ("SHORT", -1),
     ("NEUTRAL", 0), (" bullish ", 1), ("Sell", -1)],
)
def test_signal_direction(signal: str, direction: int) -> None:
    assert signal_direction(signal) == direction


@pytest.mark.parametrize("signal", ["", "UP", "SELL_STRADDLE", "HOLD"])
def test_unknown_signal_raises(signal: str) -> None:
    with pytest.raises(ValueError, match="unknown signal"):
        signal_direction(signal)
    with pytest.raises(ValueError, match="unknown signal"):
        risk_metrics(signal, 100.0, 1.0, None, 1.0, 1, 1.0, CFG)


def test_neutral_has_no_directional_target_or_stop() -> None:
    m = risk_metrics("NEUTRAL", 100.0, 1.5, None, 2.0, 1, 1.0, CFG)
    assert (m.direction, m.target_price, m.stop_loss, m.stop_basis) == (0, 100.0, 100.0, STOP_NONE)
    assert (m.quantity, m.rr_ratio, m.risk_amount, m.reward_amount) == (0, 0.0, 0.0, 0.0)
    assert m.expected_move_percent == 1.5  # still reported


def test_price_change_is_the_fallback_and_only_its_magnitude_counts() -> None:
    # expected_move 0 -> price_change -1.2 %: BEARISH target 1000 * (1 - 0.012) = 988.
    m = risk_metrics("BEARISH", 1000.0, 0.0, -1.2, None, 1, 1.0, CFG)
    assert m.move_source == MOVE_PRICE_CHANGE
    assert m.expected_move_percent == 1.2
    assert m.target_price == approx(988.0)
    # Same price change for a BULLISH hit: 1000 * 1.012 = 1012.
    assert risk_metrics("BULLISH", 1000.0, None, -1.2, None, 1, 1.0, CFG).target_price == \
        approx(1012.0)


def test_string_moves_from_redis() -> None:
    m = risk_metrics("BUY", 200.0, "2.5", None, None, 1, 1.0, CFG)
    assert m.target_price == approx(205.0)  # 200 * 1.025


def test_default_move_then_none() -> None:
    cfg = RiskConfig(default_expected_move=0.5)
    m = risk_metrics("BUY", 400.0, None, math.nan, None, 1, 1.0, cfg)
    assert m.move_source == MOVE_DEFAULT and m.target_price == approx(402.0)  # 400 * 1.005
    # Default 0.0 (the shipped one): no move at all -> target at the price, rr 0.
    m = risk_metrics("BUY", 400.0, None, None, 4.0, 1, 1.0, CFG)
    assert m.move_source == MOVE_NONE and m.target_price == 400.0
    assert m.rr_ratio == 0.0 and m.reward_amount == 0.0
    assert m.stop_loss == approx(392.0)  # still a stop: 400 - 2 * 4


def test_floors_at_zero() -> None:
    # A 150 % bearish move would give 100 * (1 - 1.5) = -50: floored at 0.
    assert risk_metrics("SELL", 100.0, 150.0, None, 1.0, 1, 1.0, CFG).target_price == 0.0
    # A BUY stop 2N below a price smaller than 2N: floored at 0, distance = the price.
    m = risk_metrics("BUY", 10.0, 1.0, None, 8.0, 1, 1.0, CFG)
    assert m.stop_loss == 0.0 and m.stop_distance == 10.0


@pytest.mark.parametrize(
    ("price", "point_value", "lot"),
    [(0.0, 1.0, 1), (-1.0, 1.0, 1), (math.nan, 1.0, 1), (100.0, 0.0, 1), (100.0, 1.0, -1)],
)
def test_bad_inputs_raise(price: float, point_value: float, lot: int) -> None:
    with pytest.raises(ValueError):
        risk_metrics("BUY", price, 1.0, None, 1.0, lot, point_value, CFG)


# ---- config -----------------------------------------------------------------------------


def test_yaml_risk_block_is_the_default_config() -> None:
    raw = Settings.load(path=DEFAULT_FILE, env={}).get("risk")
    cfg = RiskConfig.from_mapping(raw)
    assert cfg == RiskConfig()
    assert (cfg.capital, cfg.risk_per_trade, cfg.max_risk_fraction, cfg.atr_period,
            cfg.stop_atr_multiple) == (1_000_000.0, 0.01, 0.03, 20, 2.0)
    assert cfg.risk_budget == approx(10_000.0)


def test_from_mapping_overrides_and_rejects_unknown() -> None:
    assert RiskConfig.from_mapping({"capital": "500000"}).capital == 500_000.0
    assert RiskConfig.from_mapping(None) == RiskConfig()
    with pytest.raises(ValueError, match="unknown risk setting"):
        RiskConfig.from_mapping({"captial": 1.0})
    with pytest.raises(ValueError, match="atr_period"):
        RiskConfig.from_mapping({"atr_period": 20.5})


@pytest.mark.parametrize(
    "kwargs",
    [{"capital": 0.0}, {"risk_per_trade": 0.0}, {"risk_per_trade": 1.5},
     {"max_risk_fraction": math.nan}, {"atr_period": 0}, {"stop_atr_multiple": -2.0},
     {"default_expected_move": -1.0}, {"fallback_stop_percent": 0.0}],
)
def test_invalid_config_raises(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        RiskConfig(**kwargs)  # type: ignore[arg-type]


def test_config_is_frozen() -> None:
    with pytest.raises(AttributeError):
        CFG.capital = 1.0  # type: ignore[misc]


# ---- properties -------------------------------------------------------------------------

directional = st.sampled_from(["BULLISH", "BUY", "LONG", "BEARISH", "SELL", "SHORT"])
prices = st.floats(min_value=0.05, max_value=100_000.0)
moves = st.one_of(st.none(), st.floats(min_value=-50.0, max_value=50.0))
atrs = st.one_of(st.none(), st.just(math.nan), st.floats(min_value=1e-3, max_value=5_000.0))
lots = st.sampled_from([0, 1, 15, 25, 50, 75, 1800])
point_values = st.sampled_from([1.0, 0.5, 25.0])
configs = st.builds(
    RiskConfig,
    capital=st.floats(min_value=1e4, max_value=1e9),
    risk_per_trade=st.floats(min_value=1e-4, max_value=0.05),
    stop_atr_multiple=st.floats(min_value=0.5, max_value=5.0),
)


@given(directional, prices, moves, moves, atrs, lots, point_values, configs)
def test_risk_properties(signal, price, move, change, n, lot, pv, cfg) -> None:
    m = risk_metrics(signal, price, move, change, n, lot, pv, cfg)
    d = 1 if signal in ("BULLISH", "BUY", "LONG") else -1
    assert m.direction == d
    # Target on the signal's side (strictly, when the move is above float resolution: a
    # move under 2**-53 leaves price * (1 + m) == price), stop on the other side.
    assert (m.target_price - price) * d >= 0
    if m.expected_move >= 1e-9:
        assert (m.target_price - price) * d > 0
    if m.expected_move == 0.0:
        assert m.target_price == price
    assert (m.stop_loss - price) * d < 0
    assert m.stop_loss >= 0.0 and m.target_price >= 0.0
    # Sizing within the risk budget, whole lots, and not one lot short of it.
    budget = cfg.risk_per_trade * cfg.capital
    step = max(lot, 1)
    assert m.quantity >= 0 and m.quantity % step == 0
    if m.atr_n is None:
        assert m.quantity == 0
    else:
        assert m.quantity * m.atr_n * pv <= budget
        assert (m.quantity + step) * m.atr_n * pv > budget * (1 - 1e-12)
        # The ATR stop is stop_atr_multiple * N away (unless floored at 0 for a BUY), to
        # the rounding of ``price -/+ distance`` (half an ulp of the price, each way).
        if m.stop_loss > 0.0:
            assert m.stop_distance == pytest.approx(cfg.stop_atr_multiple * m.atr_n, rel=1e-9,
                                                    abs=2 * price * 2**-52)
    assert m.rr_ratio >= 0.0
    if m.quantity > 0 and m.risk_amount > 0:
        # The reference's formula, reward_amount / risk_amount, agrees.
        assert m.rr_ratio == pytest.approx(m.reward_amount / m.risk_amount, rel=1e-9)


@given(st.floats(min_value=1e-6, max_value=1e6), st.sampled_from([0, 1, 25, 75]),
       st.floats(min_value=0.0, max_value=1e8))
def test_capped_quantity_property(rpu: float, lot: int, budget: float) -> None:
    q = capped_quantity(rpu, lot, budget)
    step = max(lot, 1)
    assert q >= 0 and q % step == 0
    assert q * rpu <= budget
    assume(budget > 0)
    assert (q + step) * rpu > budget * (1 - 1e-12)
