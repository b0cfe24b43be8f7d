"""Greeks of option alerts, priced by the chain in chain-time order (tables.alert_greeks)."""

from __future__ import annotations

import json
import math
from datetime import date

import pytest
from test_chain import CAL, EXPIRY, PARAMS, T0, U, quote
from vollib.black_scholes import black_scholes
from vollib.black_scholes.greeks import analytical as bs

from aion.tables.alert_greeks import REASON_NO_UNDERLYING, AlertRef
from aion.tables.chain import (
    CLOCK_END,
    KIND_CE,
    KIND_PE,
    KIND_SPOT,
    ChainInput,
    ChainState,
    offer,
)
from aion.tables.records import AlertGreeks, ChainSnapshot

SPOT = 26_010.0
SIGMA = 0.15
T_ALERT = T0 + 5 * 60 * 10**9  # 09:20:00, the alert's bar end


def premium(flag: str, strike: float, t_ns: int, spot: float = SPOT) -> float:
    years = CAL.time_to_expiry(t_ns, date.fromisoformat(EXPIRY)).years
    return black_scholes(flag, spot, strike, years, PARAMS.risk_free_rate, SIGMA)


def ref(alert_id: str, kind: str, strike: float, t_ns: int, price: float) -> AlertRef:
    return AlertRef(alert_id, quote(100 if kind == KIND_CE else 200, kind, strike, t_ns, price))


def spot_input(offset: int, clock: int, t: int, price: float = SPOT) -> ChainInput:
    return ChainInput(U, 0, offset, clock, (0, 1), (quote(1, KIND_SPOT, 0, t, price),))


def alert_input(offset: int, clock: int, *alerts: AlertRef) -> ChainInput:
    return ChainInput(U, 1, offset, clock, (0, 1), alerts=alerts)


def run(items: list[ChainInput]) -> tuple[ChainState, list[AlertGreeks], list]:
    st = ChainState(U)
    out = [r for it in items for r in offer(st, it, PARAMS, CAL)]
    return st, [r for r in out if isinstance(r, AlertGreeks)], out


def ends() -> list[ChainInput]:
    return [ChainInput(U, 0, 99, CLOCK_END, (0, 1)), ChainInput(U, 1, 99, CLOCK_END, (0, 1))]


@pytest.mark.parametrize(("kind", "flag", "strike"), [(KIND_CE, "c", 26_000.0),
                                                      (KIND_PE, "p", 25_900.0)])
def test_alert_greeks_match_vollib_black_scholes(kind: str, flag: str, strike: float) -> None:
    price = premium(flag, strike, T_ALERT)
    spot_t = T_ALERT - 2 * 10**9
    _, got, _ = run([spot_input(0, T_ALERT - 10**9, spot_t),
                     alert_input(0, T_ALERT + 10**9, ref("X:volume_spike:1", kind, strike,
                                                         T_ALERT, price)), *ends()])
    (g,) = got
    assert (g.alert_id, g.underlying, g.ts_ns, g.option_price) == (
        "X:volume_spike:1", U, T_ALERT, price)
    assert (g.underlying_price, g.underlying_source, g.reason) == (SPOT, "spot", "")
    years = CAL.time_to_expiry(T_ALERT, date.fromisoformat(EXPIRY)).years
    args = (flag, SPOT, strike, years, PARAMS.risk_free_rate, SIGMA)
    assert g.iv == pytest.approx(SIGMA, abs=1e-6)
    assert g.delta == pytest.approx(bs.delta(*args), rel=1e-6)
    assert g.gamma == pytest.approx(bs.gamma(*args), rel=1e-6)
    assert g.vega == pytest.approx(bs.vega(*args), rel=1e-6)
    # vollib's theta is per calendar day (/365); the chain's per trading day (/252).
    assert g.theta * 252 == pytest.approx(bs.theta(*args) * 365, rel=1e-6)
    assert g.rho == pytest.approx(bs.rho(*args), rel=1e-5)


def test_the_alert_is_priced_in_chain_time_whatever_the_arrival_order() -> None:
    # The spot moves at 09:19:59 (clock before the alert's input) and again at 09:20:05
    # (after it): the alert sees the first move, however the two partitions interleave.
    price = premium("c", 26_000.0, T_ALERT)
    p0 = [spot_input(0, T_ALERT - 5 * 10**9, T_ALERT - 6 * 10**9, 25_990.0),
          spot_input(1, T_ALERT - 10**9, T_ALERT - 10**9, SPOT),
          spot_input(2, T_ALERT + 5 * 10**9, T_ALERT + 5 * 10**9, 26_200.0)]
    p1 = [alert_input(0, T_ALERT + 10**9, ref("A", KIND_CE, 26_000.0, T_ALERT, price))]
    orders = [p0 + p1, p1 + p0, [p0[0], p1[0], p0[1], p0[2]]]
    results = [run([*items, *ends()])[1] for items in orders]
    assert results[0] == results[1] == results[2]
    (g,) = results[0]
    assert g.underlying_price == SPOT and g.iv == pytest.approx(SIGMA, abs=1e-6)


def test_pricing_an_alert_leaves_the_chain_unchanged() -> None:
    price = premium("c", 26_000.0, T_ALERT)
    opt = quote(100, KIND_CE, 26_000.0, T_ALERT - 3 * 10**9, price * 1.1)
    base = [spot_input(0, T_ALERT - 10**9, T_ALERT - 2 * 10**9),
            ChainInput(U, 1, 0, T_ALERT - 10**9 + 1, (0, 1), (opt,))]
    with_alert = [*base, alert_input(1, T_ALERT + 10**9,
                                     ref("A", KIND_CE, 26_000.0, T_ALERT, price)), *ends()]
    without = [*base, alert_input(1, T_ALERT + 10**9), *ends()]
    st_a, got, out_a = run(with_alert)
    st_b, _, out_b = run(without)
    assert len(got) == 1 and st_a.to_bytes() == st_b.to_bytes()
    assert [r for r in out_a if isinstance(r, ChainSnapshot)] == out_b


def test_no_underlying_yet_gives_the_reason() -> None:
    _, got, _ = run([alert_input(0, T_ALERT + 10**9, ref("A", KIND_CE, 26_000.0, T_ALERT,
                                                         120.0)), *ends()])
    (g,) = got
    assert g.reason == REASON_NO_UNDERLYING and g.underlying_price is None
    assert (g.iv, g.delta, g.gamma, g.theta, g.vega, g.rho) == (None,) * 6


def test_no_time_value_gives_the_chains_reason() -> None:
    # A deep ITM call at its discounted intrinsic has no IV (the chain's own rule).
    years = CAL.time_to_expiry(T_ALERT, date.fromisoformat(EXPIRY)).years
    intrinsic = SPOT - 24_000.0 * math.exp(-PARAMS.risk_free_rate * years)
    _, got, _ = run([spot_input(0, T_ALERT - 10**9, T_ALERT - 10**9),
                     alert_input(0, T_ALERT + 10**9,
                                 ref("A", KIND_CE, 24_000.0, T_ALERT, intrinsic)), *ends()])
    assert got[0].reason == "no_time_value" and got[0].delta is None


def test_alerts_of_the_end_of_stream_input_are_priced_before_the_final_snapshot() -> None:
    price = premium("p", 25_900.0, T_ALERT)
    end = ChainInput(U, 1, 99, CLOCK_END, (0, 1),
                     alerts=(ref("E", KIND_PE, 25_900.0, T_ALERT, price),))
    _, got, out = run([spot_input(0, T_ALERT - 10**9, T_ALERT - 10**9),
                       ChainInput(U, 0, 99, CLOCK_END, (0, 1)), end])
    assert [g.alert_id for g in got] == ["E"] and got[0].iv == pytest.approx(SIGMA, abs=1e-6)
    # After every other input, before the final snapshot.
    assert out[-2] == got[0] and isinstance(out[-1], ChainSnapshot) and out[-1].final


def test_chain_input_wire_form_carries_alerts_and_old_payloads_decode() -> None:
    item = alert_input(3, T_ALERT, ref("A", KIND_CE, 26_000.0, T_ALERT, 120.5))
    assert ChainInput.from_json(item.to_json()) == item
    old = json.loads(spot_input(0, T0, T0).to_json())
    assert "alerts" not in old  # an input without alerts keeps the old form
    assert ChainInput.from_json(json.dumps(old).encode()).alerts == ()
    bad = json.loads(item.to_json())
    bad["alerts"] = [["A", "not a quote"]]
    with pytest.raises(ValueError, match="not a chain input"):
        ChainInput.from_json(json.dumps(bad).encode())
