"""Option chain: chain-time ordering makes the result independent of arrival order."""

import math
import random
from dataclasses import replace
from datetime import date

import pytest
from vollib.black import black
from vollib.black.greeks import analytical as b76
from vollib.black_scholes import black_scholes

from aion.config import Settings
from aion.config.nse_calendar import NseCalendar
from aion.tables.chain import (
    CLOCK_END,
    KIND_CE,
    KIND_FUT,
    KIND_PE,
    KIND_SPOT,
    ChainInput,
    ChainParams,
    ChainState,
    Quote,
    offer,
)
from aion.tables.expiry import TradingCalendar
from aion.tables.timeutil import NS_PER_S, ist_wall_ns

CAL = TradingCalendar(NseCalendar.load())
PARAMS = ChainParams()
U = "NSE:NIFTY 50"
EXPIRY = "2025-11-25"
T0 = ist_wall_ns(2025, 11, 18, 9, 15)
STRIKES = [25800.0, 25850.0, 25900.0, 25950.0, 26000.0, 26050.0, 26100.0]


def quote(token, kind, strike, t, price, oi=0, volume=0):
    sym = U if kind == KIND_SPOT else f"NFO:NIFTY25N25{int(strike)}{kind}"
    return Quote(token, sym, kind, strike, "" if kind == KIND_SPOT else EXPIRY, t, price, oi,
                 volume)


def option_quotes(rng, t, price_of):
    """About half the chain quoted at ``t + 2``, ``price_of(flag, strike, years)`` each."""
    years = CAL.time_to_expiry(t + 2, date.fromisoformat(EXPIRY)).years
    qs = []
    for i, strike in enumerate(STRIKES):
        for kind, tok in ((KIND_CE, 100 + i), (KIND_PE, 200 + i)):
            if rng.random() < 0.5:
                price = round(price_of("c" if kind == KIND_CE else "p", strike, years), 2)
                qs.append(quote(tok, kind, strike, t + 2, max(price, 0.05),
                                oi=rng.randint(1000, 9000), volume=rng.randint(0, 10**6)))
    return tuple(qs)


def two_partitions(seed, n, level, members_of, price_of):
    """Partition 0 carries ``members_of(t, level)`` (a random walk), partition 1 about
    half the options, priced ``price_of(flag, level, strike, years)`` at 14 % vol."""
    rng = random.Random(seed)
    p0, p1 = [], []
    for k in range(n):
        t = T0 + k * 7 * NS_PER_S
        level += rng.uniform(-8, 8)
        p0.append(ChainInput(U, 0, k, t + 1000, (0, 1), members_of(t, level)))
        qs = option_quotes(rng, t, lambda flag, strike, years, x=level: price_of(
            flag, x, strike, years, 0.065, 0.14))
        p1.append(ChainInput(U, 1, k, t + 2000, (0, 1), qs))
    p0.append(ChainInput(U, 0, n, CLOCK_END, (0, 1)))
    p1.append(ChainInput(U, 1, n, CLOCK_END, (0, 1)))
    return p0, p1


def streams(seed):
    """Two source partitions: spot in partition 0, options in partition 1."""
    return two_partitions(seed, 40, 25930.0,
                          lambda t, spot: (quote(1, KIND_SPOT, 0, t, spot),), black_scholes)


def interleave(p0, p1, rng):
    a, b, out = list(p0), list(p1), []
    while a or b:
        src = a if (a and (not b or rng.random() < 0.5)) else b
        out.append(src.pop(0))
    return out


def run(items):
    st = ChainState(U)
    snaps = []
    for it in items:
        snaps.extend(offer(st, it, PARAMS, CAL))
    return st, snaps


@pytest.mark.parametrize("seed", range(5))
def test_any_interleaving_gives_identical_chain(seed):
    p0, p1 = streams(seed)
    ref_state, ref_snaps = run(p0 + p1)  # one partition entirely first
    assert ref_snaps and ref_snaps[-1].final
    rng = random.Random(seed)
    for _ in range(5):
        st, snaps = run(interleave(p0, p1, rng))
        assert snaps == ref_snaps
        assert st.to_bytes() == ref_state.to_bytes()


def test_redelivery_is_ignored_and_state_round_trips():
    p0, p1 = streams(7)
    ref_state, ref_snaps = run(p0 + p1)
    items = interleave(p0, p1, random.Random(1))
    dup = items[:10] + items[3:8] + items[10:]  # a group-by re-forward after a crash
    st, snaps = run(dup)
    assert snaps == ref_snaps and st.to_bytes() == ref_state.to_bytes()
    # Restoring mid-stream from the changelog bytes continues identically.
    st = ChainState(U)
    out = []
    for i, it in enumerate(items):
        out.extend(offer(st, it, PARAMS, CAL))
        if i % 9 == 0:
            st = ChainState.from_bytes(st.to_bytes())
    assert out == ref_snaps


def test_snapshot_fields_follow_their_definitions():
    p0, p1 = streams(3)
    st, snaps = run(p0 + p1)
    final = snaps[-1]
    spot = next(q for q in st.quotes.values() if q.kind == KIND_SPOT).price
    opts = [q for q in st.quotes.values() if q.kind in (KIND_CE, KIND_PE)]
    assert final.spot == spot
    assert final.atm_strike == min(STRIKES, key=lambda k: (abs(k - spot), k))
    ce = sum(q.oi for q in opts if q.kind == KIND_CE)
    pe = sum(q.oi for q in opts if q.kind == KIND_PE)
    assert final.pcr_oi == pytest.approx(pe / ce)
    atm = final.atm_strike
    by = {(q.strike, q.kind): q for q in opts}
    assert final.atm_straddle_premium == pytest.approx(
        by[(atm, KIND_CE)].price + by[(atm, KIND_PE)].price)
    for k in STRIKES:
        want = sum(by[(k, t)].volume for t in (KIND_CE, KIND_PE) if (k, t) in by)
        assert final.straddle_volume[str(int(k))] == want
    # Options were priced at 14 % vol: the solver finds it back (premiums rounded to 0.01).
    assert final.atm_iv == pytest.approx(0.14, abs=0.01)
    deltas = {(o.strike, o.type): o.delta for o in final.options}
    assert all(0 < deltas[k] < 1 for k in deltas if k[1] == KIND_CE and deltas[k] is not None)
    assert all(-1 < deltas[k] < 0 for k in deltas if k[1] == KIND_PE and deltas[k] is not None)


def test_nothing_applies_until_every_source_has_spoken():
    _, p1 = streams(2)
    st = ChainState(U)
    for it in p1[:-1]:
        assert offer(st, it, PARAMS, CAL) == []
    assert st.quotes == {} and len(st.pending) == len(p1) - 1


def test_params_take_the_option_tick_from_config():
    assert ChainParams().option_tick_size == 0.05
    assert ChainParams.from_mapping({"option_tick_size": 0.1}).option_tick_size == 0.1
    assert ChainParams.from_mapping(None).option_tick_size == 0.05
    assert ChainParams.from_mapping(Settings.load(env={}).get("chain")) == ChainParams()


def one_minute_chain(ce_price, pe_price, params=PARAMS, strike=24_000.0, spot=26_000.0):
    """Spot, a deep-ITM call and an OTM put at one strike, then end of stream."""
    items = [
        ChainInput(U, 0, 0, T0 + 1000, (0,), (
            quote(1, KIND_SPOT, 0, T0, spot),
            quote(100, KIND_CE, strike, T0, ce_price, oi=10),
            quote(200, KIND_PE, strike, T0, pe_price, oi=10),
        )),
        ChainInput(U, 0, 1, CLOCK_END, (0,)),
    ]
    st = ChainState(U)
    snaps = []
    for it in items:
        snaps.extend(offer(st, it, params, CAL))
    return {o.type: o for o in snaps[-1].options}, st


def test_deep_itm_option_without_time_value_shows_the_reason():
    spot, strike = 26_000.0, 24_000.0
    years = CAL.time_to_expiry(T0, date.fromisoformat(EXPIRY)).years
    intrinsic = spot - strike * math.exp(-PARAMS.risk_free_rate * years)
    for params in (PARAMS, ChainParams(option_tick_size=0.0)):
        # Premium == discounted intrinsic: no time value, with or without the tick rule.
        opts, st = one_minute_chain(intrinsic, 3.0, params)
        ce = opts[KIND_CE]
        assert ce.reason == "no_time_value"
        assert all(getattr(ce, g) is None for g in ("iv", "delta", "gamma", "theta", "vega", "rho"))
        assert opts[KIND_PE].reason == "" and opts[KIND_PE].delta < 0
        assert ChainState.from_bytes(st.to_bytes()).greeks == st.greeks
    # Within half a 0.05 tick of the intrinsic: no time value at NSE's tick only.
    opts, _ = one_minute_chain(intrinsic + 0.02, 3.0)
    assert opts[KIND_CE].reason == "no_time_value" and opts[KIND_CE].iv is None
    opts, _ = one_minute_chain(intrinsic + 0.02, 3.0, ChainParams(option_tick_size=0.0))
    assert opts[KIND_CE].reason == "" and opts[KIND_CE].iv > 0
    # A full tick of time value is a volatility.
    opts, _ = one_minute_chain(intrinsic + 0.05, 3.0)
    assert opts[KIND_CE].reason == "" and 0 < opts[KIND_CE].delta <= 1


# ------------------------------------------------------------------ underlying from futures

FUT_NEAR = Quote(2, "NFO:NIFTY25NOVFUT", KIND_FUT, 0.0, "2025-11-25", T0, 0.0, 0, 0)
FUT_FAR = Quote(3, "NFO:NIFTY25DECFUT", KIND_FUT, 0.0, "2025-12-30", T0, 0.0, 0, 0)


def futures_stream(seed, *, with_spot=False):
    """Partition 0: the near and far futures (and the spot if asked); partition 1: options
    priced with Black-76 on the near future."""
    def members(t, fut):
        near = [replace(FUT_NEAR, event_ns=t, price=fut),
                replace(FUT_FAR, event_ns=t, price=round(fut + 150.0, 2))]
        return tuple(near + ([quote(1, KIND_SPOT, 0, t, round(fut - 120.0, 2))]
                             if with_spot else []))

    return two_partitions(seed, 30, 25990.0, members, black)


def test_without_spot_ticks_the_nearest_future_prices_the_chain():
    p0, p1 = futures_stream(5)
    st, snaps = run(interleave(p0, p1, random.Random(1)))
    final = snaps[-1]
    fut = st.quotes[FUT_NEAR.token]
    assert (final.underlying_source, final.underlying_symbol) == ("future", FUT_NEAR.symbol)
    assert final.spot is None
    assert final.underlying_price == fut.price
    assert final.atm_strike == min(STRIKES, key=lambda k: (abs(k - fut.price), k))
    assert final.atm_iv == pytest.approx(0.14, abs=0.01)
    checked = 0
    for o in final.options:
        if o.iv is None:
            continue
        flag = "c" if o.type == KIND_CE else "p"
        t = CAL.time_to_expiry(max(o.event_ns, fut.event_ns), date.fromisoformat(o.expiry))
        args = (flag, fut.price, o.strike, t.years, PARAMS.risk_free_rate, o.iv)
        assert o.price == pytest.approx(black(*args), abs=1e-6)
        assert o.delta == pytest.approx(b76.delta(*args), rel=1e-9, abs=1e-12)
        assert o.gamma == pytest.approx(b76.gamma(*args), rel=1e-9)
        assert o.vega == pytest.approx(b76.vega(*args), rel=1e-9)
        # vollib's theta is per calendar day (/365); ours per trading day (/252).
        assert o.theta * 252 == pytest.approx(b76.theta(*args) * 365, rel=1e-9)
        assert o.rho == pytest.approx(b76.rho(*args), rel=1e-6)
        checked += 1
    assert checked >= 10
    # Every snapshot with options was priced off the future, none before it was seen.
    assert {s.underlying_source for s in snaps} == {"future"}


def test_with_spot_ticks_the_spot_prices_the_chain():
    p0, p1 = futures_stream(5, with_spot=True)
    st, snaps = run(p0 + p1)
    final = snaps[-1]
    spot = st.quotes[1]
    assert (final.underlying_source, final.underlying_symbol) == ("spot", U)
    assert final.spot == final.underlying_price == spot.price
    assert final.atm_strike == min(STRIKES, key=lambda k: (abs(k - spot.price), k))
    o = next(o for o in final.options if o.iv is not None)
    t = CAL.time_to_expiry(max(o.event_ns, spot.event_ns), date.fromisoformat(o.expiry))
    flag = "c" if o.type == KIND_CE else "p"
    assert o.price == pytest.approx(
        black_scholes(flag, spot.price, o.strike, t.years, PARAMS.risk_free_rate, o.iv),
        abs=1e-6)


def test_no_underlying_at_all_is_marked_none():
    _, p1 = futures_stream(5)
    _, snaps = run([*p1, ChainInput(U, 0, 0, CLOCK_END, (0, 1))])
    assert snaps[-1].underlying_source == "none"
    assert snaps[-1].underlying_price is None and snaps[-1].atm_strike is None
    assert all(o.delta is None and o.reason == "" for o in snaps[-1].options)
